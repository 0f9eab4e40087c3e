"""Inline expressions in markdown cells, and comparing stored with recomputed outputs.

Shared by ``tools/execute.py`` (``make execute``: runs a chapter and stores what every
``{eval}`` expression gives) and ``tests/nbval_book.py`` (``make test``: reruns it and
compares). The stored form is jupyterlab-myst's: a markdown cell's metadata
``user_expressions`` is a list of ``{"expression": ..., "result": <user_expressions
reply>}``, in order of appearance, so JupyterLab shows the stored numbers the moment a
trusted notebook opens.

Cross-machine comparison: floats differ across CPUs in their last digits (numpy's SIMD
kernels and the BLAS are chosen at run time). :func:`texts_match` compares two texts
token by token: the words must be identical, every number must agree to a relative
``1e-9``. A float printed at full precision (``repr``, 12 or more significant digits)
also passes when both values are below ``1e-13`` in size, the residue of a cancellation.
A number printed with a format spec (``0.0300``) has few digits, so ``1e-9`` means it must
print the same: a reader sees what the reference shows.

Why ``1e-9``: the differences seen between CPUs are 1e-16 to 1e-13 relative (one or a few
rounding errors, amplified by at most a few thousand operations); any change to a
simulation, a seed or a formula moves a Monte Carlo estimate by far more than 1e-6.
"""

from __future__ import annotations

import math
import re

RELATIVE = 1e-9
CANCELLATION = 1e-13
FULL_PRECISION_DIGITS = 12

_EVAL = re.compile(r"\{eval\}`([^`]+)`")
_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})(.*)$")
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")


def expressions(markdown: str) -> list[str]:
    """The ``{eval}`` expressions of a markdown cell, in order, outside code blocks.

    A fence whose info string is a directive (```` ```{exercise} ````) holds markdown, so
    its roles count; a plain code block (```` ```python ````) shows code, so they do not.
    """
    found, stack = [], []   # open fences: (marker, is_code)
    for line in markdown.splitlines():
        m = _FENCE.match(line)
        in_code = bool(stack) and stack[-1][1]
        if m:
            marker, info = m.group(2), m.group(3).strip()
            top = stack[-1][0] if stack else None
            closes = (top is not None and not info and marker[0] == top[0] and len(marker) >= len(top))
            if closes:
                stack.pop()
                continue
            if not in_code:
                stack.append((marker, not info.startswith("{")))
                continue
        if not in_code:
            found.extend(_EVAL.findall(line))
    return found


def request(expressions_: list[str]) -> dict[str, str]:
    """The ``user_expressions`` of an execute request: keys "0", "1", ... as JupyterLab sends."""
    return {str(i): e for i, e in enumerate(expressions_)}


def stored_form(expressions_: list[str], reply: dict) -> list[dict]:
    """jupyterlab-myst's metadata list from a kernel reply's ``user_expressions``."""
    return [{"expression": e, "result": reply[str(i)]} for i, e in enumerate(expressions_)]


def shown_text(result: dict) -> str:
    """What a reader sees for one expression result (quotes of a str stripped, as myst-nb does)."""
    if result.get("status") != "ok":
        return f"<{result.get('ename', 'error')}: {result.get('evalue', '')}>"
    text = result.get("data", {}).get("text/plain", "")
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text


def _digits(token: str) -> int:
    mantissa = re.split(r"[eE]", token)[0].lstrip("+-").replace(".", "").lstrip("0")
    return len(mantissa)


def numbers_match(a: str, b: str, relative: float = RELATIVE) -> bool:
    """Two number tokens agree: same value to ``relative``, or both cancellation residue."""
    if a == b:
        return True
    x, y = float(a), float(b)
    if not (math.isfinite(x) and math.isfinite(y)):
        return x == y
    if abs(x - y) <= relative * max(abs(x), abs(y)):
        return True
    full = min(_digits(a), _digits(b)) >= FULL_PRECISION_DIGITS
    return full and max(abs(x), abs(y)) < CANCELLATION


def texts_match(reference: str, computed: str, relative: float = RELATIVE) -> bool:
    """Same words, and every number equal to ``relative`` (see the module docstring)."""
    if reference == computed:
        return True
    ref_words, new_words = NUMBER.split(reference), NUMBER.split(computed)
    if ref_words != new_words:
        return False
    return all(numbers_match(a, b, relative)
               for a, b in zip(NUMBER.findall(reference), NUMBER.findall(computed)))


def values_match(reference, computed, relative: float = RELATIVE) -> bool:
    """:func:`texts_match` on strings, element-wise on lists and dicts, ``==`` otherwise."""
    if isinstance(reference, str) and isinstance(computed, str):
        return texts_match(reference, computed, relative)
    if isinstance(reference, list) and isinstance(computed, list):
        if len(reference) != len(computed):
            # nbformat may split a text into lines: compare the joined text
            if all(isinstance(s, str) for s in reference + computed):
                return texts_match("".join(reference), "".join(computed), relative)
            return False
        return all(values_match(r, c, relative) for r, c in zip(reference, computed))
    if isinstance(reference, dict) and isinstance(computed, dict):
        return reference.keys() == computed.keys() and all(
            values_match(reference[k], computed[k], relative) for k in reference)
    return reference == computed
