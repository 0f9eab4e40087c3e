"""cl.course: every registered exercise passes its own check, a wrong value fails, bad input
is refused; and every assignment's reference solution passes the assignment's checks.

The tolerance is ``3 sqrt(2) SE + slack`` (collapse_lib/course.py): a value ten standard
errors away must fail, so the formatting slack of a simulated entry has to stay below about
five of its standard errors; an exact entry (SE 0) must refuse a value three slacks away.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import collapse_lib as cl

ROOT = Path(__file__).resolve().parents[1]
LABELS = cl.course.labels()


def test_the_problem_set_and_every_assignment_are_registered():
    assert len(cl.course.labels("ps-")) >= 8
    for n in range(1, 6):
        assert cl.course.labels(f"a{n}-"), f"assignment {n} has no registered item"


@pytest.mark.parametrize("label", LABELS)
def test_reference_passes_its_own_check(label):
    value, se = cl.course.reference(label)
    assert math.isfinite(value) and se >= 0
    assert cl.course.check(label, value, quiet=True)
    # a correct answer given to the significant figures asked for passes too
    e = cl.course.entry(label)
    rounded = float(f"{value:.{e.sig}g}") if e.slack is None else round(value)
    assert cl.course.check(label, rounded, quiet=True), f"{label}: {value} rounded to {rounded} fails"


@pytest.mark.parametrize("label", LABELS)
def test_a_value_ten_standard_errors_away_fails(label):
    value, se = cl.course.reference(label)
    tol = cl.course.tolerance(label)
    if se > 0:
        away = 10 * se
        assert tol < away, f"{label}: tolerance {tol} is not below 10 SE = {away}; ask for more figures (sig)"
    else:
        away = 3 * tol
    for wrong in (value + away, value - away):
        result = cl.course.check(label, wrong, quiet=True)
        assert not result and "not right" in str(result)


def test_the_check_says_right_or_wrong_in_one_line_and_reveals_only_on_request(capsys):
    value, _ = cl.course.reference("ps-no-tail")
    assert cl.course.check("ps-no-tail", value)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "right" in out and f"{value:.6g}" not in out
    assert not cl.course.check("ps-no-tail", value + 0.01)
    out = capsys.readouterr().out
    assert "not right" in out and f"{value:.6g}" not in out
    cl.course.check("ps-no-tail", value + 0.01, reveal=True)
    assert f"{value:.6g}" in capsys.readouterr().out


def test_the_tolerance_is_three_root_two_standard_errors_plus_slack():
    value, se = cl.course.reference("a5-mean-fits")
    slack = 0.5 * 10 ** (math.floor(math.log10(abs(value))) - 2)
    assert cl.course.tolerance("a5-mean-fits") == pytest.approx(3 * math.sqrt(2) * se + slack, rel=1e-8)


def test_a_numpy_scalar_answer_is_accepted():
    value, _ = cl.course.reference("ps-refit-var-mle")
    assert cl.course.check("ps-refit-var-mle", np.float64(value), quiet=True)
    assert cl.course.check("ps-refit-var-mle", np.array(value), quiet=True)


@pytest.mark.parametrize("label", ["ps-nope", "", "a9-anything", "PS-NO-TAIL"])
def test_unknown_labels_are_refused_with_a_clear_message(label):
    with pytest.raises(ValueError, match="not a registered exercise"):
        cl.course.check(label, 1.0)


def test_a_non_string_label_is_refused():
    with pytest.raises(TypeError, match="label must be a string"):
        cl.course.check(3, 1.0)


@pytest.mark.parametrize("answer", ["0.5", None, [0.5], np.array([0.5, 0.6]), True, 1 + 2j])
def test_non_numeric_answers_are_refused(answer):
    with pytest.raises(TypeError, match="answer must be a real number"):
        cl.course.check("ps-no-tail", answer)


@pytest.mark.parametrize("answer", [float("nan"), float("inf")])
def test_non_finite_answers_are_refused(answer):
    with pytest.raises(ValueError, match="finite"):
        cl.course.check("ps-no-tail", answer)


def test_register_refuses_a_label_twice_and_bad_settings():
    with pytest.raises(ValueError, match="already registered"):
        cl.course.register("ps-no-tail", "x", "y")(lambda: (0.0, 0.0))
    with pytest.raises(ValueError, match="sig"):
        cl.course.register("zz-new", "x", "y", sig=0)
    with pytest.raises(ValueError, match="slack"):
        cl.course.register("zz-new", "x", "y", slack=-1)
    for label in ("", "  ", " zz-new", 3):
        with pytest.raises(ValueError, match="label"):
            cl.course.register(label, "x", "y")
    assert "zz-new" not in cl.course.labels()


def test_check_and_helpers_refuse_malformed_input():
    with pytest.raises(TypeError, match="reveal"):
        cl.course.check("ps-no-tail", 0.5, reveal="yes", quiet=True)
    with pytest.raises(TypeError, match="quiet"):
        cl.course.check("ps-no-tail", 0.5, quiet=1)
    with pytest.raises(ValueError, match="x"):
        cl.course.mean_se([1.0])                      # a standard error needs two values
    with pytest.raises(ValueError, match="x"):
        cl.course.median_se([1.0, np.nan])
    with pytest.raises(TypeError, match="flags"):
        cl.course.share_se(["yes", "no"])
    assert cl.course.share_se([True, False, True, True])[0] == 0.75


def test_submit_prints_the_answers_line(capsys):
    value, _ = cl.course.reference("a2-fixed-point")
    out = cl.course.submit("A2", {"a2-fixed-point": np.float64(value)})
    line = capsys.readouterr().out.strip()
    assert line.startswith("COURSE-ANSWERS A2 ")
    assert json.loads(line.split(" ", 2)[2]) == out == {"a2-fixed-point": value}
    with pytest.raises(ValueError, match="fill in"):
        cl.course.submit("A2", {"a2-fixed-point": None})
    with pytest.raises(ValueError, match="not a registered"):
        cl.course.submit("A2", {"a2-nope": 1.0})


def test_the_closed_forms_behind_the_assignments():
    from collapse_lib.studies import exercises as ex
    # KDE loop: the fixed point of E[V] = (M-1)/M E[V] + h^2 is M h^2
    assert ex.kde_expected_var(10_000, 100, 0.2) == pytest.approx(4.0, rel=1e-6)
    # the Markov chain's mean absorption time approaches the diffusion value as M grows
    gap = [abs(ex.wright_fisher_mean_fits(0.2, M) / ex.kimura_mean_time(0.2, M) - 1) for M in (20, 80)]
    assert gap[1] < gap[0] < 0.1
    # the cut-law error tends to the cut-off mass as T grows
    p = ex.PROBLEMS["zipf"]
    plateau = cl.theory.zipf_tail_mass(p["k"], p["beta"], K=p["K"])
    assert ex.zipf_cut_error(10**7, p["k"], p["K"], p["beta"]) == pytest.approx(plateau, rel=1e-9)


# ----------------------------------------------------------------------------- assignments
SOLUTIONS = sorted((ROOT / "assignments" / "solutions").glob("A*.ipynb"))


def test_every_assignment_has_a_starter_a_check_and_a_reference_solution():
    starters = sorted((ROOT / "assignments").glob("A*.ipynb"))
    assert 4 <= len(starters) <= 6
    for starter in starters:
        n = starter.name[1]
        assert (ROOT / "assignments" / "checks" / f"test_a{n}.py").is_file(), f"no check for {starter.name}"
        assert (ROOT / "assignments" / "solutions" / starter.name).is_file(), f"no solution for {starter.name}"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.name for p in SOLUTIONS])
def test_reference_solution_passes_its_assignment_checks(solution, tmp_path):
    """make check-assignment on the reference solution: executed, then its checks pass."""
    n = solution.name[1]
    proc = subprocess.run(
        ["make", "-s", "check-assignment", f"N={n}", f"NB={solution}", f"CHECK_DIR={tmp_path}"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, f"{solution.name}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert " passed" in proc.stdout and "failed" not in proc.stdout


@pytest.mark.parametrize("n", [p.name[1] for p in sorted((ROOT / "assignments").glob("A*.ipynb"))])
def test_an_unfilled_starter_fails_its_checks(n, tmp_path):
    """The starter notebook as handed out must not pass: its answers are still None."""
    starter = next((ROOT / "assignments").glob(f"A{n}-*.ipynb"))
    proc = subprocess.run(
        ["make", "-s", "check-assignment", f"N={n}", f"NB={starter}", f"CHECK_DIR={tmp_path}"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode != 0
