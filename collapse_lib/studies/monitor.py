"""Watching for collapse in production: compare model output with a real reference.

Collapse does not announce itself: the rare cases quietly stop appearing in
what a model generates. A :class:`Detector` checks each new batch of model
output against a held-out sample of real data with two tests,

* a **rare-event test**: an exact one-sided binomial test of whether the batch
  has fewer points above the tail threshold than the real rate predicts
  (the tail thins first);
* a **distribution test**: the two-sample Kolmogorov-Smirnov statistic between
  the batch and the reference (anything else that drifts),

and raises an alarm when either rejects at level ``alpha / 2`` (Bonferroni), so
that the false-alarm rate per batch stays at most ``alpha``. Every function
works on a whole stack of batches at once (one row per batch or replicate).

Introduced in chapter 11, "Monitoring collapse"; chapter 12 quotes its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .._validate import (
    check_bool_array,
    check_budget,
    check_finite_array,
    check_fraction,
    check_fraction_array,
    check_int,
    check_int_array,
    check_real,
    check_rng,
    check_same_length,
)
from ..simulate import Run


def _broadcast(names, *arrays):
    try:
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    except ValueError:
        raise ValueError(f"{names} must broadcast together, got shapes "
                         f"{[np.shape(a) for a in arrays]}") from None
    check_budget(names, int(np.prod(shape, dtype=object)))
    return shape

__all__ = [
    "Detector",
    "Check",
    "binomial_lower_pvalue",
    "ks_statistic",
    "ks_pvalue",
    "tail_test_size",
    "tail_test_power",
    "batch_size_for_power",
    "alarm_rates",
    "check_run",
    "rate_se",
    "first_alarm",
]


def binomial_lower_pvalue(k, m, p0):
    """Exact one-sided p-value ``P(K <= k)`` for ``K ~ Binomial(m, p0)``.

    Small values mean fewer rare events than the reference rate ``p0``
    predicts. Vectorised over ``k`` (and ``m``, ``p0``).

    Introduced in chapter 11, "Monitoring collapse".
    """
    k = check_int_array("k", k)
    m = check_int_array("m", m, minimum=0)
    p0 = check_fraction_array("p0", p0)
    _broadcast("k, m and p0", k, m, p0)
    return stats.binom.cdf(k, m, p0)


def _critical_count(m, p0, level):
    """Largest count ``c`` with ``P(K <= c) <= level`` (``-1`` if none), vectorised in ``m``."""
    m = np.asarray(m)
    c = stats.binom.ppf(level, m, p0).astype(int)  # smallest c with cdf(c) >= level
    cdf = stats.binom.cdf(c, m, p0)
    return np.where(cdf <= level, c, c - 1)


def tail_test_size(m, p0, level, p_true=None):
    """Exact rejection probability of the rare-event test at ``level``.

    Parameters
    ----------
    m : int or array of int
        Batch size(s).
    p0 : float
        Reference rate the test compares with.
    level : float
        Level of the one-sided test (the detector uses ``alpha / 2``).
    p_true : float or array of float, optional
        True rate(s) of the batches (default ``p0``: the exact false-alarm rate,
        at most ``level`` because the count is discrete); an array broadcasts
        against ``m`` (for example one true rate per generation).

    Returns
    -------
    float or ndarray
        ``P(Binomial(m, p_true) <= c)`` with ``c`` the test's critical count.

    Introduced in chapter 11, "Monitoring collapse".
    """
    m = check_int_array("m", m, minimum=0)
    check_budget("m", m.size)
    p0 = check_fraction("p0", p0)
    level = check_fraction("level", level)
    p_true = p0 if p_true is None else check_fraction_array("p_true", p_true)[()]
    c = _critical_count(m, p0, level)
    return np.where(c >= 0, stats.binom.cdf(np.maximum(c, 0), m, p_true), 0.0)[()]


def tail_test_power(m, p0, p1, level):
    """Exact power of the rare-event test when the batch's true rate is ``p1 < p0``.

    ``m``, ``p0`` and ``level`` as in :func:`tail_test_size`; ``p1`` (a rate in
    [0, 1] or an array of them) is its ``p_true``.

    Introduced in chapter 11, "Monitoring collapse".
    """
    p1 = check_fraction_array("p1", p1)[()]
    return tail_test_size(m, p0, level, p_true=p1)


def batch_size_for_power(p0, p1, level, power=0.8, max_size=1_000_000):
    """Smallest batch size whose rare-event test reaches ``power`` against rate ``p1``.

    Because counts are discrete the exact power is not monotone in ``m``; the
    returned size is the smallest ``m`` from which on the power stays at or
    above the target (checked on a fine grid up to twice the answer).

    Parameters
    ----------
    p0 : float in (0, 1)
        Real (reference) rate of the rare event.
    p1 : float in [0, p0)
        Thinned rate the watch must catch.
    level : float in (0, 1)
        Level of the one-sided test (the detector uses ``alpha / 2``).
    power : float in (0, 1)
        Target probability of an alarm on one batch.
    max_size : int
        Give up (ValueError) beyond this batch size.

    Returns
    -------
    int

    Introduced in chapter 11, "Monitoring collapse".
    """
    p0 = check_fraction("p0", p0)
    p1 = check_fraction("p1", p1)
    level = check_fraction("level", level)
    power = check_fraction("power", power)
    if not 0 < p0 < 1 or not p1 < p0:
        raise ValueError(f"need 0 < p1 < p0 < 1 (a thinned tail), got p0={p0}, p1={p1}")
    if not 0 < level < 1 or not 0 < power < 1:
        raise ValueError("level and power must be in (0, 1)")
    max_size = check_int("max_size", max_size, minimum=1)
    # normal-approximation guess, then an exact scan around it
    z_a, z_b = stats.norm.isf(level), stats.norm.isf(1 - power)
    guess = ((z_a * np.sqrt(p0 * (1 - p0)) - z_b * np.sqrt(p1 * (1 - p1))) / (p0 - p1)) ** 2
    hi = int(min(max_size, max(50, 4 * guess)))
    while True:
        m = np.arange(1, hi + 1)
        ok = tail_test_power(m, p0, p1, level) >= power
        if ok[-1]:
            # last m at which the power is still below target, plus one
            bad = np.flatnonzero(~ok)
            return int(bad[-1] + 2) if bad.size else 1
        if hi >= max_size:
            raise ValueError(f"power {power} not reached with batches up to max_size={max_size}")
        hi = min(max_size, 2 * hi)


def ks_statistic(batches, reference_sorted):
    """Two-sample Kolmogorov-Smirnov distance between each row and a reference.

    Parameters
    ----------
    batches : ndarray, shape (m,) or (R, m)
        Batches of model output.
    reference_sorted : ndarray, shape (n_ref,)
        The real reference, sorted ascending.

    Returns
    -------
    float or ndarray of shape (R,)
        ``sup_x |F_batch(x) - F_ref(x)|`` over the real line (exact, no grid).

    Introduced in chapter 11, "Monitoring collapse".
    """
    batches = check_finite_array("batches", batches, ndim=(1, 2))
    reference_sorted = check_finite_array("reference_sorted", reference_sorted, ndim=(1,))
    if np.any(np.diff(reference_sorted) < 0):
        raise ValueError("reference_sorted must be sorted ascending")
    x = np.sort(np.atleast_2d(batches), axis=-1)
    m = x.shape[-1]
    n_ref = reference_sorted.shape[0]
    below = np.searchsorted(reference_sorted, x, side="left") / n_ref   # F_ref(x-)
    upto = np.searchsorted(reference_sorted, x, side="right") / n_ref   # F_ref(x)
    i = np.arange(1, m + 1) / m
    d = np.maximum(np.abs(i - upto), np.abs(i - 1.0 / m - below)).max(axis=-1)
    return d[0] if np.ndim(batches) == 1 else d


def ks_pvalue(d, m, n_ref):
    """p-value of a two-sample Kolmogorov-Smirnov distance ``d`` (sizes ``m`` and ``n_ref``).

    Uses the Kolmogorov limit law with Stephens' small-sample correction,
    ``Q((sqrt(e) + 0.12 + 0.11 / sqrt(e)) d)`` with ``e = m n_ref / (m + n_ref)``:
    accurate for continuous data once ``e`` exceeds a few dozen, and fast
    enough for thousands of batches at once.

    Introduced in chapter 11, "Monitoring collapse".
    """
    d = check_fraction_array("d", d)
    m = check_int("m", m, minimum=1)
    n_ref = check_int("n_ref", n_ref, minimum=1)
    e = np.sqrt(m * n_ref / (m + n_ref))
    return special.kolmogorov((e + 0.12 + 0.11 / e) * np.asarray(d, dtype=float))


@dataclass
class Check:
    """The verdict of a :class:`Detector` on a stack of batches (one entry per row).

    Attributes
    ----------
    tail_count : ndarray of int
        Points above the threshold in each batch.
    tail_rate : ndarray
        ``tail_count / batch size``.
    p_tail : ndarray
        Exact one-sided binomial p-value (few rare events).
    ks : ndarray
        Two-sample Kolmogorov-Smirnov distance to the reference.
    p_ks : ndarray
        Its p-value.
    alarm : ndarray of bool
        ``p_tail <= alpha / 2`` or ``p_ks <= alpha / 2`` (per the detector's tests).

    Notes
    -----
    Introduced in chapter 11, "Monitoring collapse".
    """

    tail_count: np.ndarray
    tail_rate: np.ndarray
    p_tail: np.ndarray
    ks: np.ndarray
    p_ks: np.ndarray
    alarm: np.ndarray

    def alarm_at(self, alpha, tests=("tail", "ks")):
        """Alarms the same batches would raise at another level or with other tests.

        Each of the ``tests`` runs at ``alpha / len(tests)`` (Bonferroni), as in
        :class:`Detector`; no new data is needed, only the stored p-values.
        """
        alpha = check_fraction("alpha", alpha)
        tests = _check_tests(tests)
        level = alpha / len(tests)
        out = np.zeros(np.shape(self.p_tail), dtype=bool)
        if "tail" in tests:
            out |= np.asarray(self.p_tail) <= level
        if "ks" in tests:
            out |= np.asarray(self.p_ks) <= level
        return out[()]


def _check_tests(tests):
    if isinstance(tests, str) or not hasattr(tests, "__iter__"):
        raise TypeError(f"tests must be a non-empty subset of ('tail', 'ks') given as a tuple, got {tests!r}")
    tests = tuple(tests)
    if not tests or any(t not in ("tail", "ks") for t in tests) or len(set(tests)) != len(tests):
        raise ValueError(f"tests must be a non-empty subset of ('tail', 'ks'), got {tests}")
    return tests


class Detector:
    """Compare batches of model output with a held-out real reference.

    Parameters
    ----------
    reference : array_like, shape (n_ref,)
        Real data held out from training (at least 20 points).
    threshold : float
        A point above it counts as a rare event (5.0 in the running world).
    alpha : float in (0, 1)
        False-alarm rate per batch. With both tests on, each runs at
        ``alpha / 2`` (Bonferroni), so a batch of real data raises a false
        alarm with probability at most ``alpha``.
    tests : tuple of {"tail", "ks"}
        Which tests to run.
    tail_rate : float in (0, 1), optional
        Real rate of rare events. Default: the rate in ``reference``. Pass a
        known rate to take the reference's own sampling error out of the test.

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    >>> rng = np.random.default_rng(0)
    >>> watch = cl.Detector(world.sample(20000, rng), threshold=5.0, alpha=0.01)
    >>> bool(watch.check(cl.Normal(0.0, 1.0).sample(2000, rng)).alarm)
    True

    Introduced in chapter 11, "Monitoring collapse".
    """

    def __init__(self, reference, threshold=5.0, alpha=0.01, tests=("tail", "ks"), tail_rate=None):
        ref = check_finite_array("reference", reference, ndim=(1,), min_size=20)
        self.threshold = check_real("threshold", threshold)
        self.alpha = check_fraction("alpha", alpha)
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be in (0, 1), got {alpha}")
        self.tests = _check_tests(tests)
        self.reference = np.sort(ref)
        if tail_rate is None:
            tail_rate = float(np.mean(ref > self.threshold))
        self.tail_rate = check_fraction("tail_rate", tail_rate)
        if "tail" in tests and not 0 < self.tail_rate < 1:
            raise ValueError(
                f"tail_rate must be in (0, 1) for the rare-event test, got {self.tail_rate} "
                "(the reference has no point above the threshold, or only such points)")

    @property
    def level(self):
        """The level at which each single test runs, ``alpha`` over the number of tests (Bonferroni)."""
        return self.alpha / len(self.tests)

    def check(self, batches):
        """Test one batch ``(m,)`` or a stack of batches ``(R, m)``; returns a :class:`Check`."""
        x = check_finite_array("batches", batches, ndim=(1, 2), min_size=1)
        single = x.ndim == 1
        x = np.atleast_2d(x)
        m = x.shape[-1]
        count = np.count_nonzero(x > self.threshold, axis=-1)
        p_tail = binomial_lower_pvalue(count, m, self.tail_rate)
        d = ks_statistic(x, self.reference)
        n_ref = self.reference.shape[0]
        p_ks = ks_pvalue(d, m, n_ref)
        alarm = np.zeros(x.shape[0], dtype=bool)
        if "tail" in self.tests:
            alarm |= p_tail <= self.level
        if "ks" in self.tests:
            alarm |= p_ks <= self.level
        out = Check(count, count / m, p_tail, d, p_ks, alarm)
        if single:
            out = Check(*(np.asarray(v)[0][()] for v in (count, count / m, p_tail, d, p_ks, alarm)))
        return out

    def check_world(self, world, batch_size, batches, rng):
        """Check ``batches`` batches of ``batch_size`` points drawn from ``world``.

        With the real world this is the no-collapse null; with a thinned
        world, the power against it. Returns a :class:`Check` (one entry per batch).
        """
        batch_size = check_int("batch_size", batch_size, minimum=1)
        batches = check_int("batches", batches, minimum=2)
        check_rng(rng)
        return self.check(world.sample(batches * batch_size, rng).reshape(batches, batch_size))

    def false_alarm_rate(self, world, batch_size, batches, rng):
        """Measured share of real batches that raise an alarm, with its standard error.

        Draws ``batches`` batches of ``batch_size`` points from ``world`` (the
        no-collapse null) and returns ``(rate, se)``; see :func:`rate_se`.
        """
        return rate_se(self.check_world(world, batch_size, batches, rng).alarm)

    def __repr__(self):
        return (f"Detector(reference of {self.reference.shape[0]}, threshold={self.threshold:g}, "
                f"alpha={self.alpha:g}, tests={self.tests})")


def rate_se(alarms):
    """Share of ``True`` in a boolean array and its binomial standard error ``sqrt(p (1 - p) / B)``.

    Introduced in chapter 11, "Monitoring collapse".
    """
    a = check_bool_array("alarms", alarms).ravel()
    if a.size < 1:
        raise ValueError("alarms must contain at least one value")
    rate = float(a.mean())
    return rate, float(np.sqrt(rate * (1 - rate) / a.size))


def _check_run_and_detector(run, detector):
    if not isinstance(run, Run):
        raise TypeError(f"run must be a Run (a result of collapse_lib.simulate), got {type(run).__name__}")
    if not isinstance(detector, Detector):
        raise TypeError(f"detector must be a Detector, got {type(detector).__name__}")


def check_run(run, detector, batch_size, rng):
    """Check one batch of output from every replicate's model, per recorded generation.

    For every model of ``run`` (a :class:`collapse_lib.Run`), draws one batch of
    ``batch_size`` points from each replicate's model and checks it.

    Returns
    -------
    list of Check
        One per entry of ``run.models`` (each with one entry per replicate).
        :meth:`Check.alarm_at` replays them at other levels or with one test.

    Introduced in chapter 11, "Monitoring collapse".
    """
    _check_run_and_detector(run, detector)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    check_budget("batch_size * replicates", batch_size * run.replicates)
    check_rng(rng)
    out = []
    for model in run.models:
        x = model.sample(batch_size, rng)
        x = np.broadcast_to(np.atleast_2d(x), (run.replicates, batch_size)) if np.ndim(x) == 1 else x
        out.append(detector.check(x))
    return out


def alarm_rates(run, detector, batch_size, rng, checks=None, alpha=None, tests=None):
    """Share of replicates whose model output raises an alarm, per recorded generation.

    Parameters
    ----------
    run : Run
        A result of :func:`collapse_lib.simulate`.
    detector : Detector
        The watch.
    batch_size : int
        Points of model output per check.
    rng : numpy.random.Generator
        Draws the batches.
    checks : list of Check, optional
        Reuse the result of :func:`check_run` instead of drawing new batches.
    alpha, tests : optional
        Replay the checks at another level or with other tests (default: the detector's).

    Returns
    -------
    rates : ndarray, shape (len(run.models),)
        Detection power per generation (false-alarm rate where nothing changed).
    alarms : ndarray of bool, shape (len(run.models), replicates)

    Introduced in chapter 11, "Monitoring collapse".
    """
    _check_run_and_detector(run, detector)
    if checks is None:
        checks = check_run(run, detector, batch_size, rng)
    alpha = detector.alpha if alpha is None else alpha
    tests = detector.tests if tests is None else tests
    alarms = np.stack([np.broadcast_to(c.alarm_at(alpha, tests), (run.replicates,)) for c in checks])
    return alarms.mean(axis=1), alarms


def first_alarm(alarms, generations):
    """Generation of the first alarm of each replicate (``inf`` if never).

    Parameters
    ----------
    alarms : ndarray of bool, shape (G, R)
        From :func:`alarm_rates`.
    generations : array_like of int, shape (G,)
        Generation of each row (``run.generations``).

    Introduced in chapter 11, "Monitoring collapse".
    """
    alarms = check_bool_array("alarms", alarms, ndim=(2,))
    gens = check_int_array("generations", generations, minimum=0).astype(float)
    if gens.ndim != 1:
        raise ValueError(f"generations must be 1-D (one per row of alarms), got shape {gens.shape}")
    check_same_length("alarms (rows) and generations", alarms, gens)
    if alarms.shape[0] == 0:
        raise ValueError("alarms must have at least one row (generation)")
    hit = alarms.any(axis=0)
    first = gens[np.argmax(alarms, axis=0)]
    return np.where(hit, first, np.inf)
