"""Filters: what is done to generated samples before they are trained on.

A filter draws ``k`` synthetic samples per replicate from a model, possibly
drawing more and keeping some. :class:`NoFilter` uses the model's output as it
is, the regime of the collapse results. :class:`QualityFilter` keeps the most
typical samples (a sampling bias that cuts the tails). Three verifiers check
samples against the real world: :class:`OracleVerifier` reads the world's true
density (an oracle no pipeline has; ``Verifier`` is its earlier name), while
:class:`DensityVerifier` and :class:`ClassifierVerifier` learn from ``m`` real
points, and measure their own held-out quality (AUC) as they run.

Every filter follows one protocol, ``draw(model, k, rng, world) -> (R, k)``
(``(k,)`` for an unbatched model), uses only the ``rng`` it is given, and does
a bounded amount of work (no open-ended redraw loops).

Introduced in chapter 2; measured in chapter 8, "Filtering, measured".
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ._validate import _numeric_array, check_budget, check_fraction, check_int, check_positive, check_rng

__all__ = ["Filter", "NoFilter", "QualityFilter", "OracleVerifier", "Verifier", "DensityVerifier",
           "ClassifierVerifier", "auc", "central_normal_variance"]


class Filter:
    """Base class of filters on generated samples.

    Introduced in chapter 2, "A simulation you can run"; measured in chapter 8.
    """

    def draw(self, model, k, rng, world):  # pragma: no cover - interface
        """Return ``k`` filtered samples per replicate, shape ``(R, k)``."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class NoFilter(Filter):
    """Keep every generated sample (output used as-is).

    Introduced in chapter 2, "A simulation you can run" (the default).
    """

    def draw(self, model, k, rng, world):
        return model.sample(k, rng)


def log_density(dist, x):
    """Log density (or log mass, for discrete laws) of ``dist`` at samples ``x``.

    ``x`` has shape ``(R, k)`` for a batched ``dist`` (one row per replicate)
    or any shape for an unbatched one. Uses ``logpdf`` when the distribution
    has one, else ``logpmf`` (categorical ids, empirical laws). NaN (from
    ``inf - inf`` at a point mass) never escapes: it becomes ``-inf``.

    Introduced in chapter 8, "Filtering, measured".
    """
    fn = getattr(dist, "logpdf", None)
    if not callable(fn):
        fn = getattr(dist, "logpmf", None)
    if not callable(fn):
        raise TypeError(f"{type(dist).__name__} has neither logpdf nor logpmf: this filter needs a density")
    out = np.asarray(fn(x), dtype=float)
    return np.where(np.isnan(out), -np.inf, out)


def _replicates(model):
    """Rows of a model's batch (1 for an unbatched model)."""
    shape = getattr(model, "batch_shape", ())
    return int(shape[0]) if shape else 1


def _rows(model, samples):
    """Samples as rows ``(R, k)``; the flag says whether to drop the row axis."""
    if getattr(model, "batch_shape", ()) == ():
        return samples[None, ...], True
    return samples, False


def central_normal_variance(keep):
    """Variance of the central ``keep`` fraction of a standard normal.

    Keeping the most typical ``keep`` share of a normal's samples truncates
    it to ``|z| < c`` with ``2 Phi(c) - 1 = keep``; the truncated normal's
    variance is ``1 - 2 c phi(c) / keep`` (times the original variance).

    Introduced in chapter 8, "Filtering, measured".
    """
    keep = check_fraction("keep", keep)
    if keep == 0:
        raise ValueError("keep must be in (0, 1], got 0")
    if keep == 1:
        return 1.0
    c = special.ndtri((1.0 + keep) / 2.0)
    return float(1.0 - 2.0 * c * stats.norm.pdf(c) / keep)


