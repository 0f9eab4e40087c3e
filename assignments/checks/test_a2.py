"""Checks for assignment 2, "A model that widens: kernel density refits" (chapters/assignments.md).

Each numeric item passes when ``cl.course.check`` accepts it (tolerance: three standard errors
of the difference between your run and the reference run, plus formatting slack; see
collapse_lib/course.py). The figure must exist; it (20 points) and the paragraph (20 points)
are graded by hand with the rubric.
"""

import pytest

import collapse_lib as cl
from conftest import has_figure

ASSIGNMENT = "A2"
#: points of each automatically checked item (the rubric's numeric part)
POINTS = {
    "a2-fixed-point": 15,  # (a) The fixed point,
    "a2-var-theory": 12.5,  # (b) Closed form against simulation,
    "a2-var-sim": 12.5,  # (b) Closed form against simulation,
    "a2-silverman-growth": 20,  # (c) A bandwidth that follows the data
}


@pytest.mark.parametrize("label", sorted(POINTS))
def test_item(label, answers):
    assert label in answers, f"{label} is missing from the submitted answers"
    result = cl.course.check(label, answers[label], quiet=True)
    assert result, f"{label} ({POINTS[label]:g} points): {result}"


def test_every_answer_is_an_item_of_this_assignment(answers):
    assert set(answers) == set(POINTS), f"unexpected or missing labels: {set(answers) ^ set(POINTS)}"


def test_the_figure_is_there(notebook):
    assert has_figure(notebook), "the notebook has no figure output (20 points, graded by hand)"
