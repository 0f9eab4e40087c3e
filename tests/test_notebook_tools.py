"""The tools that carry numbers from code to prose and compare stored with recomputed outputs.

- ``collapse_lib.notebook.Numbers``: what a chapter quotes (plain Python scalars only);
- ``tools/nbeval.py``: which ``{eval}`` expressions a markdown cell has, and the cross-CPU
  tolerance of the notebook checks (both directions: noise passes, a real change fails);
- ``collapse_lib.plotting.player``: animation players that load nothing from another host;
- an end-to-end run of nbval with ``tests/nbval_book.py`` on a small notebook whose stored
  outputs are perturbed at 1e-13 (must pass) and at 1e-6 (must fail).
"""

from __future__ import annotations

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
