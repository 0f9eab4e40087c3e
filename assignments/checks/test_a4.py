"""Checks for assignment 4, "Bring your own model" (chapters/assignments.md).

Each numeric item passes when ``cl.course.check`` accepts it (tolerance: three standard errors
of the difference between your run and the reference run, plus formatting slack; see
collapse_lib/course.py). The figure must exist; it (20 points) and the paragraph (40 points)
are graded by hand with the rubric.
"""

from checks import (  # noqa: F401  (collected here, run with this module's POINTS)
    test_every_answer_is_an_item_of_this_assignment,
    test_item,
    test_the_figure_is_there,
)

ASSIGNMENT = "A4"
#: points of each automatically checked item (the rubric's numeric part)
POINTS = {
    "a4-world-tail": 10,  # (a) The world's tail,
    "a4-tail-replace": 15,  # (b) Fifteen generations later,
    "a4-tail-anchor": 15,  # (b) Fifteen generations later
}
