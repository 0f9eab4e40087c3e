"""The tools that carry numbers from code to prose and compare stored with recomputed outputs.

- ``collapse_lib.notebook.Numbers``: what a chapter quotes (plain Python scalars only);
- ``tools/nbeval.py``: which ``{eval}`` expressions a markdown cell has, and the cross-CPU
  tolerance of the notebook checks (both directions: noise passes, a real change fails);
- ``collapse_lib.plotting.player``: animation players that load nothing from another host;
- an end-to-end run of nbval with ``tests/nbval_book.py`` on a small notebook whose stored
  outputs are perturbed at 1e-13 (must pass) and at 1e-6 (must fail).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import collapse_lib as cl
import nbeval

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- Numbers
def test_numbers_store_plain_python_scalars():
    num = cl.notebook.Numbers()
    num.tail = np.float64(0.03)
    num["count"] = np.int64(7)
    num.flag = np.True_
    num.word = "high"
    num.zero_d = np.array(2.5)
    assert type(num.tail) is float and type(num["count"]) is int and type(num.flag) is bool
    assert type(num.zero_d) is float
    assert f"{num.tail:.3f} {num.count:d} {num.word}" == "0.030 7 high"
    assert set(num) == {"tail", "count", "flag", "word", "zero_d"} and len(num) == 5
    assert num.as_dict()["count"] == 7


def test_numbers_refuse_what_prose_cannot_quote():
    num = cl.notebook.Numbers()
    with pytest.raises(TypeError, match="Numbers.curve"):
        num.curve = np.arange(3.0)
    with pytest.raises(ValueError, match="identifier"):
        num["not a name"] = 1
    with pytest.raises(ValueError, match="underscore"):
        num["_hidden"] = 1
    with pytest.raises(AttributeError, match="no number called 'missing'.*known: a"):
        cl.notebook.Numbers(a=1).missing
    with pytest.raises(KeyError, match="missing"):
        cl.notebook.Numbers(a=1)["missing"]


# ----------------------------------------------------------------------------- expressions
def test_expressions_in_prose_and_directives_but_not_code_blocks():
    md = (
        'A {eval}`f"{num.a:.2f}"` and {eval}`num.b`.\n\n'
        "```{solution} ex-1\n:class: dropdown\n\nInside a solution: {eval}`num.c`\n```\n\n"
        "```python\nprint('{eval}`num.not_this`')\n```\n"
        "After the block: {eval}`num.d`\n"
        "````{solution} ex-2\n```python\nx = '{eval}`num.code`'\n```\nThen {eval}`num.e`\n````\n"
        "```{exercise}\n:label: ex-3\n```\n\nAfter a closed directive: {eval}`num.f`\n"
    )
    assert nbeval.expressions(md) == ['f"{num.a:.2f}"', "num.b", "num.c", "num.d", "num.e", "num.f"]


def test_shown_text_strips_quotes_like_the_site():
    assert nbeval.shown_text({"status": "ok", "data": {"text/plain": "'0.0300'"}}) == "0.0300"
    assert nbeval.shown_text({"status": "ok", "data": {"text/plain": "12"}}) == "12"
    assert nbeval.shown_text({"status": "error", "ename": "NameError", "evalue": "x"}).startswith("<NameError")


# ----------------------------------------------------------------------------- tolerance
VALUE = 0.6517534602463356


@pytest.mark.parametrize("scale", [1e-16, 1e-14, 1e-13, 1e-11])
def test_cross_cpu_noise_passes(scale):
    noisy = VALUE * (1 + scale)
    assert nbeval.texts_match(f"spread {VALUE!r} of the world", f"spread {noisy!r} of the world")
    assert nbeval.values_match({"text/plain": [repr(VALUE)]}, {"text/plain": [repr(noisy)]})


@pytest.mark.parametrize("scale", [1e-8, 1e-6, 1e-3])
def test_a_real_change_fails(scale):
    changed = VALUE * (1 + scale)
    assert not nbeval.texts_match(f"spread {VALUE!r}", f"spread {changed!r}")


def test_formatted_numbers_must_print_the_same():
    assert nbeval.texts_match("tail 0.0300", "tail 0.0300")
    assert not nbeval.texts_match("tail 0.0300", "tail 0.0301")
    assert not nbeval.texts_match("p = 5e-21", "p = 9e-21")        # tiny but formatted: exact
    assert not nbeval.texts_match("1000 runs", "1001 runs")


def test_words_must_match_exactly():
    assert not nbeval.texts_match("0.5 high", "0.5 low")
    assert not nbeval.texts_match("a 1.0", "a 1.0 b")


def test_cancellation_residue_passes_only_at_full_precision():
    assert nbeval.texts_match("mean 2.7755575615628914e-17", "mean -1.3877787807814457e-17")
    assert not nbeval.texts_match("mean 3e-17", "mean -1e-17")


# ----------------------------------------------------------------------------- players
def test_player_is_offline_labelled_and_deterministic():
    import matplotlib.pyplot as plt
    from matplotlib import animation

    def build():
        fig, ax = plt.subplots(figsize=(2, 1.5), dpi=30)
        (line,) = ax.plot([0, 1], [0, 1])
        anim = animation.FuncAnimation(fig, lambda i: line.set_ydata([0, i]), frames=3)
        return cl.plotting.player(anim, alt='A line that "tilts"', name="testplayer", label="generation")

    html = build().html
    assert "font-awesome" not in html.lower() and "http://" not in html and "https://" not in html
    assert 'alt="A line that &quot;tilts&quot;"' in html
    assert 'aria-label="generation"' in html
    assert 'class="fa' not in html
    assert html == build().html            # stable id: the same markup twice
    with pytest.raises(ValueError, match="alt"):
        cl.plotting.player(None, alt=" ", name="x")


# ----------------------------------------------------------------------------- end to end
def _notebook(stored_value):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    code = nbformat.v4.new_code_cell(
        "import collapse_lib as cl\nnum = cl.notebook.Numbers()\n"
        f"x = {VALUE!r}\nnum.x = x\nprint(x)")
    code.execution_count = 1
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{stored_value!r}\n")]
    md = nbformat.v4.new_markdown_cell('The value is {eval}`f"{num.x:.6f}"`, in full {eval}`num.x`.')
    md.metadata["user_expressions"] = [
        {"expression": 'f"{num.x:.6f}"',
         "result": {"status": "ok", "data": {"text/plain": f"'{stored_value:.6f}'"}, "metadata": {}}},
        {"expression": "num.x",
         "result": {"status": "ok", "data": {"text/plain": repr(stored_value)}, "metadata": {}}},
    ]
    nb.cells = [code, md]
    return nb


def _nbval(tmp_path, stored_value):
    path = tmp_path / "check.ipynb"
    nbformat.write(_notebook(stored_value), path)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "tests"))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "nbval_book", "--nbval", "--nbval-current-env",
         "-p", "no:cacheprovider", "-q", str(path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_nbval_accepts_noise_and_catches_a_change(tmp_path):
    noisy = _nbval(tmp_path, VALUE * (1 + 1e-13))
    assert noisy.returncode == 0, noisy.stdout[-2000:]
    assert "2 passed" in noisy.stdout
    changed = _nbval(tmp_path, VALUE * (1 + 1e-6))
    assert changed.returncode == 1, changed.stdout[-2000:]
    # both the code cell's printed value and the prose's full-precision number are caught
    assert "2 failed" in changed.stdout, changed.stdout[-2000:]


# ---------------------------------------------------------------- handouts (tools/handouts.py)
import handouts  # noqa: E402  (tools/ is on the path, see conftest.py)

_TOC_NOTEBOOKS = handouts.toc_chapters(Path(__file__).resolve().parents[1])


def test_handouts_cover_every_toc_notebook():
    assert len(_TOC_NOTEBOOKS) >= 12


@pytest.mark.parametrize("path", _TOC_NOTEBOOKS, ids=lambda p: p.name)
def test_student_copy_drops_solutions_and_keeps_exercises(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    student = handouts.student_copy(nb)
    text = lambda c: "".join(c["source"]) if isinstance(c["source"], list) else c["source"]  # noqa: E731
    md = lambda book: "\n".join(text(c) for c in book["cells"] if c["cell_type"] == "markdown")  # noqa: E731
    n_code = sum(handouts.is_solution(c) for c in nb["cells"])
    n_blocks = md(nb).count("{solution}")
    assert handouts.count_solutions(nb) == n_blocks, "every {solution} block is found whole"
    assert sum(handouts.is_solution(c) for c in student["cells"]) == 0
    assert "{solution}" not in md(student)
    assert md(student).count("{exercise}") == md(nb).count("{exercise}"), "every exercise is kept"
    if path.name[:2].isdigit():
        assert n_blocks >= md(nb).count("{exercise}") >= 1, "a chapter's exercises each have a solution"
    # code cells: all but the solutions' own, plus nothing else lost
    code = lambda book: [c for c in book["cells"] if c["cell_type"] == "code"]  # noqa: E731
    assert len(code(student)) == len(code(nb)) - n_code
    # in a cell that lost a solution block, every stored {eval} result left belongs to an
    # expression still in its text
    cut = {c.get("id") for c in nb["cells"] if c["cell_type"] == "markdown" and "{solution}" in text(c)}
    for c in student["cells"]:
        if c.get("id") not in cut:
            continue
        for s in c.get("metadata", {}).get("user_expressions", []):
            assert f"{{eval}}`{s['expression']}`" in text(c)
    nbformat.validate(nbformat.from_dict(student))
    # the rest of the chapter reads no name that only a solution defines, so the copy runs
    assert handouts.names_needed_from_solutions(nb) == set()


def test_student_copy_detects_a_name_only_a_solution_defines():
    nb = {"cells": [
        {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": "x = 1"},
        {"cell_type": "code", "metadata": {}, "source": "print(x)"},
    ]}
    assert handouts.names_needed_from_solutions(nb) == {"x"}
    nb["cells"].insert(0, {"cell_type": "code", "metadata": {}, "source": "x = 0"})
    assert handouts.names_needed_from_solutions(nb) == set()


def test_write_handouts(tmp_path):
    written = handouts.write_handouts(Path(__file__).resolve().parents[1], tmp_path)
    assert len(written) == 2 * len(_TOC_NOTEBOOKS) + len(handouts.assignment_starters(Path(__file__).resolve().parents[1]))
    for p in written:
        json.loads(p.read_text(encoding="utf-8"))
    table = handouts.handouts_table(Path(__file__).resolve().parents[1])
    assert table.count("../handouts/student/") == len(_TOC_NOTEBOOKS)


def test_assignments_overview_lists_every_starter_with_a_full_rubric():
    root = Path(__file__).resolve().parents[1]
    starters = handouts.assignment_starters(root)
    assert len(starters) >= 5
    text = handouts.assignments_overview(root)
    for path in starters:
        info = handouts.assignment_info(path)
        assert f"../handouts/assignments/{path.name}" in text
        assert info["hours"] and info["builds_on"], f"{path.name}: time and prerequisites stated"
        parts = info["rubric"]
        assert sum(p for _, p, _ in parts) == 100, f"{path.name}: rubric points {parts} do not total 100"
        assert any(auto for *_, auto in parts) and not all(auto for *_, auto in parts), (
            f"{path.name}: numeric parts checked automatically, figure/paragraph by hand")
