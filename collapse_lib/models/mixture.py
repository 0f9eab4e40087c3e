"""Gaussian mixture family: K normal components fitted by EM, batched over replicates.

Introduced in chapter 3, "Why tails go first" (in an exercise: a family that *can*
represent the tail bump, so that only statistical error remains); used in
chapters 7, 8 and 9, and as the expressive family of chapter 10's risk taxonomy
(:func:`collapse_lib.studies.taxonomy.expressive_family`).
"""

from __future__ import annotations

import numpy as np

from .._validate import check_finite_array, check_int, check_positive
from ..distributions import NormalMixture
from ..families import Family

__all__ = ["GaussianMixtureFit"]

_LOG_2PI = np.log(2.0 * np.pi)


class GaussianMixtureFit(Family):
    """Fit a mixture of ``K`` normal components by expectation-maximisation (EM).

    One-dimensional EM in numpy, run for every replicate at once: data of
    shape ``(R, m)`` give a :class:`~collapse_lib.NormalMixture` with batch
    shape ``(R,)`` and ``K`` components, sorted by mean.

    Parameters
    ----------
    n_components : int >= 1
        Number of components ``K``. ``K = 1`` is the Normal MLE.
    n_iter : int >= 1
        Maximum number of EM steps.
    tol : float > 0
        A replicate stops when its mean log-likelihood per point improves by
        less than ``tol`` in one step (all replicates stop by ``n_iter``).
    init : "quantile" or array_like of shape (K,)
        ``"quantile"`` (default, deterministic): sort each replicate's data,
        cut it into ``K`` blocks of equal count and start each component at
        its block's mean and variance, with equal weights. An array gives the
        starting means (in data units) for every replicate, with the data's
        variance and equal weights.
    min_std : float > 0
        Floor on each component's standard deviation, *relative to the
        standard deviation of the data being fitted* (default ``1e-3``). It
        stops a component from collapsing onto a single point (where the
        likelihood is unbounded). Because it is relative, it never stops the
        recursion's own shrinkage: when the data spread collapses, the floor
        collapses with it, and data that are all equal give a point mass
        (every component has std 0 at that value), without NaN or warnings.

    Notes
    -----
    *Empty components.* A component whose responsibilities sum to (almost)
    zero keeps its previous mean and std, with weight zero; weights are
    renormalised to sum to 1. It stays in the model but never produces
    samples.

    *The tail.* Unlike a single normal, a mixture can give the rare bump its
    own component, so its tail does not suffer the single normal's
    functional error. What it cannot escape is statistical error: the
    fitted weight of the tail component follows the number of tail points
    that happened to be sampled (a Wright-Fisher-like drift), and once a
    generation's data hold no tail point the component is absorbed into the
    core and the tail is gone for good. Each component's std, fitted by
    maximum likelihood, also shrinks like the single normal's MLE.

    EM never decreases the likelihood, and the variance floor keeps that
    true (the floored M-step is the constrained maximum);
    :meth:`fit_with_history` returns the per-step log-likelihood to check it.

    Introduced in chapter 3, "Why tails go first"; used in chapters 7, 8, 9 and 10.

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> world = cl.NormalMixture([0.7, 0.3], [0.0, 8.0], [1.0, 1.0])
    >>> model = cl.GaussianMixtureFit(2).fit(world.sample(5000, np.random.default_rng(0)))
    >>> np.round(model.means, 1).tolist()
    [0.0, 8.0]
    """

    def __init__(self, n_components=2, n_iter=200, tol=1e-7, init="quantile", min_std=1e-3):
        self.n_components = check_int("n_components", n_components, minimum=1)
        self.n_iter = check_int("n_iter", n_iter, minimum=1)
        self.tol = check_positive("tol", tol)
        self.min_std = check_positive("min_std", min_std)
        if isinstance(init, str):
            if init != "quantile":
                raise ValueError(f"init must be 'quantile' or an array of {self.n_components} means, got {init!r}")
            self.init = init
        else:
            arr = check_finite_array("init", init, ndim=(1,))
            if arr.shape != (self.n_components,):
                raise ValueError(f"init must have shape ({self.n_components},) (one mean per component), got {arr.shape}")
            self.init = arr

    def _fit(self, data):
        return self._em(data, history=False)[0]

    def fit_with_history(self, data):
        """Fit and also return the log-likelihood after every EM step.

        Returns
        -------
        model : NormalMixture
            Batched (``data`` is promoted to ``(1, m)`` when 1-D).
        loglik : ndarray of shape (steps + 1, R)
            Mean log-likelihood per data point, in data units, at the start
            and after each step (replicates that have stopped repeat their
            last value).
        """
        data = self._check(data)
        return self._em(data if data.ndim == 2 else data[None, :], history=True)

    def _init_params(self, z):
        r, m = z.shape
        k = self.n_components
        if isinstance(self.init, str):
            zs = np.sort(z, axis=1)
            edges = np.linspace(0, m, k + 1).round().astype(int)
            means = np.empty((r, k))
            var = np.empty((r, k))
            for j in range(k):  # loop over components, not replicates
                lo = min(edges[j], m - 1)
                block = zs[:, lo:max(edges[j + 1], lo + 1)]
                means[:, j] = block.mean(axis=1)
                var[:, j] = block.var(axis=1)
            # a block of one point (or of equal points) has no spread: start wide
            var = np.where(var > 0, var, 1.0)
        else:
            means = np.broadcast_to(self.init, (r, k)).copy()
            var = np.ones((r, k))
        return np.full((r, k), 1.0 / k), means, var

    def _em(self, data, history):
        r, m = data.shape
        mu = data.mean(axis=1)
        sd = np.sqrt(np.square(data - mu[:, None]).mean(axis=1))
        scale = np.where(sd > 0, sd, 1.0)
        z = (data - mu[:, None]) / scale[:, None]
        if not isinstance(self.init, str):
            init_z = (self.init[None, :] - mu[:, None]) / scale[:, None]
            w, means, var = self._init_params(z)
            means = init_z
        else:
            w, means, var = self._init_params(z)
        floor = self.min_std**2
        var = np.maximum(var, floor)
        tiny = 1e-12 * m
        # components on the leading axis: (K, R, m) arrays, so that every
        # reduction over components is an elementwise op between big arrays
        w, means, var = w.T.copy(), means.T.copy(), var.T.copy()
        z2 = z * z

        def e_step(zz, zz2, ww, mm, vv):
            # log w_k N(z; m_k, v_k) = c_k + b_k z + q_k z^2
            with np.errstate(divide="ignore"):
                c = np.log(ww) - 0.5 * (_LOG_2PI + np.log(vv) + mm * mm / vv)
            lp = (mm / vv)[:, :, None] * zz[None]
            lp += (-0.5 / vv)[:, :, None] * zz2[None]
            lp += c[:, :, None]
            top = lp.max(axis=0)
            lp -= top
            np.exp(lp, out=lp)
            total = lp.sum(axis=0)
            lp /= total
            return lp, top + np.log(total)   # responsibilities, log-likelihood per point

        resp, ll = e_step(z, z2, w, means, var)
        current = ll.mean(axis=1)
        trace = [current.copy()] if history else None
        active = np.arange(r)
        za, za2 = z, z2
        for _ in range(self.n_iter):
            if active.size == 0:
                break
            ma, va = means[:, active], var[:, active]
            nk = resp.sum(axis=2)
            ok = nk > tiny
            safe_nk = np.where(ok, nk, 1.0)
            s1 = np.einsum("krm,rm->kr", resp, za)
            s2 = np.einsum("krm,rm->kr", resp, za2)
            new_m = s1 / safe_nk
            new_v = s2 / safe_nk - new_m * new_m
            ma = np.where(ok, new_m, ma)
            va = np.maximum(np.where(ok, new_v, va), floor)
            wa = np.where(ok, nk, 0.0)
            wa = wa / wa.sum(axis=0, keepdims=True)
            w[:, active], means[:, active], var[:, active] = wa, ma, va
            resp, ll = e_step(za, za2, wa, ma, va)
            new = ll.mean(axis=1)
            gain = new - current[active]
            current[active] = new
            if history:
                trace.append(current.copy())
            still = gain > self.tol
            if not still.all():
                active, za, za2 = active[still], za[still], za2[still]
                resp = resp[:, still]
        w, means, var = w.T, means.T, var.T
        order = np.argsort(means, axis=1, kind="stable")
        w = np.take_along_axis(w, order, axis=1)
        means = np.take_along_axis(means, order, axis=1)
        var = np.take_along_axis(var, order, axis=1)
        model = NormalMixture._from_params(w, mu[:, None] + sd[:, None] * means, sd[:, None] * np.sqrt(var))
        if not history:
            return model, None
        return model, np.stack(trace) - np.log(scale)[None, :]

    def __repr__(self):
        return f"GaussianMixtureFit(n_components={self.n_components})"
