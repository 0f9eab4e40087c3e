"""Checks for assignment 3, "How many words survive?" (chapters/assignments.md).

Each numeric item passes when ``cl.course.check`` accepts it (tolerance: three standard errors
of the difference between your run and the reference run, plus formatting slack; see
collapse_lib/course.py). The figure must exist; it (20 points) and the paragraph (30 points)
are graded by hand with the rubric.
"""

from checks import (  # noqa: F401  (collected here, run with this module's POINTS)
    test_every_answer_is_an_item_of_this_assignment,
    test_item,
    test_the_figure_is_there,
)

ASSIGNMENT = "A3"
#: points of each automatically checked item (the rubric's numeric part)
POINTS = {
    "a3-survive-first": 15,  # (a) The first fit,
    "a3-het-gen30": 15,  # (b) Heterozygosity,
    "a3-survive-replace": 10,  # (c) Thirty generations later,
    "a3-survive-accumulate": 10,  # (c) Thirty generations later
}
