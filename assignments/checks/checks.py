"""The checks every assignment shares; each test_a<n>.py imports them and sets ASSIGNMENT and
POINTS (label -> points of each automatically checked item). conftest.py parametrizes
``label`` over the importing module's POINTS."""

import collapse_lib as cl
from conftest import has_figure


def test_item(label, answers, request):
    points = request.module.POINTS
    assert label in answers, f"{label} is missing from the submitted answers"
    result = cl.course.check(label, answers[label], quiet=True)
    assert result, f"{label} ({points[label]:g} points): {result}"


def test_every_answer_is_an_item_of_this_assignment(answers, request):
    points = request.module.POINTS
    assert set(answers) == set(points), f"unexpected or missing labels: {set(answers) ^ set(points)}"


def test_the_figure_is_there(notebook):
    assert has_figure(notebook), "the notebook has no figure output (20 points, graded by hand)"
