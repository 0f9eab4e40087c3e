"""Wrap a reader's own model (scikit-learn's ``fit``/``sample`` convention) as a family.

For readers who want to run the recursion on a model of their choice, on
one-dimensional or ``d``-dimensional data. No chapter calls it yet (chapter 6,
"Collapse you can see", fits its digit mixtures with the library's own
:class:`collapse_lib.GaussianMixtureFit`).
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
from threadpoolctl import threadpool_limits

from .._validate import check_bool, check_budget, check_finite_array, check_int, check_rng
from ..distributions import Distribution, _as_points
from ..families import Family

__all__ = ["SklearnFamily", "SklearnModel"]

#: fixed seed of the Monte Carlo sample behind estimated properties
MC_SEED = 0


def _sample_accepts_random_state(est):
    try:
        return "random_state" in inspect.signature(est.sample).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return False


class SklearnModel(Distribution):
    """A batch of fitted scikit-learn-style estimators, seen as a distribution.

    Built by :meth:`SklearnFamily.fit`; one fitted estimator per replicate.

    Attributes
    ----------
    estimators : list
        The fitted estimators, one per replicate.
    dim : int or None
        Dimension of each point (``None`` for one-dimensional data).
    exact : bool
        Always ``False``: ``mean``, ``var`` and ``tail_mass`` are Monte Carlo
        estimates from ``mc_size`` draws per replicate (a fixed seed,
        ``MC_SEED``, so they are deterministic), not exact values.
    mc_size : int
        Number of draws behind those estimates.

    Returned by :class:`SklearnFamily`; no chapter calls it directly yet.
    """

    exact = False
    tail_mass_exact = False

    def __init__(self, estimators, dim=None, batched=True, mc_size=20_000):
        self.estimators = list(estimators)
        self.dim = None if dim is None else check_int("dim", dim, minimum=1)
        self.batch_shape = (len(self.estimators),) if check_bool("batched", batched) else ()
        self.mc_size = check_int("mc_size", mc_size, minimum=1)
        check_budget("mc_size", self.mc_size * max(1, len(self.estimators)) * (self.dim or 1))
        self._mc = None

    def _take(self, i):
        return SklearnModel([self.estimators[i]], self.dim, batched=False, mc_size=self.mc_size)

    def _draw_one(self, est, size, seed):
        if size == 0:
            return np.empty((0, self.dim or 1))
        if _sample_accepts_random_state(est):
            out = est.sample(size, random_state=seed)
        else:
            saved = getattr(est, "random_state", None)
            est.random_state = seed
            try:
                out = est.sample(size)
            finally:
                est.random_state = saved
        if isinstance(out, tuple):  # GaussianMixture returns (X, labels)
            out = out[0]
        out = np.asarray(out, dtype=float).reshape(size, -1)
        # some estimators return samples grouped by component: shuffle them
        return out[np.random.default_rng(seed).permutation(size)]

    def sample(self, size, rng):
        """Draw ``size`` points per replicate.

        Returns shape ``(R, size)`` for one-dimensional data, ``(R, size, d)``
        otherwise (without the leading ``R`` when unbatched). Each estimator
        is seeded from ``rng`` (one ``rng.integers`` call per ``sample``), so
        the same ``rng`` state gives bit-identical draws.
        """
        size = check_int("size", size, minimum=0)
        check_rng(rng)
        seeds = rng.integers(0, 2**32, size=len(self.estimators))
        out = np.stack([self._draw_one(est, size, int(s)) for est, s in zip(self.estimators, seeds)])
        if self.dim is None:
            out = out[..., 0]
        return out if self.batch_shape else out[0]

    def logpdf(self, x):
        """Log density from the estimators' ``score_samples``.

        ``x`` has shape ``(R, k)`` (or ``(R, k, d)``) for a batch, one row per
        replicate; ``(k,)`` or ``(k, d)`` unbatched.
        """
        if not all(callable(getattr(e, "score_samples", None)) for e in self.estimators):
            raise AttributeError("the wrapped estimator has no score_samples, so no log density")
        x = _as_points(x)
        rows = x if self.batch_shape else x[None]
        d = self.dim or 1
        out = [e.score_samples(row.reshape(-1, d)) for e, row in zip(self.estimators, rows)]
        out = np.stack(out).reshape(rows.shape[: 2])
        return out if self.batch_shape else out[0]

    def _monte_carlo(self):
        if self._mc is None:
            self._mc = self.sample(self.mc_size, np.random.default_rng(MC_SEED))
        return self._mc

    @property
    def mean(self):
        """Monte Carlo estimate of the mean (see :attr:`exact`)."""
        return self._scalar(self._monte_carlo().mean(axis=-1 if self.dim is None else -2))

    @property
    def var(self):
        """Monte Carlo estimate of the variance (per coordinate for d > 1)."""
        return self._scalar(self._monte_carlo().var(axis=-1 if self.dim is None else -2))

    @property
    def std(self):
        """Monte Carlo estimate of the standard deviation."""
        return self._scalar(np.sqrt(np.asarray(self.var)))

    def tail_mass(self, x):
        """Monte Carlo estimate of P(X > x) (one-dimensional data only).

        Its standard error is at most ``0.5 / sqrt(mc_size)``;
        :func:`collapse_lib.metrics.tail_mass` reports it.
        """
        if self.dim is not None:
            raise ValueError("tail_mass needs one-dimensional data")
        x = _as_points(x)
        mc = self._monte_carlo()
        frac = (mc[..., None] > x.ravel()).mean(axis=-2)
        return self._scalar(frac.reshape(self.batch_shape + x.shape))

    def __repr__(self):
        name = type(self.estimators[0]).__name__ if self.estimators else "?"
        return f"SklearnModel({name}, replicates={len(self.estimators)}, dim={self.dim})"


class SklearnFamily(Family):
    """Any estimator with scikit-learn's ``fit(X)`` / ``sample(n)`` convention, as a family.

    Parameters
    ----------
    estimator : estimator object or callable
        Either an unfitted estimator (copied for every replicate with
        ``sklearn.base.clone`` when scikit-learn is installed, else
        ``copy.deepcopy``) or a function of no arguments returning a fresh
        one, e.g. ``lambda: GaussianMixture(2)`` or
        ``KernelDensity(bandwidth=0.3)``.
    mc_size : int >= 1
        Draws per replicate behind the model's estimated mean, variance and
        tail mass.
    threads : int >= 1 or None
        BLAS and OpenMP threads the estimators may use while fitting (default
        1, set with ``threadpoolctl``); None leaves the thread pools alone.

    Notes
    -----
    *One fit per replicate.* A foreign estimator fits one dataset at a time,
    so this is the one place where the library loops over replicates in
    Python; keep ``replicates`` modest (tens to hundreds). For Gaussian
    mixtures and kernel density estimates the native families
    (:class:`~collapse_lib.GaussianMixtureFit`, :class:`~collapse_lib.KDEFit`)
    fit every replicate at once and are much faster.

    *Threads.* Fits of small data sets are short, and multi-threaded BLAS
    inside each of them only adds overhead; on a small shared machine the
    thread pools also oversubscribe the cores. Fits therefore run with
    ``threads`` threads (one by default).

    *Data shapes.* ``(m,)`` is one one-dimensional sample, ``(R, m)`` a batch
    of one-dimensional samples (each fitted as an ``(m, 1)`` matrix), and
    ``(R, m, d)`` a batch of ``d``-dimensional samples (chapter 6); the model
    then samples arrays of shape ``(R, size, d)``.

    *Determinism.* An estimator whose ``random_state`` is ``None`` is fitted
    with ``random_state=0`` (fits never touch global random state), and
    sampling seeds each estimator from the ``rng`` passed to ``sample``.

    *Exactness.* The model's ``mean``, ``var`` and ``tail_mass`` are Monte
    Carlo estimates (``model.exact`` is False), which
    :func:`collapse_lib.metrics.tail_mass` flags.

    No chapter calls it yet: it is the way to run the recursion on a model of
    your own (the design's promise that any scikit-learn model plugs in).

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> from sklearn.mixture import GaussianMixture
    >>> family = cl.SklearnFamily(GaussianMixture(n_components=2))
    >>> data = np.random.default_rng(0).standard_normal((3, 200))
    >>> family.fit(data).sample(5, np.random.default_rng(1)).shape
    (3, 5)
    """

    def __init__(self, estimator, mc_size=20_000, threads=1):
        if callable(getattr(estimator, "fit", None)):
            if not callable(getattr(estimator, "sample", None)):
                raise TypeError(f"estimator must have a sample(n) method, {type(estimator).__name__} has none")
            self._factory = None
        elif callable(estimator):
            self._factory = estimator
        else:
            raise TypeError("estimator must be an object with fit(X) and sample(n), or a function returning one")
        self.estimator = estimator
        self.mc_size = check_int("mc_size", mc_size, minimum=1)
        check_budget("mc_size", self.mc_size)
        self.threads = None if threads is None else check_int("threads", threads, minimum=1)

    def _new(self):
        if self._factory is not None:
            est = self._factory()
            if not (callable(getattr(est, "fit", None)) and callable(getattr(est, "sample", None))):
                raise TypeError("the estimator factory must return an object with fit(X) and sample(n)")
            return est
        try:
            from sklearn.base import clone

            return clone(self.estimator)
        except (ImportError, TypeError):
            return copy.deepcopy(self.estimator)

    def _check(self, data):
        return check_finite_array("data", data, ndim=(1, 2, 3), min_size=1)

    def fit(self, data):
        """Fit one estimator per replicate; return a :class:`SklearnModel`.

        ``data``: ``(m,)``, ``(R, m)`` or ``(R, m, d)`` (see Notes).
        """
        data = self._check(data)
        if data.ndim == 3 and data.shape[1] < 1:
            raise ValueError("data must contain at least 1 point per replicate")
        model = self._fit(data if data.ndim > 1 else data[None, :])
        return model._take(0) if data.ndim == 1 else model

    def _fit(self, data):
        dim = data.shape[2] if data.ndim == 3 else None
        estimators = []
        if self.threads is None:
            self._fit_each(data, estimators)
        else:
            with threadpool_limits(limits=self.threads):
                self._fit_each(data, estimators)
        return SklearnModel(estimators, dim=dim, mc_size=self.mc_size)

    def _fit_each(self, data, estimators):
        for row in data:  # one foreign fit per replicate (see Notes)
            est = self._new()
            params = est.get_params() if callable(getattr(est, "get_params", None)) else {}
            if "random_state" in params and params["random_state"] is None:
                est.set_params(random_state=0)
            est.fit(row.reshape(row.shape[0], -1))
            estimators.append(est)

    def __repr__(self):
        name = getattr(self.estimator, "__name__", None) or type(self.estimator).__name__
        return f"SklearnFamily({name})"