class QualityFilter(Filter):
    """Keep the most typical fraction of generated samples (truncation).

    Parameters
    ----------
    keep : float in (0, 1]
        Share kept. To return ``k`` samples the filter draws
        ``ceil(k / keep)`` from the model and keeps the ``k`` with the highest
        log density *under the generating model* (its own idea of quality),
        in their original order.

    Notes
    -----
    This is the sampling bias of Alemohammad et al. (2024): generators are
    often run at reduced temperature or with quality-driven selection, which
    favours high-likelihood outputs. *The tail:* it cuts it. For a normal
    model the kept samples are the central ``keep`` share, a truncated
    normal whose variance is :func:`central_normal_variance` times the
    model's; refitting on them shrinks the variance geometrically each
    generation, on top of the finite-sample drift, so the tail disappears
    much faster than without a filter. For a mixture, a rare bump whose
    density is below the cut is removed first, even if the model still
    represents it. ``keep=1`` is :class:`NoFilter`.

    Introduced in chapter 8, "Filtering, measured".

    Models without a density use ``logpmf`` (an empirical law ranks values by
    how often they occur; ties keep the earlier sample).
    """

    def __init__(self, keep=0.9):
        keep = check_fraction("keep", keep)
        if keep == 0:
            raise ValueError("keep must be in (0, 1] (the share of samples kept), got 0")
        self.keep = keep

    def pool_size(self, k):
        """Number of samples drawn to keep ``k``: ``ceil(k / keep)``."""
        return int(np.ceil(round(k / self.keep, 9)))

    def draw(self, model, k, rng, world=None):
        k = check_int("k", k, minimum=0)
        check_budget("k (times the pool drawn to keep it, and replicates)", self.pool_size(k) * _replicates(model))
        check_rng(rng)
        samples, single = _rows(model, model.sample(self.pool_size(k), rng))
        score = log_density(model, samples if not single else samples[0])
        score = score[None, ...] if single else score
        best = np.argsort(-score, axis=1, kind="stable")[:, :k]
        best.sort(axis=1)
        kept = np.take_along_axis(samples, best.reshape(best.shape + (1,) * (samples.ndim - 2)), axis=1)
        return kept[0] if single else kept

    def __repr__(self):
        return f"QualityFilter(keep={self.keep:g})"


def _inclusion(w, k):
    """Inclusion probabilities ``min(1, c w)`` summing to ``k`` per row (``w`` > 0)."""
    r, m = w.shape
    ws = -np.sort(-w, axis=1)
    tail = np.cumsum(ws[:, ::-1], axis=1)[:, ::-1]          # sum_{i >= j} ws_i
    j = np.arange(k)
    c = (k - j)[None, :] / tail[:, :k]                      # c if the j largest are capped at 1
    ok = c * ws[:, :k] <= 1.0 + 1e-12                        # true at j = k - 1 at the latest
    first = np.argmax(ok, axis=1)
    cstar = c[np.arange(r), first]
    return np.minimum(1.0, cstar[:, None] * w)


def _systematic(pi, k, rng):
    """Draw exactly ``k`` indices per row with inclusion probabilities ``pi`` (sum k)."""
    r, m = pi.shape
    cs = np.cumsum(pi, axis=1)
    cs *= (k / cs[:, -1])[:, None]                           # exact total k despite rounding
    offsets = (np.arange(r) * (k + 1.0))[:, None]
    u = rng.random((r, 1))
    thresholds = (u + np.arange(k)[None, :]) + offsets
    idx = np.searchsorted((cs + offsets).ravel(), thresholds.ravel(), side="right").reshape(r, k)
    idx -= (np.arange(r) * m)[:, None]
    return np.clip(idx, 0, m - 1)


# ----------------------------------------------------------------------------- verifiers

def _ratio_weights(lr, accuracy):
    """Selection weights ``a r + (1 - a)`` from log ratios ``lr`` (rows ``(R, M)``), max 1 per row.

    ``r`` is the ratio normalised by its average over the row's candidates. NaN counts as
    implausible; a ratio above ``e^700`` is kept finite so that the normalisation holds; a row
    where nothing is plausible is judged as a useless verifier would (all weights equal).
    """
    lr = np.minimum(np.where(np.isnan(lr), -np.inf, lr), 700.0)
    m = lr.shape[-1]
    with np.errstate(divide="ignore"):
        top = lr.max(axis=-1, keepdims=True)
        safe_top = np.where(np.isfinite(top), top, 0.0)
        lmean = safe_top + np.log(np.exp(lr - safe_top).sum(axis=-1, keepdims=True) / m)
        la, l1a = np.log(accuracy), np.log1p(-accuracy)
    lr = np.where(np.isfinite(lmean), lr - np.where(np.isfinite(lmean), lmean, 0.0), 0.0)
    lw = np.logaddexp(la + lr, l1a)
    lw = lw - lw.max(axis=-1, keepdims=True)
    return np.maximum(np.exp(lw), 1e-12)


