"""Checks for assignment 5, "How long does a word last?" (chapters/assignments.md).

Each numeric item passes when ``cl.course.check`` accepts it (tolerance: three standard errors
of the difference between your run and the reference run, plus formatting slack; see
collapse_lib/course.py). The figure must exist; it (20 points) and the paragraph (30 points)
are graded by hand with the rubric.
"""

import pytest

import collapse_lib as cl
from conftest import has_figure

ASSIGNMENT = "A5"
#: points of each automatically checked item (the rubric's numeric part)
POINTS = {
    "a5-diffusion": 10,  # (a) The diffusion approximation,
    "a5-exact": 15,  # (b) Exact and simulated,
    "a5-mean-fits": 15,  # (b) Exact and simulated,
    "a5-rare-fixes": 10,  # (c) Which word wins
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
