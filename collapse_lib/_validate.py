"""Argument checks used at the public boundary of :mod:`collapse_lib`.

Every check raises :class:`ValueError` (or :class:`TypeError` for a wrong type)
with a message that names the parameter and the accepted range, so that a
reader's mistake never surfaces as a numpy traceback from deep inside.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_int",
    "check_fraction",
    "check_real",
    "check_positive",
    "check_finite_array",
    "check_probabilities",
    "check_rng",
]


def check_int(name, value, minimum=None, maximum=None):
    """Return ``value`` as an int, or raise naming ``name`` and the range."""
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
    value = float(value)
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
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
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