def _select(samples, w, k, rng):
    """Keep ``k`` of each row's candidates with inclusion probabilities ``min(1, c w)``."""
    pi = _inclusion(w, k)
    idx = _systematic(pi, k, rng)
    return np.take_along_axis(samples, idx.reshape(idx.shape + (1,) * (samples.ndim - 2)), axis=1)


class OracleVerifier(Filter):
    """An **oracle**: checks generated samples against the *true* density of the world.

    No one running a real pipeline can build this filter: it reads the world's exact density
    ``p_world(x)``. It is the ceiling a verifier could reach, and the book labels it an oracle
    wherever it appears. Verifiers that learn from a finite real sample are
    :class:`DensityVerifier` and :class:`ClassifierVerifier`.

    Parameters
    ----------
    accuracy : float in [0, 1]
        0: a useless verifier, whose choice does not depend on the sample
        (the kept samples have exactly the model's law, as with
        :class:`NoFilter`). 1: the oracle itself, which judges each sample by
        how plausible the real world finds it relative to the model.
        This is *not* a classification accuracy: it is the weight of the
        oracle's judgement in a blend with a random choice (see Notes).
    pool : int >= 2
        Candidates inspected per kept sample: the verifier draws
        ``pool * k`` samples from the model and keeps ``k``.

    Notes
    -----
    *How it decides.* For a candidate ``x`` let ``r(x) = p_world(x) /
    p_model(x)`` (normalised by its average over the candidates, so that it
    averages 1). The weight is ``w(x) = a r(x) + (1 - a)``. It keeps each
    candidate with probability ``min(1, c w(x))``, with ``c`` set per
    replicate so that exactly ``k`` are kept (systematic sampling over the
    iid candidates, so the work is fixed: no redraw loop).

    *What it produces.* The kept samples follow (as ``pool * k`` grows) the
    law proportional to ``p_model(x) min(1, c w(x))``. Where the cap is not
    reached this is ``a p_world + (1 - a) p_model``: at ``a = 1`` it is
    rejection sampling toward the world, and at accuracy ``a`` a share ``a``
    of the kept samples are, in law, draws from the world. That is why an
    "inaccurate" oracle never hurts: its errors hand the learner the model's
    own law, and its correct decisions hand it world draws, like an anchor of
    fresh real data picked out of the model's output. The cap means the
    verifier can up-weight a region by at most about ``pool`` times the
    model's own rate.

    *The tail.* Where a collapsing model under-produces the tail, the world
    outweighs it (``r > 1``), so the oracle keeps those samples
    preferentially and restores tail mass, up to the ``pool`` cap. It cannot
    create what the model no longer generates at all.

    If fewer than ``k`` candidates have any plausibility under the world
    (``r = 0``), the remainder is filled with implausible candidates chosen
    at random (their weight is floored at a tiny positive value).

    The verification setting of Feng et al. (2025), "Beyond model collapse:
    scaling up with synthesized data requires verification", with the
    verifier replaced by the true density.

    ``collapse_lib.Verifier`` is the same class under its earlier name.

    Introduced in chapter 8, "Filtering, measured".
    """

    def __init__(self, accuracy=1.0, pool=4):
        self.accuracy = check_fraction("accuracy", accuracy)
        self.pool = check_budget("pool", check_int("pool", pool, minimum=2))

    def weights(self, model, world, samples):
        """Selection weights ``w(x) = a r(x) + (1 - a)`` of candidate rows ``(R, M)``, max 1 per row."""
        lr = log_density(world, samples) - log_density(model, samples)
        return _ratio_weights(lr, self.accuracy)

    def draw(self, model, k, rng, world):
        k = check_int("k", k, minimum=0)
        check_rng(rng)
        if world is None:
            raise ValueError("world must be given: a verifier checks samples against the real world")
        check_budget("k (times pool and replicates)", self.pool * k * _replicates(model))
        raw = model.sample(self.pool * k, rng)
        samples, single = _rows(model, raw)
        if k == 0:
            return raw[..., :0] if not single else raw[:0]
        lr_in = samples[0] if single else samples
        w = self.weights(model, world, lr_in)
        w = w[None, :] if single else w
        kept = _select(samples, w, k, rng)
        return kept[0] if single else kept

    def __repr__(self):
        return f"OracleVerifier(accuracy={self.accuracy:g}, pool={self.pool})"


