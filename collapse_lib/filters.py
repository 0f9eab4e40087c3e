"""Filters: what is done to generated samples before they are trained on.

A filter draws ``k`` synthetic samples per replicate from a model, possibly
drawing more and keeping some. :class:`NoFilter` uses the model's output as it
is, the regime of the collapse results. :class:`QualityFilter` keeps the most
typical samples (a sampling bias that cuts the tails); :class:`Verifier`
checks samples against the real world, with an accuracy knob.

Every filter follows one protocol, ``draw(model, k, rng, world) -> (R, k)``
(``(k,)`` for an unbatched model), uses only the ``rng`` it is given, and does
a bounded amount of work (no open-ended redraw loops).

Introduced in chapter 2; measured in chapter 8, "Filtering, measured".
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ._validate import check_fraction, check_int, check_rng

__all__ = ["Filter", "NoFilter", "QualityFilter", "Verifier", "central_normal_variance"]


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


class Verifier(Filter):
    """Check generated samples against the real world, with an accuracy knob.

    Parameters
    ----------
    accuracy : float in [0, 1]
        0: a useless verifier, whose choice does not depend on the sample
        (the kept samples have exactly the model's law, as with
        :class:`NoFilter`). 1: a perfect verifier, which judges each sample by
        how plausible the real world finds it relative to the model.
    pool : int >= 2
        Candidates inspected per kept sample: the verifier draws
        ``pool * k`` samples from the model and keeps ``k``.

    Notes
    -----
    *How it decides.* For a candidate ``x`` let ``r(x) = p_world(x) /
    p_model(x)`` (normalised by its average over the candidates, so that it
    averages 1). A verifier of accuracy ``a`` gives each candidate the weight
    ``w(x) = a r(x) + (1 - a)``: with probability ``a`` it judges by the world,
    otherwise it cannot tell and every sample looks alike. It keeps each
    candidate with probability ``min(1, c w(x))``, with ``c`` set per
    replicate so that exactly ``k`` are kept (systematic sampling over the
    iid candidates, so the work is fixed: no redraw loop).

    *What it produces.* The kept samples follow (as ``pool * k`` grows) the
    law proportional to ``p_model(x) min(1, c w(x))``. Where the cap is not
    reached this is ``a p_world + (1 - a) p_model``: the perfect verifier is
    rejection sampling toward the world, and a partial one hands the learner
    a share ``a`` of world-like samples, like an anchor of fresh data, but
    drawn from the model's own output. The cap means the verifier can
    up-weight a region by at most about ``pool`` times the model's own rate.

    *The tail.* Where a collapsing model under-produces the tail, the world
    outweighs it (``r > 1``), so the verifier keeps those samples
    preferentially and restores tail mass, up to the ``pool`` cap. It cannot
    create what the model no longer generates at all: once the model puts
    essentially no mass in a region, no verifier brings it back. Conversely
    it thins regions the model over-produces (an over-concentrated core).

    If fewer than ``k`` candidates have any plausibility under the world
    (``r = 0``), the remainder is filled with implausible candidates chosen
    at random (their weight is floored at a tiny positive value).

    Following Feng et al. (2025), "Beyond model collapse: scaling up with
    synthesized data requires verification".

    Introduced in chapter 8, "Filtering, measured".
    """

    def __init__(self, accuracy=1.0, pool=4):
        self.accuracy = check_fraction("accuracy", accuracy)
        self.pool = check_int("pool", pool, minimum=2)

    def weights(self, model, world, samples):
        """Selection weights ``w(x) = a r(x) + (1 - a)`` of candidate rows ``(R, M)``, max 1 per row."""
        lr = log_density(world, samples) - log_density(model, samples)
        # NaN (both densities zero) counts as implausible; an underflowed model density
        # (+inf ratio) as very plausible, kept finite so that the normalisation holds
        lr = np.minimum(np.where(np.isnan(lr), -np.inf, lr), 700.0)
        m = lr.shape[-1]
        with np.errstate(divide="ignore"):
            top = lr.max(axis=-1, keepdims=True)
            safe_top = np.where(np.isfinite(top), top, 0.0)
            lmean = safe_top + np.log(np.exp(lr - safe_top).sum(axis=-1, keepdims=True) / m)
            la, l1a = np.log(self.accuracy), np.log1p(-self.accuracy)
        # rows where the world finds nothing plausible: judge them as a useless verifier would
        lr = np.where(np.isfinite(lmean), lr - np.where(np.isfinite(lmean), lmean, 0.0), 0.0)
        lw = np.logaddexp(la + lr, l1a)
        lw = lw - lw.max(axis=-1, keepdims=True)
        return np.maximum(np.exp(lw), 1e-12)

    def draw(self, model, k, rng, world):
        k = check_int("k", k, minimum=0)
        check_rng(rng)
        if world is None:
            raise ValueError("world must be given: a verifier checks samples against the real world")
        raw = model.sample(self.pool * k, rng)
        samples, single = _rows(model, raw)
        if k == 0:
            return raw[..., :0] if not single else raw[:0]
        lr_in = samples[0] if single else samples
        w = self.weights(model, world, lr_in)
        w = w[None, :] if single else w
        pi = _inclusion(w, k)
        idx = _systematic(pi, k, rng)
        kept = np.take_along_axis(samples, idx.reshape(idx.shape + (1,) * (samples.ndim - 2)), axis=1)
        return kept[0] if single else kept

    def __repr__(self):
        return f"Verifier(accuracy={self.accuracy:g}, pool={self.pool})"
