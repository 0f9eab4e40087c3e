"""Checks for assignment 1, "The source experiment, stress-tested" (chapters/assignments.md).

Each numeric item passes when ``cl.course.check`` accepts it (tolerance: three standard errors
of the difference between your run and the reference run, plus formatting slack; see
collapse_lib/course.py). The figure must exist; it (20 points) and the paragraph (25 points)
are graded by hand with the rubric.
"""

import pytest

import collapse_lib as cl
from conftest import has_figure

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


@pytest.mark.parametrize("label", sorted(POINTS))
def test_item(label, answers):
    assert label in answers, f"{label} is missing from the submitted answers"
    result = cl.course.check(label, answers[label], quiet=True)
    assert result, f"{label} ({POINTS[label]:g} points): {result}"


def test_every_answer_is_an_item_of_this_assignment(answers):
    assert set(answers) == set(POINTS), f"unexpected or missing labels: {set(answers) ^ set(POINTS)}"


def test_the_figure_is_there(notebook):
    assert has_figure(notebook), "the notebook has no figure output (20 points, graded by hand)"
