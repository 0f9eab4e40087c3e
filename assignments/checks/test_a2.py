"""Checks for assignment 2, "A model that widens: kernel density refits" (chapters/assignments.md).

Each numeric item passes when ``cl.course.check`` accepts it (tolerance: three standard errors
of the difference between your run and the reference run, plus formatting slack; see
collapse_lib/course.py). The figure must exist; it (20 points) and the paragraph (20 points)
are graded by hand with the rubric.
"""

from checks import (  # noqa: F401  (collected here, run with this module's POINTS)
    test_every_answer_is_an_item_of_this_assignment,
    test_item,
    test_the_figure_is_there,
)

ASSIGNMENT = "A2"
#: points of each automatically checked item (the rubric's numeric part)
POINTS = {
    "a2-fixed-point": 15,  # (a) The fixed point,
    "a2-var-theory": 12.5,  # (b) Closed form against simulation,
    "a2-var-sim": 12.5,  # (b) Closed form against simulation,
    "a2-silverman-growth": 20,  # (c) A bandwidth that follows the data
}