#: The oracle verifier under its earlier name (chapter 10 and the taxonomy still call it so).
Verifier = OracleVerifier


def auc(positive, negative):
    """Area under the ROC curve of scores, per row: P(positive score > negative score).

    Parameters
    ----------
    positive, negative : array_like of shape (R, a) and (R, b)
        Scores of the two classes (e.g. held-out real and generated points), one row per
        replicate. Ties count one half (average ranks); ``-inf`` and ``+inf`` are allowed.

    Returns
    -------
    ndarray of shape (R,)
        0.5 when the scores do not separate the classes, 1 when every positive scores above
        every negative.

    Introduced in chapter 8, "Filtering, measured".
    """
    pos = np.atleast_2d(np.asarray(_numeric_array("positive", positive), dtype=float))
    neg = np.atleast_2d(np.asarray(_numeric_array("negative", negative), dtype=float))
    if pos.ndim != 2 or neg.ndim != 2:
        raise ValueError(f"positive and negative must be (R, a) and (R, b) score arrays, got shapes {pos.shape} "
                         f"and {neg.shape}")
    if pos.shape[0] != neg.shape[0] or pos.shape[1] < 1 or neg.shape[1] < 1:
        raise ValueError(f"positive and negative must be (R, a) and (R, b) with a, b >= 1, got {pos.shape} and {neg.shape}")
    if np.isnan(pos).any() or np.isnan(neg).any():
        raise ValueError("positive and negative must not contain NaN")
    a, b = pos.shape[1], neg.shape[1]
    ranks = stats.rankdata(np.concatenate([pos, neg], axis=1), axis=1)
    return (ranks[:, :a].sum(axis=1) - a * (a + 1) / 2.0) / (a * b)


