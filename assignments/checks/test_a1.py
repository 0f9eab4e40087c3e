"""Checks for assignment 1, "The source experiment, stress-tested" (chapters/assignments.md).

Each numeric item passes when ``cl.course.check`` accepts it (tolerance: three standard errors
of the difference between your run and the reference run, plus formatting slack; see
collapse_lib/course.py). The figure must exist; it (20 points) and the paragraph (25 points)
are graded by hand with the rubric.
"""

from checks import (  # noqa: F401  (collected here, run with this module's POINTS)
    test_every_answer_is_an_item_of_this_assignment,
    test_item,
    test_the_figure_is_there,
)

ASSIGNMENT = "A1"
#: points of each automatically checked item (the rubric's numeric part)
POINTS = {
    "a1-world-tail": 5,  # (a) The world's tail,
    "a1-model0-tail": 10,  # (b) The first model's tail,
    "a1-empty-gen1-predicted": 10,  # (c) Predict, then measure, an empty tail,
    "a1-empty-gen1": 10,  # (c) Predict, then measure, an empty tail,
    "a1-empty-gen8-replace": 10,  # (d) After eight generations,
    "a1-empty-gen8-anchor": 10,  # (d) After eight generations
}
