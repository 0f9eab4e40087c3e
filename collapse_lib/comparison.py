"""Comparing two measured quantities: difference, standard error and a verdict in words.

Every ordering the book states ("A keeps more tail than B") is a difference between two
quantities measured over random replicates, so it comes with a standard error. The
helper here computes both, the difference in standard errors (``z``), and a verdict that
says "A below B", "A above B" or "indistinguishable at this replicate count", using a
stated threshold (3 standard errors by default: under it the book says the ordering is not
resolved, or runs more replicates).

>>> import numpy as np, collapse_lib as cl
>>> rng = np.random.default_rng(0)
>>> a, b = rng.normal(0.0, 1.0, 400), rng.normal(0.5, 1.0, 400)
>>> c = cl.compare(a, b, names=("A", "B"))
>>> c.verdict
'A below B'

Three kinds of input:

- two 1-D arrays of independent replicates (``paired=False``, the default): standard
  error ``sqrt(s_a^2 / n_a + s_b^2 / n_b)``;
- two 1-D arrays measured on the same replicates (``paired=True``: replicate ``i`` of both
  arms shares its seed or its real data): standard error of the mean of the differences,
  ``s_{a-b} / sqrt(n)``, which is smaller when the arms are positively correlated;
- two :class:`Estimate` objects (a mean and its standard error each, e.g. from a closed
  form, which has standard error 0, or a bootstrap): standard error
  ``sqrt(se_a^2 + se_b^2)``, assuming the two estimates are independent.

The verdict is a normal approximation (a z-score), fine for the replicate counts the book
uses (tens and more); with very few replicates a t quantile would be wider.

Introduced in chapter 8, "Filtering, measured"; used throughout Part III.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from ._validate import _numeric_array, check_positive

__all__ = ["Estimate", "Comparison", "compare", "THRESHOLD"]

#: The default threshold, in standard errors, above which an ordering counts as resolved.
THRESHOLD = 3.0


@dataclass(frozen=True)
class Estimate:
    """A measured mean and its standard error (one arm of a comparison given as a summary).

    Parameters
    ----------
    mean : float
        The estimate.
    se : float >= 0
        Its standard error (0 for an exact value such as a closed form).
    n : int, optional
        Replicates behind it, for the record (not used in the arithmetic).

    Introduced in chapter 8, "Filtering, measured".
    """

    mean: float
    se: float
    n: int | None = None

    def __post_init__(self):
        for name in ("mean", "se"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating)):
                raise TypeError(f"Estimate.{name} must be a real number, got {type(value).__name__} {value!r}")
            if not math.isfinite(float(value)):
                raise ValueError(f"Estimate.{name} must be finite, got {value}")
        if self.se < 0:
            raise ValueError(f"Estimate.se must be >= 0 (a standard error), got {self.se}")
        if self.n is not None and (isinstance(self.n, bool) or not isinstance(self.n, numbers.Integral) or self.n < 1):
            raise ValueError(f"Estimate.n must be an integer >= 1 or None, got {self.n!r}")
        object.__setattr__(self, "mean", float(self.mean))
        object.__setattr__(self, "se", float(self.se))

    @classmethod
    def of(cls, values):
        """The mean of 1-D replicate ``values`` and its standard error ``s / sqrt(n)``."""
        arr = _replicates("values", values)
        return cls(float(arr.mean()), float(arr.std(ddof=1) / math.sqrt(arr.size)), int(arr.size))

    def __str__(self):
        return f"{self.mean:.4g} ± {self.se:.2g}"


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`: ``a - b``, its standard error and a verdict.

    Attributes
    ----------
    names : tuple of str
        What the two arms are called in the verdict.
    mean_a, mean_b : float
        The two measured means.
    se_a, se_b : float
        Their standard errors (for paired input: each arm's own, for the record).
    difference : float
        ``mean_a - mean_b``.
    se : float
        Standard error of the difference.
    z : float
        ``difference / se``: the difference in standard errors (``±inf`` when the
        difference is non-zero and exact, 0 when both are 0).
    threshold : float
        Standard errors needed to call an ordering resolved.
    paired : bool
        Whether the difference was taken replicate by replicate.
    n_a, n_b : int or None
        Replicates behind each arm.

    Introduced in chapter 8, "Filtering, measured".
    """

    names: tuple
    mean_a: float
    mean_b: float
    se_a: float
    se_b: float
    difference: float
    se: float
    z: float
    threshold: float
    paired: bool
    n_a: int | None
    n_b: int | None

    @property
    def resolved(self):
        """True when ``|z| >= threshold``: the ordering is resolved at this replicate count."""
        return abs(self.z) >= self.threshold

    @property
    def sign(self):
        """-1 (a below b), +1 (a above b) or 0 (not resolved)."""
        return 0 if not self.resolved else (1 if self.z > 0 else -1)

    @property
    def verdict(self):
        """The ordering in words: "A below B", "A above B" or "indistinguishable at this replicate count"."""
        a, b = self.names
        if self.sign < 0:
            return f"{a} below {b}"
        if self.sign > 0:
            return f"{a} above {b}"
        return "indistinguishable at this replicate count"

    @property
    def ratio(self):
        """``mean_a / mean_b`` (NaN when ``mean_b`` is 0), a convenience for prose."""
        return self.mean_a / self.mean_b if self.mean_b != 0 else float("nan")

    def __str__(self):
        a, b = self.names
        kind = "paired" if self.paired else "independent"
        counts = "" if self.n_a is None else (
            f", {self.n_a} replicates" if self.paired else f", {self.n_a} and {self.n_b} replicates")
        z = f"{self.z:+.1f}" if math.isfinite(self.z) else ("+inf" if self.z > 0 else "-inf")
        return (f"{a} - {b} = {self.difference:+.4g} ± {self.se:.2g} (SE; {kind}{counts}), "
                f"z = {z}: {self.verdict} (threshold {self.threshold:g} SE)")

    def _repr_pretty_(self, p, cycle):  # pragma: no cover - IPython display
        p.text(str(self))


