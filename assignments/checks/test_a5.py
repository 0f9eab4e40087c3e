"""Checks for assignment 5, "How long does a word last?" (chapters/assignments.md).

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

ASSIGNMENT = "A5"
#: points of each automatically checked item (the rubric's numeric part)
POINTS = {
    "a5-diffusion": 10,  # (a) The diffusion approximation,
    "a5-exact": 15,  # (b) Exact and simulated,
    "a5-mean-fits": 15,  # (b) Exact and simulated,
    "a5-rare-fixes": 10,  # (c) Which word wins
}
