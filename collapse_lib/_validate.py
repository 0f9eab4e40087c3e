"""Argument checks used at the public boundary of :mod:`collapse_lib`.

Every check raises :class:`ValueError` (or :class:`TypeError` for a wrong type)
with a message that names the parameter and the accepted range, so that a
reader's mistake never surfaces as a numpy traceback from deep inside.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

__all__ = [
    "ELEMENT_BUDGET",
    "element_budget",
    "set_element_budget",
    "check_budget",
    "check_bool",
    "check_choice",
    "check_int",
    "check_fraction",
    "check_real",
    "check_positive",
    "check_finite_array",
    "check_probabilities",
    "check_rng",
    "check_int_array",
    "check_fraction_array",
    "check_bool_array",
    "check_same_length",
]


# --------------------------------------------------------------------------- memory guard

#: Default largest number of array elements one call may allocate (about 2 GiB of
#: float64). Override it with the environment variable ``COLLAPSE_LIB_MAX_ELEMENTS``
#: (read at import) or at run time with :func:`set_element_budget`.
ELEMENT_BUDGET = 2**28

_budget = [int(os.environ.get("COLLAPSE_LIB_MAX_ELEMENTS", ELEMENT_BUDGET))]


def element_budget():
    """The current element budget (see :func:`set_element_budget`)."""
    return _budget[0]


def set_element_budget(elements):
    """Set the largest number of array elements one call may allocate; returns the old budget.

    Every public entry point that allocates arrays whose size the caller chooses
    (sample sizes, replicates, pools, vocabulary sizes, grid sizes) checks the
    request against this budget *before* allocating, and raises
    :class:`ValueError` naming the parameter when it is exceeded, instead of
    failing inside numpy with a MemoryError.
    """
    elements = check_int("elements", elements, minimum=1)
    old = _budget[0]
    _budget[0] = elements
    return old


def check_budget(name, elements):
    """Raise ValueError naming ``name`` if allocating ``elements`` would exceed the budget.

    ``elements`` may be a product of sizes computed with Python ints (no overflow); it must
    be a whole number >= 0 (a float holding one is accepted), else ``name`` is named in a
    TypeError or ValueError.
    """
    if isinstance(elements, (bool, np.bool_)) or not isinstance(elements, numbers.Real):
        raise TypeError(f"{name} must give a whole number of array elements, got {type(elements).__name__} "
                        f"{elements!r}")
    if not isinstance(elements, numbers.Integral):
        if not np.isfinite(elements) or elements != np.floor(elements):
            raise ValueError(f"{name} must give a whole number of array elements, got {elements!r}")
    elements = int(elements)
    if elements < 0:
        raise ValueError(f"{name} must give a number of array elements >= 0, got {elements}")
    if elements > _budget[0]:
        raise ValueError(
            f"{name} asks for about {elements:.3g} array elements, above the memory budget of "
            f"{_budget[0]:.3g} (collapse_lib._validate.set_element_budget or the environment variable "
            f"COLLAPSE_LIB_MAX_ELEMENTS raise it); reduce {name}"
        )
    return elements


# --------------------------------------------------------------------------- scalars

def check_bool(name, value):
    """Return ``value`` as a bool (Python or numpy bool), or raise TypeError naming ``name``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_choice(name, value, choices):
    """Return ``value`` if it is one of ``choices`` (strings), else raise naming ``name``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {tuple(choices)}, got {type(value).__name__} {value!r}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def _numeric_array(name, values):
    """``np.asarray(values)`` refused unless it holds real numbers (no strings, bools, complex)."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be numbers, got a string {values!r}")
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers ({exc})") from None
    kind = raw.dtype.kind
    if kind == "O":
        for item in raw.ravel():
            if isinstance(item, (bool, np.bool_)) or not isinstance(item, numbers.Real):
                raise TypeError(f"{name} must contain real numbers only, got {type(item).__name__} {item!r}")
    elif kind not in "iuf":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {raw.dtype}")
    return raw


def _bound(label, bound):
    """A range bound given to a check: None or an integer (a programming error otherwise)."""
    if bound is None:
        return None
    if isinstance(bound, (bool, np.bool_)) or not isinstance(bound, numbers.Integral):
        raise TypeError(f"{label} must be an integer or None, got {type(bound).__name__} {bound!r}")
    return int(bound)