def _points_rows(name, x, rows):
    """Samples as a float array ``(rows, size)`` of one-dimensional points, or raise."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] != rows:
        raise ValueError(f"{name}: learned verifiers take one-dimensional points, one row per replicate "
                         f"(shape ({rows}, size)); got shape {x.shape}")
    return x


def _real_rows(world, size, rows, rng):
    """``size`` real points per replicate, shape ``(rows, size)``."""
    if getattr(world, "batch_shape", ()) not in ((), (rows,)):
        raise ValueError(f"world must be unbatched or a batch of {rows} replicates, got batch shape {world.batch_shape}")
    if getattr(world, "batch_shape", ()):
        x = world.sample(size, rng)
    else:
        x = np.asarray(world.sample(rows * size, rng))
        if x.ndim != 1:
            raise ValueError("learned verifiers take one-dimensional real-valued points; "
                             f"the world's samples have shape {x.shape}")
        x = x.reshape(rows, size)
    return _points_rows("world samples", x, rows)


class _BinnedKDE:
    """Gaussian kernel density estimate of each row of ``data`` (R, m), on a grid.

    Bandwidth by Silverman's rule (``0.9 min(sd, IQR / 1.349) m^(-1/5)``, as
    :func:`collapse_lib.models.kde.bandwidth`). The density is computed once on a grid of
    ``grid`` points per row spanning the data plus six bandwidths on each side (linear
    binning, then a discrete Gaussian kernel by FFT), and read by linear interpolation of
    its logarithm; beyond the grid, the log density of the nearest extreme point's kernel
    alone (a lower bound). Accurate to about a thousandth in log density where the
    bandwidth spans several grid steps, and floored at 1e-12 of each row's peak.
    """

    def __init__(self, data, grid=2048):
        data = np.asarray(data, dtype=float)
        r, m = data.shape
        sd = data.std(axis=1)
        q75, q25 = np.quantile(data, [0.75, 0.25], axis=1)
        spread = (q75 - q25) / 1.349
        a = np.where(spread > 0, np.minimum(sd, spread), sd)
        scale = np.maximum(np.abs(data).max(axis=1), 1.0)
        h = np.maximum(0.9 * a * m ** (-0.2), 1e-6 * scale)
        self.h, self.m, self.grid = h, m, grid
        self.min, self.max = data.min(axis=1), data.max(axis=1)
        self.lo = self.min - 6 * h
        self.step = (self.max + 6 * h - self.lo) / (grid - 1)
        pos = (data - self.lo[:, None]) / self.step[:, None]
        i = np.clip(np.floor(pos).astype(int), 0, grid - 2)
        frac = pos - i
        flat = (np.arange(r)[:, None] * grid + i).ravel()
        counts = (np.bincount(flat, weights=(1 - frac).ravel(), minlength=r * grid)
                  + np.bincount(flat + 1, weights=frac.ravel(), minlength=r * grid)).reshape(r, grid)
        size = 2 * grid
        offset = np.minimum(np.arange(size), size - np.arange(size))
        kernel = np.exp(-0.5 * (offset[None, :] / (h / self.step)[:, None]) ** 2)
        kernel /= kernel.sum(axis=1, keepdims=True)
        dens = np.fft.irfft(np.fft.rfft(counts, n=size, axis=1) * np.fft.rfft(kernel, axis=1), n=size, axis=1)
        dens = dens[:, :grid] / (m * self.step[:, None])
        dens = np.maximum(dens, 1e-12 * dens.max(axis=1, keepdims=True))
        self.logdens = np.log(dens)

    def logpdf(self, x):
        """Log density at rows ``x`` of shape ``(R, M)``."""
        x = np.asarray(x, dtype=float)
        r = self.logdens.shape[0]
        pos = (x - self.lo[:, None]) / self.step[:, None]
        inside = (pos >= 0) & (pos <= self.grid - 1)
        p = np.where(inside, pos, 0.0)
        i = np.clip(np.floor(p).astype(int), 0, self.grid - 2)
        frac = p - i
        rows = np.arange(r)[:, None]
        interp = (1 - frac) * self.logdens[rows, i] + frac * self.logdens[rows, i + 1]
        nearest = np.where(x > self.max[:, None], self.max[:, None], self.min[:, None])
        h = self.h[:, None]
        edge = -np.log(self.m) - 0.5 * ((x - nearest) / h) ** 2 - np.log(h) - 0.5 * np.log(2 * np.pi)
        return np.where(inside, interp, edge)


class _LearnedVerifier(Filter):
    """Shared part of the verifiers that learn from ``m`` real points of their own.

    The real sample is drawn from the world once per replicate, at the filter's first draw
    in a run (with the run's generator), and kept for the whole run: the verifier's training
    set, never trained on by the generator. A new run (another generator, world or number of
    replicates) draws a new one. Each draw also records the verifier's held-out quality:
    its AUC at telling ``holdout`` fresh real points from ``holdout`` fresh generated ones
    (by its estimated density ratio), and, for reference, the AUC of the true density ratio
    on the same points (an oracle's score, for evaluation only). The held-out points come
    from a generator seeded once per run from the run's generator, so switching the
    evaluation off (``holdout=0``) leaves the loop's own draws unchanged.

    ``m``, ``pool``, ``holdout`` (and a draw's ``pool * k`` candidates per replicate) are
    refused with a ValueError naming them above the element budget (see
    ``collapse_lib._validate.set_element_budget``), before anything is allocated.
    """

    _needs = "a verifier learns from real samples of the world"

    def __init__(self, m, pool, holdout):
        # each is a number of points drawn per replicate: refused above the element budget
        self.m = check_budget("m", check_int("m", m, minimum=2))
        self.pool = check_budget("pool", check_int("pool", pool, minimum=2))
        self.holdout = check_budget("holdout", check_int("holdout", holdout, minimum=0))
        self._run = None
        self.reference = None
        self.history = []

    # the run's real sample -------------------------------------------------------------
    def _start(self, world, rng, rows):
        run = self._run
        if run is not None and run[0] is rng and run[1] is world and run[2] == rows:
            return
        self.reference = _real_rows(world, self.m, rows, rng)
        self._eval_rng = np.random.default_rng(int(rng.integers(0, 2**63 - 1)))
        self.history = []
        self._learn_reference(self.reference)
        self._run = (rng, world, rows)   # holding the generator keeps its identity unique

    def _learn_reference(self, reference):  # pragma: no cover - interface
        raise NotImplementedError

    def _learn_model(self, model, rng, rows):
        """Per-draw learning against the current model (default: nothing)."""

    def log_ratio(self, model, x):
        """The verifier's estimate of ``log p_world(x) - log p_model(x)`` at rows ``x`` (R, M)."""
        raise NotImplementedError  # pragma: no cover - interface

    # quality ---------------------------------------------------------------------------
    def _evaluate(self, model, world, rows):
        h = self.holdout
        if h == 0:
            return
        real = _real_rows(world, h, rows, self._eval_rng)
        fake = _points_rows("model samples", model.sample(h, self._eval_rng), rows)
        record = {"auc": auc(self._finite(self.log_ratio(model, real)), self._finite(self.log_ratio(model, fake)))}
        if callable(getattr(world, "logpdf", None)) or callable(getattr(world, "logpmf", None)):
            true_real = log_density(world, real) - log_density(model, real)
            true_fake = log_density(world, fake) - log_density(model, fake)
            record["oracle_auc"] = auc(self._finite(true_real), self._finite(true_fake))
        self.history.append(record)

    @staticmethod
    def _finite(s):
        return np.where(np.isnan(s), -np.inf, s)

    @property
    def quality(self):
        """Held-out AUC of every draw of the last run, shape ``(draws, R)`` (empty before a run).

        The verifier's score is its estimated density ratio; 0.5 means it cannot tell real
        points from generated ones, 1 that it always can. How high an AUC is possible
        depends on how far the model is from the world: see :attr:`oracle_quality`.
        """
        return np.array([h["auc"] for h in self.history]) if self.history else np.empty((0, 0))

    @property
    def oracle_quality(self):
        """AUC of the *true* density ratio on the same held-out points (an oracle's, for reference)."""
        if not self.history or "oracle_auc" not in self.history[0]:
            return np.empty((0, 0))
        return np.array([h["oracle_auc"] for h in self.history])

    # the filter ------------------------------------------------------------------------
    def draw(self, model, k, rng, world):
        k = check_int("k", k, minimum=0)
        check_rng(rng)
        if world is None:
            raise ValueError(f"world must be given: {self._needs}")
        check_budget("k (times pool and replicates)", self.pool * k * _replicates(model))
        single = getattr(model, "batch_shape", ()) == ()
        rows = 1 if single else model.batch_shape[0]
        self._start(world, rng, rows)
        self._learn_model(model, rng, rows)
        raw = model.sample(self.pool * k, rng)
        samples = _points_rows("model samples", raw, rows)
        if k == 0:
            return raw[..., :0] if not single else raw[:0]
        w = _ratio_weights(self.log_ratio(model, samples), 1.0)
        kept = _select(samples, w, k, rng)
        self._evaluate(model, world, rows)
        return kept[0] if single else kept


class DensityVerifier(_LearnedVerifier):
    """A verifier you could build: a density model of ``m`` real points judges the samples.

    Once per replicate (at the start of a run) it draws ``m`` real points from the world and
    fits a density ``q`` to them: a Gaussian kernel density estimate (Silverman's bandwidth)
    by default, or any ``family`` whose fitted model has a ``logpdf``
    (``cl.GaussianMixtureFit(2)``, ``cl.KDEFit(0.3)``, ...). It then keeps generated samples as
    :class:`OracleVerifier` does at accuracy 1, with the estimated ratio
    ``q(x) / p_model(x)`` in place of the true one: of ``pool * k`` candidates, ``k`` are kept
    with probability ``min(1, c q(x) / p_model(x))``. The generator's own density
    ``p_model`` is known to whoever runs it; the world's is not, and ``q`` stands in for it.

    Parameters
    ----------
    m : int >= 2
        Real points the verifier learns from, per replicate (drawn once per run).
    family : Family, optional
        The density model fitted to them (default: the kernel density estimate).
    pool : int >= 2
        Candidates inspected per kept sample.
    holdout : int >= 0
        Fresh real and generated points per replicate on which each draw measures the
        verifier's AUC (``quality``); 0 turns the measurement off.

    Notes
    -----
    As ``m`` grows, ``q`` tends to the world's density and the verifier to the oracle. With
    small ``m`` its real sample may hold no point of a rare mode; ``q`` then calls that
    mode implausible, and the verifier removes it from the model's output: it can hurt. The
    real points it learns from are data: a comparison with an arm that has none says so.

    Introduced in chapter 8, "Filtering, measured".
    """

    _needs = "a density verifier fits its density to real samples of the world"

    def __init__(self, m, family=None, pool=4, holdout=500):
        super().__init__(m, pool, holdout)
        if family is not None and not callable(getattr(family, "fit", None)):
            raise TypeError(f"family must have fit(data) (a collapse_lib family), got {type(family).__name__}")
        self.family = family

    def _learn_reference(self, reference):
        self.density = _BinnedKDE(reference) if self.family is None else self.family.fit(reference)

    def log_ratio(self, model, x):
        return log_density(self.density, x) - log_density(model, x)

    def __repr__(self):
        fam = "" if self.family is None else f", family={self.family!r}"
        return f"DensityVerifier(m={self.m}{fam}, pool={self.pool})"


class ClassifierVerifier(_LearnedVerifier):
    """A verifier you could build: a real-vs-generated classifier judges the samples.

    Once per replicate (at the start of a run) it draws ``m`` real points from the world.
    At every draw it trains a logistic regression to tell those ``m`` real points from ``m``
    fresh samples of the current model, on simple features of a point ``x`` (with ``z`` the
    point standardised by the real sample's mean and standard deviation): ``z``, ``z^2`` and
    ``bumps`` Gaussian bumps at evenly spaced centres across the real sample's range, with a
    ridge penalty. With equal class sizes the fitted log-odds estimate
    ``log p_world(x) - log p_model(x)``, and the verifier keeps generated samples as
    :class:`OracleVerifier` does at accuracy 1 with that estimate in place of the true ratio.

    Parameters
    ----------
    m : int >= 2
        Real points (and generated points) per replicate the classifier trains on.
    pool : int >= 2
        Candidates inspected per kept sample.
    bumps : int >= 0
        Gaussian bump features (their width is the spacing of their centres).
    ridge : float > 0
        Ridge penalty on every coefficient but the intercept (in units of the summed
        log-likelihood).
    holdout : int >= 0
        Fresh real and generated points per replicate on which each draw measures the
        classifier's AUC (``quality``); 0 turns the measurement off.

    Notes
    -----
    Fitted by Newton's method with step halving (at most 30 iterations), all replicates at
    once. Between identical laws the classifier has nothing to learn: its held-out AUC is
    0.5 on average and it keeps a random subset, as no filter does. The ``m`` generated
    training points of each draw come from the run's generator and are not trained on by
    the generator.

    Introduced in chapter 8, "Filtering, measured".
    """

    _needs = "a classifier verifier trains on real samples of the world"

    def __init__(self, m, pool=4, bumps=8, ridge=1.0, holdout=500):
        super().__init__(m, pool, holdout)
        self.bumps = check_budget("bumps", check_int("bumps", bumps, minimum=0))
        self.ridge = check_positive("ridge", ridge)
        self.coef = None

    def _learn_reference(self, reference):
        self._mu = reference.mean(axis=1, keepdims=True)
        sd = reference.std(axis=1, keepdims=True)
        self._sd = np.where(sd > 0, sd, 1.0)
        z = (reference - self._mu) / self._sd
        lo, hi = z.min(axis=1, keepdims=True), z.max(axis=1, keepdims=True)
        if self.bumps:
            t = (np.arange(self.bumps) + 0.5) / self.bumps
            self._centres = lo + (hi - lo) * t[None, :]
            self._width = np.maximum((hi - lo) / self.bumps, 1e-6)
        self._real_features = self.features(reference)
        self.coef = None

    def features(self, x):
        """Feature array ``(R, M, 3 + bumps)`` of rows ``x``: 1, z, z^2 / 2 and the bumps."""
        z = (np.asarray(x, dtype=float) - self._mu) / self._sd
        out = np.empty(z.shape + (3 + self.bumps,))
        out[..., 0] = 1.0
        out[..., 1] = z
        out[..., 2] = 0.5 * z * z
        if self.bumps:
            u = (z[..., None] - self._centres[:, None, :]) / self._width[:, None, :]
            out[..., 3:] = np.exp(-0.5 * u * u)
        return out

    def _learn_model(self, model, rng, rows):
        fake = _points_rows("model samples", model.sample(self.m, rng), rows)
        x = np.concatenate([self._real_features, self.features(fake)], axis=1)
        y = np.concatenate([np.ones((rows, self.m)), np.zeros((rows, self.m))], axis=1)
        # warm start from the previous draw's classifier of the same run (the model moves little)
        self.coef = _logistic_ridge(x, y, self.ridge, start=self.coef)

    def log_ratio(self, model, x):
        return (self.features(x) @ self.coef[..., None])[..., 0]

    def __repr__(self):
        return f"ClassifierVerifier(m={self.m}, pool={self.pool}, bumps={self.bumps}, ridge={self.ridge:g})"


def _logistic_ridge(x, y, ridge, start=None, iterations=30, tol=1e-4):
    """Ridge-penalised logistic regression per row: ``x`` (R, n, p), ``y`` (R, n) -> (R, p).

    Newton's method with step halving, from ``start`` (default zeros); a row stops once no
    coefficient moves by more than ``tol`` (later iterations work on the other rows only).
    The intercept (column 0) is not penalised.
    """
    r, n, p = x.shape
    penalty = np.full(p, ridge)
    penalty[0] = 0.0
    beta = np.zeros((r, p)) if start is None else np.array(start, dtype=float)
    active = np.arange(r)
    xa, ya, ba = x, y, beta[active]

    def linear(xx, b):
        return (xx @ b[..., None])[..., 0]

    def objective(yy, eta, b):
        return (yy * eta - np.logaddexp(0.0, eta)).sum(axis=1) - 0.5 * (penalty * b * b).sum(axis=1)

    eta = linear(xa, ba)
    current = objective(ya, eta, ba)
    for _ in range(iterations):
        prob = special.expit(eta)
        xt = np.swapaxes(xa, 1, 2)
        grad = (xt @ (ya - prob)[..., None])[..., 0] - penalty * ba
        hess = xt @ (xa * (prob * (1 - prob))[..., None]) + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        scale = np.ones((len(active), 1))
        for _ in range(20):
            trial_beta = ba + scale * step
            trial_eta = linear(xa, trial_beta)
            trial = objective(ya, trial_eta, trial_beta)
            worse = trial < current - 1e-12
            if not worse.any():
                break
            scale = np.where(worse[:, None], scale / 2, scale)
        ba, eta, current = trial_beta, trial_eta, trial
        beta[active] = ba
        moving = np.max(np.abs(scale * step), axis=1) >= tol
        if not moving.any():
            break
        if not moving.all():
            active, xa, ya = active[moving], xa[moving], ya[moving]
            ba, eta, current = ba[moving], eta[moving], current[moving]
    return beta
