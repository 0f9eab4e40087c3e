"""The chapters' exercise checks agree with the numbers the chapters' solutions quote.

collapse_lib/studies/chapter_exercises.py registers, for every chapter exercise whose answer
is one number fixed by the exercise, the reference answer in cl.course; ``CHAPTER_ANSWERS``
names the ``{eval}`` expression through which the chapter's solution quotes it. Here the value
stored in the notebook when it was last executed (``user_expressions`` in the markdown cell's
metadata; nbval recomputes it) is read back and must pass the check: within the check's
tolerance, or within half a unit of the last digit the page displays, whichever is larger.
(The generic tests of every registered label, reference passes and a value ten standard
errors or three tolerances away fails, are in tests/test_course.py.)
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import collapse_lib as cl
from collapse_lib.studies.chapter_exercises import CHAPTER_ANSWERS

CHAPTERS = Path(__file__).resolve().parents[1] / "chapters"


def stored_value(notebook, expression):
    """The text the page shows for ``expression`` (as stored at the last execution)."""
    nb = json.loads((CHAPTERS / notebook).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        for item in cell.get("metadata", {}).get("user_expressions", []):
            if item["expression"] == expression:
                text = item["result"]["data"]["text/plain"]
                return ast.literal_eval(text) if text[:1] in "'\"" else text
    raise AssertionError(f"{notebook}: no stored result for the expression {expression}")


def display_slack(text):
    """Half a unit in the last digit shown: '0.67' -> 0.005, '1.8e-05' -> 5e-07, '176' -> 0.5."""
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 0.5 * 10.0 ** (int(exponent or 0) - decimals)


def test_every_chapter_label_is_registered_and_every_ex_label_is_mapped():
    registered = set(cl.course.labels("ex-"))
    assert set(CHAPTER_ANSWERS) <= registered
    unmapped = {label for label in registered if label not in CHAPTER_ANSWERS}
    # registered answers the chapters do not quote (asked for, but given in words)
    assert unmapped <= {"ex-tails-source-claim-n"}, unmapped


def test_every_mapped_label_names_a_real_exercise():
    for label, (notebook, _) in CHAPTER_ANSWERS.items():
        text = (CHAPTERS / notebook).read_text(encoding="utf-8")
        base = re.sub(r"-(real-share|p|n|4n|five)$", "", label)
        assert f":label: {base}" in text, f"{label}: no exercise {base!r} in {notebook}"


@pytest.mark.parametrize("label", sorted(CHAPTER_ANSWERS))
def test_the_chapter_solution_passes_its_check(label):
    notebook, expression = CHAPTER_ANSWERS[label]
    text = stored_value(notebook, expression)
    value = float(text)
    reference, _ = cl.course.reference(label)
    allowed = max(cl.course.tolerance(label), display_slack(text))
    assert abs(value - reference) <= allowed, (
        f"{label}: {notebook} quotes {text} for {expression}, the check's answer is {reference:.6g} "
        f"(allowed {allowed:.3g})")


def test_display_slack():
    assert display_slack("0.67") == pytest.approx(0.005)
    assert display_slack("1.8e-05") == pytest.approx(5e-7)
    assert display_slack("176") == 0.5
    assert display_slack("2e+10") == pytest.approx(5e9)
