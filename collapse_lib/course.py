"""Checks a student can run: exercises with numeric answers, keyed by their MyST label.

Every exercise of the book whose answer is a number can be registered here under the
label it has in the book (``ex-...`` in a chapter, ``ps-...`` in the problem set,
``a1-...`` in assignment 1): labels are stable, displayed numbers are not. An entry
computes its **reference answer with the library** (seeded, so the same on every machine)
together with its **standard error** (0 for an exact answer such as a closed form), and
:func:`check` compares a student's answer with it::

    >>> import collapse_lib as cl
    >>> cl.course.check("ps-no-tail", 0.5)          # doctest: +SKIP
    ps-no-tail: not right (|answer - reference| is more than the tolerance 0.000499)

The tolerance
-------------
``|answer - reference| <= 3 * sqrt(2) * SE + slack``:

- ``SE`` is the reference's Monte Carlo standard error. A student who reruns the
  prescribed simulation with another seed (same replicate count) makes an independent
  estimate with about the same standard error, so the difference of the two has standard
  error ``sqrt(2) * SE``; three of those let a correct answer through with probability
  about 0.997. An exact reference has ``SE = 0``.
- ``slack`` is formatting slack: half a unit in the last significant figure the exercise
  asks for (three by default, so an exact answer of 0.5987 accepts 0.5985 to 0.5990), or
  an entry's own absolute slack (0.5 for an integer answer: it must be the integer).

:func:`check` never shows the reference unless asked (``reveal=True``);
:func:`reference` returns ``(value, se)`` so that a chapter's solution cell can quote the
very computation the check uses.

Adding an entry (chapter owners): write a function of no arguments that returns
``(value, se)`` and decorate it with :func:`register`, giving the exercise's label, where it
is, the question in one line and the significant figures it asks for. README.md ("Adding
an exercise check") says more; ``tests/test_course.py`` checks every entry (its own
reference passes, a value ten standard errors away fails).

Introduced in the appendix "Problem set for Part II" and used by the assignments.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._validate import check_bool, check_bool_array, check_finite_array

__all__ = ["Entry", "Result", "register", "labels", "entry", "reference", "tolerance", "check",
           "submit", "SIGMAS", "mean_se", "median_se", "share_se"]

#: standard errors of the difference a correct answer may be away from the reference
SIGMAS = 3.0


@dataclass(frozen=True)
class Entry:
    """One registered exercise.

    Attributes
    ----------
    label : str
        The exercise's MyST label (``ex-...``, ``ps-...``, ``a<N>-...``).
    where : str
        Where it is asked, e.g. ``"Problem set, problem 1"``.
    question : str
        The question in one line (what number to give).
    compute : callable
        No arguments; returns ``(value, se)``.
    sig : int
        Significant figures the exercise asks for (sets the formatting slack).
    slack : float or None
        Absolute formatting slack instead of the one ``sig`` gives (0.5 for integers).

    Introduced in the appendix "Problem set for Part II".
    """

    label: str
    where: str
    question: str
    compute: Callable[[], tuple]
    sig: int = 3
    slack: float | None = None


_REGISTRY: dict[str, Entry] = {}
_CACHE: dict[str, tuple[float, float]] = {}


def register(label, where, question, sig=3, slack=None):
    """Decorator: register a function returning ``(value, se)`` as an exercise's reference.

    Parameters
    ----------
    label : str
        The exercise's MyST label; must be new.
    where, question : str
        Where the exercise is and what number it asks for (one line each).
    sig : int in [1, 8]
        Significant figures the exercise asks for.
    slack : float >= 0, optional
        Absolute formatting slack (overrides ``sig``); 0.5 for an integer answer.

    Introduced in the appendix "Problem set for Part II".
    """
    if not isinstance(label, str) or not label.strip() or label != label.strip():
        raise ValueError(f"label must be a non-empty string without surrounding spaces, got {label!r}")
    if label in _REGISTRY:
        raise ValueError(f"label {label!r} is already registered ({_REGISTRY[label].where})")
    if isinstance(sig, bool) or not isinstance(sig, numbers.Integral) or not 1 <= sig <= 8:
        raise ValueError(f"sig must be an integer in [1, 8], got {sig!r}")
    if slack is not None and (isinstance(slack, bool) or not isinstance(slack, numbers.Real)
                              or not math.isfinite(slack) or slack < 0):
        raise ValueError(f"slack must be a finite number >= 0 or None, got {slack!r}")

    def wrap(func):
        _REGISTRY[label] = Entry(label, where, question, func, int(sig),
                                 None if slack is None else float(slack))
        return func
    return wrap


def labels(prefix=None):
    """The registered labels, sorted; only those starting with ``prefix`` if given.

    Introduced in the appendix "Problem set for Part II".
    """
    return sorted(k for k in _REGISTRY if prefix is None or k.startswith(prefix))


def entry(label) -> Entry:
    """The registered :class:`Entry` for ``label`` (ValueError naming close labels if unknown).

    Introduced in the appendix "Problem set for Part II".
    """
    if not isinstance(label, str):
        raise TypeError(f"label must be a string such as 'ps-no-tail', got {type(label).__name__} {label!r}")
    if label not in _REGISTRY:
        stem = label.split("-")[0] + "-" if "-" in label else label[:2]
        near = labels(stem)[:8]
        hint = f"; labels starting with {stem!r}: {', '.join(near)}" if near else ""
        raise ValueError(f"label {label!r} is not a registered exercise (cl.course.labels() lists "
                         f"all {len(_REGISTRY)}){hint}")
    return _REGISTRY[label]


def reference(label):
    """``(value, se)``: the reference answer of ``label`` and its standard error (0 if exact).

    Computed once per session with the library (seeded) and cached.

    Introduced in the appendix "Problem set for Part II"; chapters' solution cells call it
    to quote the same computation the check uses.
    """
    e = entry(label)
    if label not in _CACHE:
        value, se = e.compute()
        value, se = float(value), float(se)
        if not (math.isfinite(value) and math.isfinite(se) and se >= 0):
            raise RuntimeError(f"{label}: reference computation gave value={value}, se={se}")
        _CACHE[label] = (value, se)
    return _CACHE[label]


def _slack(e: Entry, value: float) -> float:
    if e.slack is not None:
        return e.slack
    # (1 + 1e-9): a reference rounded to the asked figures sits exactly on the edge
    if value == 0:
        return 0.5 * 10.0 ** (-e.sig) * (1 + 1e-9)
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - e.sig + 1) * (1 + 1e-9)


def tolerance(label):
    """The largest accepted ``|answer - reference|``: ``3 sqrt(2) SE + slack`` (module docstring).

    Introduced in the appendix "Problem set for Part II".
    """
    value, se = reference(label)
    return SIGMAS * math.sqrt(2.0) * se + _slack(entry(label), value)


def _as_answer(answer):
    if isinstance(answer, np.ndarray) and answer.ndim == 0:
        answer = answer[()]
    if isinstance(answer, (bool, np.bool_)) or not isinstance(answer, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"answer must be a real number (int or float), got {type(answer).__name__} "
                        f"{answer!r}; reduce an array to the one number the exercise asks for")
    answer = float(answer)
    if not math.isfinite(answer):
        raise ValueError(f"answer must be a finite number, got {answer}")
    return answer


class Result:
    """The outcome of :func:`check`: true when right; its text is the one-line verdict.

    Attributes
    ----------
    label : str
    correct : bool
    message : str

    Introduced in the appendix "Problem set for Part II".
    """

    def __init__(self, label, correct, message):
        self.label, self.correct, self.message = label, bool(correct), message

    def __bool__(self):
        return self.correct

    def __str__(self):
        return self.message

    __repr__ = __str__

    def _ipython_display_(self):
        # check() has printed the line already; showing it again would repeat it
        pass


def check(label, answer, reveal=False, quiet=False):
    """Say in one line whether ``answer`` is right for the exercise ``label``.

    Parameters
    ----------
    label : str
        The exercise's label, e.g. ``"ps-no-tail"`` or ``"a1-world-tail"``.
    answer : int or float
        Your number (a numpy scalar or 0-d array is accepted).
    reveal : bool
        Also show the reference value, its standard error and the tolerance.
    quiet : bool
        Do not print (the returned :class:`Result` still says it).

    Returns
    -------
    Result
        True when ``|answer - reference| <= tolerance(label)``.

    Raises
    ------
    ValueError
        Unknown label, or a non-finite answer.
    TypeError
        An answer that is not a real number (a string, a list, a bool).

    Notes
    -----
    Introduced in the appendix "Problem set for Part II".
    """
    e = entry(label)
    answer = _as_answer(answer)
    reveal, quiet = check_bool("reveal", reveal), check_bool("quiet", quiet)
    value, se = reference(label)
    tol = tolerance(label)
    correct = abs(answer - value) <= tol
    if correct:
        text = f"{label}: right (within the tolerance {tol:.3g})"
    else:
        text = f"{label}: not right (|answer - reference| is more than the tolerance {tol:.3g})"
    if reveal:
        kind = "exact" if se == 0 else f"standard error {se:.3g}"
        text += f"; reference {value:.6g} ({kind})"
    if not quiet:
        print(text)
    return Result(e.label, correct, text)


ANSWERS_TAG = "COURSE-ANSWERS"


def submit(assignment, answers):
    """Print an assignment's answers in the form ``make check-assignment`` reads.

    Parameters
    ----------
    assignment : str
        ``"A1"`` ... ``"A5"``.
    answers : dict of label -> number
        One entry per item; every label must be registered.

    Returns
    -------
    dict
        The answers as plain floats.

    Introduced in the assignments (each starter notebook's last cell calls it).
    """
    if not isinstance(assignment, str) or not assignment[:1] in ("A", "a") or not assignment[1:].isdigit():
        raise ValueError(f"assignment must be 'A1', 'A2', ..., got {assignment!r}")
    if not isinstance(answers, dict) or not answers:
        raise TypeError(f"answers must be a non-empty dict of label -> number, got {type(answers).__name__}")
    clean = {}
    for label, value in answers.items():
        entry(label)
        if value is None:
            raise ValueError(f"answers[{label!r}] is None: fill in your number first")
        clean[label] = _as_answer(value)
    print(f"{ANSWERS_TAG} {assignment.upper()} {json.dumps(clean, sort_keys=True)}")
    return clean


# ======================================================================================
# Helpers for the entries
# ======================================================================================

def mean_se(x):
    """Mean of replicate values and its standard error ``s / sqrt(n)``.

    Introduced in the appendix "Problem set for Part II" (helpers for registered entries).
    """
    x = check_finite_array("x", x, min_size=2)  # a standard error needs two values
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(x.size))


def median_se(x):
    """Median and a distribution-free standard error: half the width between the order
    statistics at ranks n/2 -+ sqrt(n)/2 (one binomial standard deviation each side).

    Introduced in the appendix "Problem set for Part II".
    """
    x = np.sort(check_finite_array("x", x, ndim=(1,)))
    n = x.size
    half = math.sqrt(n) / 2
    lo = x[max(0, int(math.floor(n / 2 - half)))]
    hi = x[min(n - 1, int(math.ceil(n / 2 + half)))]
    return float(np.median(x)), float((hi - lo) / 2)


def share_se(flags):
    """Share of true flags and its binomial standard error (at least ``1/n``, so a share of
    0 or 1 still has a non-zero standard error).

    Introduced in the appendix "Problem set for Part II".
    """
    flags = check_bool_array("flags", flags)
    if flags.size == 0:
        raise ValueError("flags must hold at least one flag")
    p = float(flags.mean())
    return p, float(max(math.sqrt(p * (1 - p) / flags.size), 1.0 / flags.size))