def _replicates(name, values):
    """``values`` as a finite 1-D float array with at least two replicates, or raise."""
    if isinstance(values, Estimate):
        raise TypeError(f"{name}: expected replicate values here, got an Estimate")
    raw = _numeric_array(name, values)  # strings, bools and non-numbers refused, naming name
    try:
        arr = np.asarray(raw, dtype=float)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"{name} must be a 1-D array of replicate values ({exc})") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of replicate values, got shape {arr.shape}")
    if arr.size < 2:
        raise ValueError(f"{name} must hold at least 2 replicates (a standard error needs 2), got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must not contain NaN or inf")
    return arr


def compare(a, b, *, names=("A", "B"), paired=False, threshold=THRESHOLD):
    """Compare two measured quantities: ``a - b``, its standard error and a verdict in words.

    Parameters
    ----------
    a, b : 1-D array_like of replicate values, or :class:`Estimate`
        The two arms. Arrays hold one value per replicate (at least 2). Both must be
        arrays or both :class:`Estimate`.
    names : tuple of two str
        The arms' names in the verdict ("A below B").
    paired : bool
        True when replicate ``i`` of ``a`` and of ``b`` share their randomness (same seed,
        same real data): the standard error is then that of the per-replicate differences.
        Needs arrays of equal length.
    threshold : float > 0
        Standard errors needed to call an ordering resolved (default 3).

    Returns
    -------
    Comparison
        ``difference``, ``se``, ``z``, ``verdict``, ``resolved``; ``str()`` gives one line.

    Raises
    ------
    ValueError, TypeError
        For fewer than two replicates, NaN or inf, unequal lengths when paired, a
        threshold <= 0, names that are not two strings, or mixing an array with an Estimate.

    Notes
    -----
    Introduced in chapter 8, "Filtering, measured"; used throughout Part III.
    """
    threshold = check_positive("threshold", threshold)
    if (not isinstance(names, (tuple, list)) or len(names) != 2
            or not all(isinstance(s, str) for s in names)):
        raise TypeError(f"names must be a tuple of two strings, got {names!r}")
    names = tuple(names)
    if not isinstance(paired, (bool, np.bool_)):
        raise TypeError(f"paired must be True or False, got {paired!r}")
    est_a, est_b = isinstance(a, Estimate), isinstance(b, Estimate)
    if est_a != est_b:
        raise TypeError("a and b must both be replicate arrays or both be Estimate objects")
    if est_a:
        if paired:
            raise ValueError("paired=True needs replicate arrays (an Estimate carries no replicates)")
        diff = a.mean - b.mean
        se = math.hypot(a.se, b.se)
        ma, mb, sa, sb, na, nb = a.mean, b.mean, a.se, b.se, a.n, b.n
    else:
        xa, xb = _replicates("a", a), _replicates("b", b)
        if paired and xa.size != xb.size:
            raise ValueError(f"paired=True needs a and b of equal length, got {xa.size} and {xb.size}")
        ma, mb = float(xa.mean()), float(xb.mean())
        sa = float(xa.std(ddof=1) / math.sqrt(xa.size))
        sb = float(xb.std(ddof=1) / math.sqrt(xb.size))
        na, nb = int(xa.size), int(xb.size)
        if paired:
            d = xa - xb
            diff = float(d.mean())
            se = float(d.std(ddof=1) / math.sqrt(d.size))
        else:
            diff = ma - mb
            se = math.hypot(sa, sb)
    if se > 0:
        z = diff / se
    else:
        z = 0.0 if diff == 0 else math.copysign(math.inf, diff)
    return Comparison(names=names, mean_a=ma, mean_b=mb, se_a=sa, se_b=sb, difference=float(diff),
                      se=float(se), z=float(z), threshold=threshold, paired=bool(paired), n_a=na, n_b=nb)