def check_int(name, value, minimum=None, maximum=None):
    """Return ``value`` as an int, or raise naming ``name`` and the range.

    ``minimum`` and ``maximum`` are integers or None (no bound); anything else is a
    TypeError naming them.
    """
    minimum, maximum = _bound("minimum", minimum), _bound("maximum", maximum)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_real(name, value):
    """Return ``value`` as a finite float, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    try:
        value = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a finite number, got {value}") from None
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def check_fraction(name, value):
    """Return ``value`` as a float in [0, 1], or raise naming ``name``."""
    value = check_real(name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def check_positive(name, value):
    """Return ``value`` as a float > 0, or raise naming ``name``."""
    value = check_real(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_finite_array(name, values, *, min_size=1, ndim=None):
    """Return ``values`` as a float array with no NaN or inf.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    values : array_like
        Values to check.
    min_size : int
        Minimum length of the last axis (1 rejects an empty sample).
    ndim : tuple of int, optional
        Accepted numbers of dimensions.
    """
    min_size = check_int("min_size", min_size, minimum=0)
    raw = _numeric_array(name, values)
    try:
        with np.errstate(over="ignore"):
            arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"{name} must be an array of numbers ({exc})") from None
    if ndim is not None and arr.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimension(s), got shape {arr.shape}")
    if arr.ndim > 0 and (arr.shape[-1] < min_size or arr.size == 0):
        raise ValueError(f"{name} must contain at least {min_size} value(s) per sample, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must not contain NaN or inf")
    return arr


def check_probabilities(name, values, *, ndim=(1, 2), atol=1e-8):
    """Return ``values`` as a float array of probabilities summing to 1 on the last axis."""
    atol = check_positive("atol", atol)
    arr = check_finite_array(name, values, ndim=ndim)
    if np.any(arr < 0):
        raise ValueError(f"{name} must be non-negative (each value in [0, 1])")
    sums = arr.sum(axis=-1)
    if not np.allclose(sums, 1.0, rtol=0, atol=atol):
        raise ValueError(f"{name} must sum to 1 (within {atol:g}), got sum(s) {np.round(sums, 10).tolist() if np.ndim(sums) else float(sums)}")
    return arr


def check_rng(rng):
    """Return ``rng`` if it is a :class:`numpy.random.Generator`, else raise TypeError."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            "rng must be a numpy.random.Generator (e.g. np.random.default_rng(0)), "
            f"got {type(rng).__name__}"
        )
    return rng


def check_int_array(name, values, minimum=None, maximum=None):
    """Return ``values`` as an int64 array of whole numbers in range, or raise naming ``name``.

    Floats holding whole numbers (``3.0``) are accepted; strings, bools, NaN and
    fractions are refused.
    """
    minimum, maximum = _bound("minimum", minimum), _bound("maximum", maximum)
    raw = _numeric_array(name, values)
    if raw.dtype.kind == "O":
        raw = np.asarray(raw, dtype=float)
    if raw.dtype.kind == "f":
        if not np.all(np.isfinite(raw)) or np.any(raw != np.round(raw)):
            raise TypeError(f"{name} must hold whole numbers, got non-integer or non-finite values")
        if raw.size and np.max(np.abs(raw)) >= 2.0**63:
            raise ValueError(f"{name} must hold integers below 2**63 in size")
    elif raw.dtype.kind == "u" and raw.size and raw.max() >= 2**63:
        raise ValueError(f"{name} must hold integers below 2**63 in size")
    arr = raw.astype(np.int64)
    if minimum is not None and np.any(arr < minimum):
        raise ValueError(f"{name} must be >= {minimum} everywhere, got minimum {arr.min()}")
    if maximum is not None and np.any(arr > maximum):
        raise ValueError(f"{name} must be <= {maximum} everywhere, got maximum {arr.max()}")
    return arr


def check_fraction_array(name, values):
    """Return ``values`` as a float array with every value in [0, 1] (no NaN), or raise naming ``name``."""
    arr = check_finite_array(name, values, min_size=0)
    if np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must be in [0, 1] everywhere")
    return arr


def check_bool_array(name, values, ndim=None):
    """Return ``values`` as a bool array; accepts bools or 0/1 integers, refuses the rest."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be an array of booleans, got a string")
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        if np.any((arr != 0) & (arr != 1)):
            raise ValueError(f"{name} must hold booleans (or 0/1), got other integers")
    elif arr.dtype.kind != "b":
        raise TypeError(f"{name} must be an array of booleans, got dtype {arr.dtype}")
    if ndim is not None and arr.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimension(s), got shape {arr.shape}")
    return arr.astype(bool)


def check_same_length(names, *arrays, axis=0):
    """Raise ValueError naming ``names`` unless the arrays agree in length along ``axis``."""
    axis = check_int("axis", axis)
    lengths = [np.shape(a)[axis] if np.ndim(a) > axis else None for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"{names} must have the same length, got {lengths}")
