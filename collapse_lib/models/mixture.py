"""Gaussian mixture family: K normal components fitted by EM, batched over replicates.

One-dimensional data ``(R, m)`` give a :class:`~collapse_lib.NormalMixture`;
``d``-dimensional data ``(R, m, d)`` give a
:class:`~collapse_lib.MultivariateNormalMixture` (full, diagonal or tied
covariances). Either way every replicate runs through the same numpy EM at
once, with no Python loop over replicates.

Introduced in chapter 3, "Why tails go first" (in an exercise: a family that *can*
represent the tail bump, so that only statistical error remains); used in
chapters 7, 8 and 9, and as the expressive family of chapter 10's risk taxonomy
(:func:`collapse_lib.studies.taxonomy.expressive_family`); in ``d`` dimensions
in Part IV, "Multivariate Gaussians (det and trace)"; the model of handwritten
digits refitted on its own samples in chapter 6, "Collapse you can see" (a
k-means start and a warm start from the previous generation's model).
"""

from __future__ import annotations

import numpy as np

from .._validate import check_budget, check_finite_array, check_int, check_positive, check_rng
from ..distributions import NormalMixture
from ..families import Family, _unbatch
from .multivariate import MultivariateNormalMixture

__all__ = ["GaussianMixtureFit"]

_LOG_2PI = np.log(2.0 * np.pi)
#: d-dimensional EM runs on moment features (d^2 + d + 1 per point) up to this dimension
_MOMENT_DIM = 3
#: the moment-feature E-step normalises without a max-shift while every point's density sum is in this range
_SUM_LOW, _SUM_HIGH = 1e-280, 1e280
#: Lloyd iterations of the k-means start (``init="kmeans"``)
_KMEANS_STEPS = 10


def _spd_inverse_logdet(c):
    """Inverse and log-determinant of a stack of symmetric positive definite matrices ``(..., d, d)``.

    For ``d <= 2`` from the closed forms (``1 / c``; the 2 x 2 adjugate over
    ``ac - b^2``): a handful of elementwise operations on the stack, cheaper
    than two LAPACK calls for the small stacks of an EM step; LAPACK above.
    Agrees with :func:`numpy.linalg.inv` and :func:`numpy.linalg.slogdet` to
    rounding.
    """
    d = c.shape[-1]
    if d == 1:
        return 1.0 / c, np.log(c[..., 0, 0])
    if d == 2:
        a, b, e = c[..., 0, 0], c[..., 0, 1], c[..., 1, 1]
        det = a * e - b * b
        inv = np.empty_like(c)
        r = 1.0 / det
        np.multiply(e, r, out=inv[..., 0, 0])
        np.multiply(a, r, out=inv[..., 1, 1])
        np.multiply(b, -r, out=inv[..., 0, 1])
        inv[..., 1, 0] = inv[..., 0, 1]
        return inv, np.log(det)
    return np.linalg.inv(c), np.linalg.slogdet(c)[1]


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
        at most ``tol`` in one step (all replicates stop by ``n_iter``). This
        is scikit-learn's ``tol`` on the same quantity, checked one step
        earlier: scikit-learn notices a small gain one E-step later and
        takes one more M-step before it stops.
    init : "quantile", "kmeans", array_like of shape (K,) or (K, d), or a fitted mixture
        ``"quantile"`` (default, deterministic): sort each replicate's data
        (in ``d`` dimensions: its projection on the data's first principal
        axis), cut it into ``K`` blocks of equal count and start each
        component at its block's mean and (co)variance, with equal weights.
        ``"kmeans"`` (``d``-dimensional data only; random, so ``fit`` needs
        ``rng``): ten Lloyd iterations of k-means from ``K`` distinct data
        points drawn with ``rng``, whose hard assignments give the first
        M-step (scikit-learn's default start).
        An array gives the starting means (in data units) for every
        replicate, with the data's variance and equal weights. A fitted
        :class:`~collapse_lib.MultivariateNormalMixture` (batched like the
        data, or unbatched) starts ``d``-dimensional EM from it (a warm
        start, as a pipeline that retrains its last model does).
    min_std : float > 0
        Floor on each component's standard deviation, *relative to the
        standard deviation of the data being fitted* (default ``1e-3``). It
        stops a component from collapsing onto a single point (where the
        likelihood is unbounded). Because it is relative, it never stops the
        recursion's own shrinkage: when the data spread collapses, the floor
        collapses with it, and data that are all equal give a point mass
        (every component has std 0 at that value), without NaN or warnings.
        In ``d`` dimensions ``(min_std * s)^2`` is added to every covariance
        diagonal (scikit-learn's ``reg_covar``, made relative), ``s`` being
        the data's root-mean-square spread per coordinate.
    covariance_type : {"full", "diag", "tied"}
        ``d``-dimensional data only: each component's own full covariance
        (default), its own diagonal one, or one full covariance shared by all
        components.
    reg_covar : float > 0, optional
        ``d``-dimensional data only: an absolute amount added to the
        covariance diagonals instead of the relative ``min_std`` floor
        (scikit-learn's semantics, e.g. to compare with its fit).

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

    *Random starts and warm starts.* ``fit(data, rng=..., init=...)``: the
    generator feeds ``init="kmeans"`` (only), so a run drawn from one
    generator stays reproducible (:func:`collapse_lib.simulate` passes the
    run's own generator to a family whose ``fit_uses_rng`` is true, so
    ``init="kmeans"`` works there too); ``init`` given to ``fit`` replaces the
    family's own for that fit. Chapter 6 passes the previous generation's
    model there (a warm start: a pipeline that retrains its last model); the
    result is still EM's fit to the new data, reached in fewer steps.

    *d dimensions.* Data of shape ``(R, m, d)`` (a 2-D array is always read
    as ``R`` one-dimensional samples: pass one ``d``-dimensional sample as
    ``data[None]``). Components are sorted by the first coordinate of their
    mean. ``tests/test_multivariate.py`` checks the fit against
    scikit-learn's ``GaussianMixture`` on the same data.

    Introduced in chapter 3, "Why tails go first"; used in chapters 6, 7, 8, 9 and 10.

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> world = cl.NormalMixture([0.7, 0.3], [0.0, 8.0], [1.0, 1.0])
    >>> model = cl.GaussianMixtureFit(2).fit(world.sample(5000, np.random.default_rng(0)))
    >>> np.round(model.means, 1).tolist()
    [0.0, 8.0]
    """

    COVARIANCE_TYPES = ("full", "diag", "tied")
    INITS = ("quantile", "kmeans")

    def __init__(self, n_components=2, n_iter=200, tol=1e-7, init="quantile", min_std=1e-3,
                 covariance_type="full", reg_covar=None):
        self.n_components = check_int("n_components", n_components, minimum=1)
        self.n_iter = check_int("n_iter", n_iter, minimum=1)
        self.tol = check_positive("tol", tol)
        self.min_std = check_positive("min_std", min_std)
        if not isinstance(covariance_type, str) or covariance_type not in self.COVARIANCE_TYPES:
            raise ValueError(f"covariance_type must be one of {self.COVARIANCE_TYPES}, got {covariance_type!r}")
        self.covariance_type = covariance_type
        self.reg_covar = None if reg_covar is None else check_positive("reg_covar", reg_covar)
        self.init = self._check_init(init)

    def _check_init(self, init):
        """A valid ``init`` (a start's name, an array of means or a fitted mixture), else raise."""
        if isinstance(init, str):
            if init not in self.INITS:
                raise ValueError(f"init must be 'quantile', 'kmeans', an array of {self.n_components} means or a "
                                 f"fitted mixture, got {init!r}")
            return init
        if isinstance(init, MultivariateNormalMixture):
            if init.n_components != self.n_components:
                raise ValueError(f"init must have n_components={self.n_components} components, got {init.n_components}")
            return init
        arr = check_finite_array("init", init, ndim=(1, 2))
        if arr.shape[0] != self.n_components:
            raise ValueError(f"init must have shape ({self.n_components},) or ({self.n_components}, d) "
                             f"(one mean per component), got {arr.shape}")
        return arr

    def _check(self, data):
        return check_finite_array("data", data, ndim=(1, 2, 3), min_size=self.min_samples)

    def fit(self, data, rng=None, init=None):
        """Fit to ``(m,)`` or ``(R, m)`` one-dimensional data, or ``(R, m, d)`` points; return the mixture.

        Parameters
        ----------
        data : array_like, shape (m,), (R, m) or (R, m, d)
        rng : numpy.random.Generator, optional
            Draws the k-means start; required with ``init="kmeans"``, not used otherwise.
        init : optional
            A start for this fit only, in place of the family's ``init`` (same
            kinds; chapter 6 passes the previous generation's fitted mixture).
        """
        data = self._check(data)
        init = self._fit_init(data, rng, init)
        if data.ndim == 3:
            if data.shape[1] < 1:
                raise ValueError(f"data must contain at least 1 point per replicate, got shape {data.shape}")
            self._check_memory(data)
            return self._em_nd(data, history=False, init=init, rng=rng)[0]
        if init is self.init:
            return super().fit(data)
        unbatched = data.ndim == 1
        self._check_memory(data)
        model = self._em(data[None, :] if unbatched else data, history=False, init=init)[0]
        return _unbatch(model) if unbatched else model

    def _fit_init(self, data, rng, init):
        """The start of this fit (``init`` or the family's), checked against ``data`` and ``rng``."""
        init = self.init if init is None else self._check_init(init)
        if rng is not None:
            check_rng(rng)
        if isinstance(init, str) and init == "kmeans":
            if data.ndim != 3:
                raise ValueError("init='kmeans' is for d-dimensional data of shape (R, m, d); one-dimensional "
                                 "data take init='quantile' or an array of means")
            if rng is None:
                raise TypeError("init='kmeans' draws its start: pass rng, a numpy.random.Generator "
                                "(fit(data, rng=np.random.default_rng(0)))")
            if data.shape[1] < self.n_components:
                raise ValueError(f"data must hold at least n_components={self.n_components} points per replicate "
                                 f"for init='kmeans', got shape {data.shape}")
        return init

    def _check_memory(self, data):
        """Refuse, before EM allocates them, responsibilities and work arrays above the element budget."""
        r, m = data.shape[:2] if data.ndim >= 2 else (1, data.shape[0])
        d = data.shape[2] if data.ndim == 3 else 1
        per_point = d + 1 if d > _MOMENT_DIM else d * d + d + 1
        check_budget("data", r * m * per_point)
        check_budget("n_components", self.n_components * r * m * (d + 1))

    @property
    def fit_uses_rng(self):
        """Whether a fit draws random numbers (``init="kmeans"``): :func:`collapse_lib.simulate` then passes its generator."""
        return isinstance(self.init, str) and self.init == "kmeans"

    def _fit(self, data, rng=None):
        self._check_memory(data)
        if data.ndim == 3:
            return self._em_nd(data, history=False, init=self.init, rng=rng)[0]
        return self._em(data, history=False, init=self.init)[0]

    def fit_with_history(self, data, rng=None, init=None):
        """Fit and also return the log-likelihood after every EM step.

        ``rng`` and ``init`` as in :meth:`fit`.

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
        init = self._fit_init(data, rng, init)
        self._check_memory(data)
        if data.ndim == 3:
            return self._em_nd(data, history=True, init=init, rng=rng)
        return self._em(data if data.ndim == 2 else data[None, :], history=True, init=init)

    def _init_params(self, z, init):
        r, m = z.shape
        k = self.n_components
        if isinstance(init, MultivariateNormalMixture) or (not isinstance(init, str) and init.ndim == 2):
            raise ValueError("init for one-dimensional data must be 'quantile' or an array of shape "
                             f"({k},); a fitted d-dimensional mixture or ({k}, d) means need (R, m, d) data")
        if isinstance(init, str) and init == "kmeans":
            raise ValueError("init='kmeans' is for d-dimensional data of shape (R, m, d)")
        if isinstance(init, str):
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
            means = np.broadcast_to(init, (r, k)).copy()
            var = np.ones((r, k))
        return np.full((r, k), 1.0 / k), means, var

    def _em(self, data, history, init):
        r, m = data.shape
        mu = data.mean(axis=1)
        sd = np.sqrt(np.square(data - mu[:, None]).mean(axis=1))
        scale = np.where(sd > 0, sd, 1.0)
        z = (data - mu[:, None]) / scale[:, None]
        if not isinstance(init, str):
            w, means, var = self._init_params(z, init)
            means = (init[None, :] - mu[:, None]) / scale[:, None]
        else:
            w, means, var = self._init_params(z, init)
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
        if self.covariance_type != "full":
            return f"GaussianMixtureFit(n_components={self.n_components}, covariance_type={self.covariance_type!r})"
        return f"GaussianMixtureFit(n_components={self.n_components})"

    # ------------------------------------------------------------------ d dimensions
    def _init_nd(self, z, mu, scale, reg, init, rng):
        """Starting weights (K, R), means (K, R, d) and covariances (K, R, d, d), in standardised units."""
        r, m, d = z.shape
        k = self.n_components
        eye = np.eye(d)
        if isinstance(init, str) and init == "kmeans":
            if rng is None:
                raise TypeError("init='kmeans' draws its start from a generator, and this call passed none: "
                                "call fit(data, rng=...) (cl.simulate passes the run's generator)")
            return self._kmeans_start(z, reg, rng)
        if isinstance(init, MultivariateNormalMixture):
            if init.dim != d:
                raise ValueError(f"init has points of dimension {init.dim}, the data {d}")
            if init.batch_shape not in ((), (r,)):
                raise ValueError(f"init must be unbatched or a batch of {r} mixtures, got batch shape {init.batch_shape}")
            w = np.broadcast_to(init.weights, (r, k))
            means = (np.broadcast_to(init.means, (r, k, d)) - mu[:, None, :]) / scale[:, None, None]
            covs = np.broadcast_to(init.covs, (r, k, d, d)) / (scale**2)[:, None, None, None]
            w = np.maximum(w, 1e-12)
            w = w / w.sum(axis=1, keepdims=True)
            covs = covs + reg[:, None, None, None] * eye
        elif not isinstance(init, str):
            if init.ndim != 2 or init.shape[1] != d:
                raise ValueError(f"init for d-dimensional data must have shape ({k}, {d}), got {init.shape}")
            means = (init[None] - mu[:, None, :]) / scale[:, None, None]
            covs = np.broadcast_to(eye, (r, k, d, d)) + reg[:, None, None, None] * eye
            w = np.full((r, k), 1.0 / k)
        else:
            cov = np.swapaxes(z, 1, 2) @ z / m
            axis = np.linalg.eigh(cov)[1][..., -1]                       # first principal axis
            order = np.argsort(np.einsum("rmd,rd->rm", z, axis), axis=1, kind="stable")
            zs = np.take_along_axis(z, order[..., None], axis=1)
            edges = np.linspace(0, m, k + 1).round().astype(int)
            means = np.empty((r, k, d))
            covs = np.empty((r, k, d, d))
            for j in range(k):  # loop over components, not replicates
                lo = min(edges[j], m - 1)
                block = zs[:, lo:max(edges[j + 1], lo + 1)]
                means[:, j] = block.mean(axis=1)
                bc = block - means[:, j, None, :]
                covs[:, j] = np.swapaxes(bc, 1, 2) @ bc / block.shape[1]
            # a block without spread (one point, or equal points) starts wide
            flat = np.trace(covs, axis1=-2, axis2=-1) <= 0
            covs[flat] = eye
            covs = covs + reg[:, None, None, None] * eye
            w = np.full((r, k), 1.0 / k)
        # start inside the model class, so that EM's first step cannot lower the likelihood
        if self.covariance_type == "diag":
            covs = covs * eye
        elif self.covariance_type == "tied":
            covs = np.broadcast_to(np.einsum("rk,rkij->rij", w, covs)[:, None], covs.shape)
        # copies (EM writes into them): a tied covariance of one component is a read-only broadcast view
        return (np.array(np.moveaxis(w, 1, 0), order="C"), np.array(np.moveaxis(means, 1, 0), order="C"),
                np.array(np.moveaxis(covs, 1, 0), order="C"))

    def _kmeans_start(self, z, reg, rng):
        """The k-means start: the M-step of the hard assignments of ``_KMEANS_STEPS`` Lloyd iterations.

        The centres start at ``K`` distinct points of each replicate, chosen
        by uniform random keys drawn with ``rng`` (one key per point); a
        centre left without points keeps its place. Returns the arrays of
        :meth:`_init_nd`; a component without points starts at weight 0
        (its mean at its centre, its covariance the identity plus ``reg``, or
        the shared one if tied) and stays empty, a legal degenerate state.
        """
        r, m, d = z.shape
        k = self.n_components
        keys = rng.random((r, m))
        # argpartition leaves the k smallest keys in an order that depends on the CPU's sorting
        # kernels; sorting the indices makes the component order (and every later draw) the same
        # on every machine
        idx = np.sort(np.argpartition(keys, k - 1, axis=1)[:, :k], axis=1)
        centres = np.take_along_axis(z, idx[..., None], axis=1)              # (R, K, d)
        for _ in range(_KMEANS_STEPS):
            dist = np.sum((z[:, :, None, :] - centres[:, None, :, :]) ** 2, axis=-1)
            onehot = (dist.argmin(axis=2)[..., None] == np.arange(k)).astype(float)   # (R, m, K)
            counts = onehot.sum(axis=1)
            sums = np.einsum("rmk,rmd->rkd", onehot, z)
            centres = np.where(counts[..., None] > 0, sums / np.maximum(counts, 1)[..., None], centres)
        resp = np.ascontiguousarray(np.moveaxis(onehot, 2, 0))              # (K, R, m)
        nk, ok, new_m, scatter = self._weighted_moments(resp, z, 1e-12 * m)
        if self.covariance_type == "tied":    # every component, even an empty one, holds the shared matrix
            empty_cov = np.broadcast_to(scatter.sum(axis=0) / m + reg[:, None, None] * np.eye(d), (k, r, d, d))
        else:
            empty_cov = np.broadcast_to(np.eye(d) + reg[:, None, None] * np.eye(d), (k, r, d, d))
        w, means, covs = self._m_update(nk, ok, new_m, scatter, m, reg[None, :, None, None] * np.eye(d),
                                        np.moveaxis(centres, 1, 0), empty_cov)
        return np.array(w, order="C"), np.array(means, order="C"), np.array(covs, order="C")

    def _em_nd(self, data, history, init, rng):
        r, m, d = data.shape
        k = self.n_components
        mu = data.mean(axis=1)
        xc = data - mu[:, None, :]
        sd = np.sqrt(np.mean(xc * xc, axis=(1, 2)))
        scale = np.where(sd > 0, sd, 1.0)
        z = xc / scale[:, None, None]
        if self.reg_covar is None:
            reg = np.full(r, self.min_std**2)
        else:
            reg = self.reg_covar / scale**2
        w, means, covs = self._init_nd(z, mu, scale, reg, init, rng)
        tiny = 1e-12 * m
        const = d * _LOG_2PI
        if d <= _MOMENT_DIM:
            w, means, covs, trace = self._em_moments(z, w, means, covs, reg, history)
            return self._nd_model(w, means, covs, mu, sd, scale, trace)

        def e_step(zz, ww, mm, cc):
            chol = np.linalg.cholesky(cc)                                # (K, Ra, d, d)
            inv = np.linalg.inv(chol)
            y = (zz[None] - mm[:, :, None, :]) @ np.swapaxes(inv, -1, -2)  # (K, Ra, m, d)
            lp = np.einsum("krmd,krmd->krm", y, y)
            logdet = 2.0 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
            with np.errstate(divide="ignore"):
                c = np.log(ww) - 0.5 * (const + logdet)
            lp *= -0.5
            lp += c[:, :, None]
            top = lp.max(axis=0)
            lp -= top
            np.exp(lp, out=lp)
            total = lp.sum(axis=0)
            lp /= total
            return lp, top + np.log(total)

        resp, ll = e_step(z, w, means, covs)
        current = ll.mean(axis=1)
        trace = [current.copy()] if history else None
        active = np.arange(r)
        za, reg_eye = z, reg[None, :, None, None] * np.eye(d)
        for _ in range(self.n_iter):
            if active.size == 0:
                break
            ma, ca = means[:, active], covs[:, active]
            nk, ok, new_m, scatter = self._weighted_moments(resp, za, tiny)
            wa, ma, ca = self._m_update(nk, ok, new_m, scatter, m, reg_eye, ma, ca)
            w[:, active], means[:, active], covs[:, active] = wa, ma, ca
            resp, ll = e_step(za, wa, ma, ca)
            new = ll.mean(axis=1)
            gain = new - current[active]
            current[active] = new
            if history:
                trace.append(current.copy())
            still = gain > self.tol
            if not still.all():
                active, za, reg_eye = active[still], za[still], reg_eye[:, still]
                resp = resp[:, still]
        return self._nd_model(w, means, covs, mu, sd, scale, trace)

    def _em_moments(self, z, w, means, covs, reg, history):
        """d-dimensional EM (small ``d``) through the moment features ``[z z^T, z, 1]`` of every point.

        The same EM steps as the general loop of :meth:`_em_nd`, with fewer and
        smaller array operations: each component's log density
        ``log w - (d log 2 pi + log det C + (z - m)^T P (z - m)) / 2`` (``P = C^-1``)
        is linear in the features, so the E-step is one batched matrix product
        ``(R, K, F) @ (R, F, m)``; the M-step's sums (``n_k``, ``sum r z``,
        ``sum r z z^T``) are one product ``(R, K, m) @ (R, m, F)``, and the
        scatter is ``sum r z z^T - n_k m m^T``. ``F = d^2 + d + 1`` features, so
        this path is used for ``d <= _MOMENT_DIM`` only (memory ``F / d`` times
        the data). Works in standardised units, arrays with components first as
        :meth:`_init_nd` returns them; returns ``(w, means, covs, trace)``.
        """
        r, m, d = z.shape
        k = self.n_components
        tiny = 1e-12 * m
        const = d * _LOG_2PI
        feats = np.empty((r, m, d * d + d + 1))
        np.multiply(z[..., :, None], z[..., None, :], out=feats[..., : d * d].reshape(r, m, d, d))
        feats[..., d * d: d * d + d] = z
        feats[..., -1] = 1.0
        feats_t = np.ascontiguousarray(np.swapaxes(feats, 1, 2))         # (R, F, m)

        def e_step(ft, ww, mm, cc):
            # this loop's time goes to the number of array operations, not their size: the
            # precision and log-determinant come from closed forms for d <= 2 and two LAPACK
            # calls for d = 3 (the covariances are positive definite: the regulariser is on
            # every diagonal), and the normalisation skips the max-shift unless a point's
            # density sum under- or overflows
            prec, logdet = _spd_inverse_logdet(cc)                       # C^-1, (K, Ra, d, d)
            pm = (prec @ mm[..., None])[..., 0]                          # P m, (K, Ra, d)
            coef = np.empty(ww.shape + (d * d + d + 1,))
            np.multiply(prec.reshape(ww.shape + (d * d,)), -0.5, out=coef[..., : d * d])
            coef[..., d * d: d * d + d] = pm
            # an empty component (weight 0) gets log density -inf, set after the product: a -inf
            # coefficient inside it can meet the zero padding of a BLAS kernel and give NaN
            any_dead = ww.min() <= 0
            dead = ww <= 0 if any_dead else None
            logw = np.log(np.where(dead, 1.0, ww)) if any_dead else np.log(ww)
            coef[..., -1] = logw - 0.5 * (const + logdet + (mm * pm).sum(axis=-1))

            def log_density():
                lp = np.swapaxes(coef, 0, 1) @ ft                        # (Ra, K, m)
                if any_dead:
                    lp[np.swapaxes(dead, 0, 1)] = -np.inf
                return lp

            resp = log_density()
            np.exp(resp, out=resp)
            total = resp.sum(axis=1)
            if total.min() > _SUM_LOW and total.max() < _SUM_HIGH:
                resp /= total[:, None, :]
                return resp, np.log(total)
            lp = log_density()                                           # log-sum-exp, shifted
            top = lp.max(axis=1)
            lp -= top[:, None, :]
            np.exp(lp, out=lp)
            total = lp.sum(axis=1)
            lp /= total[:, None, :]
            return lp, top + np.log(total)

        resp, ll = e_step(feats_t, w, means, covs)
        current = ll.sum(axis=1) / m
        trace = [current.copy()] if history else None
        # The loop works on the active replicates' own arrays (all of them at first) and writes a
        # replicate's parameters back only when it stops: no gather or scatter per step.
        w, means, covs = np.array(w), np.array(means), np.array(covs)
        active = np.arange(r)
        fa, fta, wa, ma, ca, last = feats, feats_t, w, means, covs, current
        reg_eye = reg[None, :, None, None] * np.eye(d)
        for _ in range(self.n_iter):
            if active.size == 0:
                break
            sums = np.swapaxes(resp @ fa, 0, 1)                          # (K, Ra, F)
            nk = sums[..., -1]
            ok = nk > tiny
            every_ok = bool(ok.all())
            new_m = sums[..., d * d: d * d + d] / (nk if every_ok else np.where(ok, nk, 1.0))[..., None]
            scatter = sums[..., : d * d].reshape(nk.shape + (d, d)) \
                - nk[..., None, None] * (new_m[..., :, None] * new_m[..., None, :])
            wa, ma, ca = self._m_update(nk, ok, new_m, scatter, m, reg_eye, ma, ca, every=every_ok)
            resp, ll = e_step(fta, wa, ma, ca)
            new = ll.sum(axis=1) / m
            gain = new - last
            last = new
            if history:
                current[active] = new
                trace.append(current.copy())
            still = gain > self.tol
            if not still.all():
                done = ~still
                stop = active[done]
                w[:, stop], means[:, stop], covs[:, stop] = wa[:, done], ma[:, done], ca[:, done]
                active, fa, fta, reg_eye = active[still], fa[still], fta[still], reg_eye[:, still]
                wa, ma, ca, last = wa[:, still], ma[:, still], ca[:, still], new[still]
                resp = resp[still]
        if active.size:  # n_iter reached before these converged
            w[:, active], means[:, active], covs[:, active] = wa, ma, ca
        return w, means, covs, trace

    @staticmethod
    def _weighted_moments(resp, z, tiny):
        """Each component's responsibility sum ``nk`` (K, R), ``ok = nk > tiny``, weighted mean (K, R, d)
        and weighted scatter around it (K, R, d, d), from responsibilities (K, R, m) of points (R, m, d)."""
        nk = resp.sum(axis=2)
        ok = nk > tiny
        new_m = np.einsum("krm,rmd->krd", resp, z) / np.where(ok, nk, 1.0)[..., None]
        diff = z[None] - new_m[:, :, None, :]                            # (K, R, m, d)
        scatter = np.swapaxes(resp[..., None] * diff, -1, -2) @ diff
        return nk, ok, new_m, scatter

    def _m_update(self, nk, ok, new_m, scatter, m, reg_eye, means, covs, every=None):
        """The M-step's covariances and weights from each component's weighted scatter.

        ``nk`` (K, Ra) are the components' responsibilities summed, ``ok`` where they are
        above the floor (a component below it keeps its last mean and covariance and gets
        weight 0), ``scatter`` (K, Ra, d, d) the weighted scatter around ``new_m``, ``m`` the
        number of points, ``reg_eye`` (1, Ra, d, d) the regulariser times the identity, added to
        every covariance (callers compute it once per set of active replicates), ``every``
        whether ``ok`` holds everywhere (computed here when not given). Returns the weights, means and
        covariances of the active replicates.
        """
        if every is None:
            every = ok.all()  # the usual case: no component below the floor, nothing to keep
        if self.covariance_type == "tied":
            new_c = np.broadcast_to(scatter.sum(axis=0) / m, scatter.shape)
        else:
            new_c = scatter / (nk if every else np.where(ok, nk, 1.0))[..., None, None]
            if self.covariance_type == "diag":
                new_c = new_c * np.eye(scatter.shape[-1])
        new_c = new_c + reg_eye
        if every:
            return nk / nk.sum(axis=0, keepdims=True), new_m, new_c
        means = np.where(ok[..., None], new_m, means)
        covs = np.where(ok[..., None, None], new_c, covs)
        weights = np.where(ok, nk, 0.0)
        return weights / weights.sum(axis=0, keepdims=True), means, covs

    def _nd_model(self, w, means, covs, mu, sd, scale, trace):
        """The fitted mixture in data units (components sorted by the first mean coordinate), and the trace."""
        d = means.shape[-1]
        w, means, covs = np.moveaxis(w, 0, 1), np.moveaxis(means, 0, 1), np.moveaxis(covs, 0, 1)
        order = np.argsort(means[..., 0], axis=1, kind="stable")
        w = np.take_along_axis(w, order, axis=1)
        means = np.take_along_axis(means, order[..., None], axis=1)
        covs = np.take_along_axis(covs, order[..., None, None], axis=1)
        model = MultivariateNormalMixture._from_params(
            w, mu[:, None, :] + sd[:, None, None] * means, (sd**2)[:, None, None, None] * covs)
        if trace is None:
            return model, None
        return model, np.stack(trace) - d * np.log(scale)[None, :]
