"""Kernel density estimate family, batched over replicates, in one or ``d`` dimensions.

A Gaussian KDE of one-dimensional data is a :class:`~collapse_lib.NormalMixture`
with one equal-weight component per data point. Other cases (``d``-dimensional
points of shape ``(R, m, d)``, or the top-hat kernel) give a
:class:`KernelDensity`, whose log density is evaluated in blocks so that its
memory stays bounded however many points are scored.

It is one of the model families of the live explorer (:func:`collapse_lib.explore`)
and a family readers can try in the recursion; the 2-D worlds of
:mod:`collapse_lib.worlds.shapes` are Kazdan et al.'s KDE experiments (Part IV,
"Collapse or thrive").
"""

from __future__ import annotations

import numbers

import numpy as np
from scipy import special

from .._validate import check_choice, check_finite_array, check_positive, check_rng
from ..distributions import Distribution, NormalMixture
from ..families import Family

__all__ = ["KDEFit", "KernelDensity", "bandwidth"]

_RULES = ("silverman", "scott")
_KERNELS = ("gaussian", "tophat")
_LOG_2PI = np.log(2.0 * np.pi)
#: kernel evaluations held in memory at once by KernelDensity.logpdf (about 16 MB of floats)
BLOCK = 2**21
#: a sum of kernel terms below this (about 1e-290) is recomputed with the maximum taken out
_SAFE_MIN = 2.0**-963


def _ball_log_volume(d):
    """log of the volume of the unit ball in d dimensions."""
    return 0.5 * d * np.log(np.pi) - special.gammaln(0.5 * d + 1.0)


class KernelDensity(Distribution):
    """A batch of kernel density estimates: one kernel of width ``h`` on every data point.

    Built by :class:`KDEFit`. Points are ``d``-dimensional (``(R, m, d)``),
    or one-dimensional (``(R, m)``: ``sample`` then returns ``(R, size)`` and
    ``logpdf`` takes ``(R, k)``).

    Parameters
    ----------
    points : ndarray, shape (R, m, d) or (R, m)
        The data the kernels sit on.
    bandwidth : ndarray of shape (R,)
        Kernel width ``h`` per replicate (>= 0; 0 is a point mass on the data).
    kernel : {"gaussian", "tophat"}
        ``"gaussian"``: ``N(x_i, h^2 I)``; ``"tophat"``: uniform on the ball of
        radius ``h`` around each point (scikit-learn's ``KernelDensity``
        kernels of the same names).

    Notes
    -----
    Mean and covariance are exact: the data's mean, and the data's
    (divide-by-``m``) covariance plus the kernel's, ``h^2 I`` (Gaussian) or
    ``h^2 / (d + 2) I`` (top-hat). ``logpdf`` works through the points to
    score in blocks of at most ``BLOCK`` kernel evaluations, with one
    matrix product per block for the squared distances.

    Returned by :class:`KDEFit`; the KDE of Part IV's "Collapse or thrive".
    """

    def __init__(self, points, bandwidth, kernel="gaussian"):
        pts = check_finite_array("points", points, ndim=(2, 3))
        h = check_finite_array("bandwidth", bandwidth, ndim=(1,))
        if h.shape != pts.shape[:1]:
            raise ValueError(f"bandwidth must have shape ({pts.shape[0]},) (one per replicate, points.shape[0] = "
                             f"{pts.shape[0]}), got {h.shape}")
        if np.any(h < 0):
            raise ValueError("bandwidth must be >= 0")
        if kernel not in _KERNELS:
            raise ValueError(f"kernel must be one of {_KERNELS}, got {kernel!r}")
        self._set(pts, h, kernel)

    @classmethod
    def _from_params(cls, points, bandwidth, kernel):
        obj = cls.__new__(cls)
        obj._set(np.asarray(points, float), np.asarray(bandwidth, float), kernel)
        return obj

    def _set(self, points, h, kernel):
        self.flat = points.ndim == 2
        self.points = points[..., None] if self.flat else points
        self.h = h
        self.kernel = kernel
        self.batch_shape = self.points.shape[:1]
        self._coef = None

    def _take(self, i):
        """Replicate(s) ``i``: an index array keeps a batch; an int gives a batch of one."""
        idx = np.atleast_1d(i)
        pts = self.points[idx]
        out = KernelDensity._from_params(pts[..., 0] if self.flat else pts, self.h[idx], self.kernel)
        return out

    @property
    def n_points(self):
        """Number of kernels (data points) per replicate."""
        return self.points.shape[1]

    @property
    def dim(self):
        """Dimension ``d`` of each point (1 for one-dimensional data)."""
        return self.points.shape[2]

    def _kernel_var(self):
        d = self.dim
        return self.h**2 if self.kernel == "gaussian" else self.h**2 / (d + 2.0)

    @property
    def mean(self):
        """Exact mean, shape ``(R,)`` for one-dimensional data, else ``(R, d)``."""
        mu = self.points.mean(axis=1)
        return mu[..., 0] if self.flat else mu

    @property
    def cov(self):
        """Exact covariance, shape ``(R, d, d)``."""
        xc = self.points - self.points.mean(axis=1, keepdims=True)
        cov = np.swapaxes(xc, 1, 2) @ xc / self.n_points
        return cov + self._kernel_var()[:, None, None] * np.eye(self.dim)

    @property
    def var(self):
        """Exact variance: shape ``(R,)`` for one-dimensional data, else per coordinate ``(R, d)``."""
        v = self.points.var(axis=1) + self._kernel_var()[:, None]
        return v[..., 0] if self.flat else v

    @property
    def trace(self):
        """Trace of the covariance (total variance), shape ``(R,)``."""
        return np.sum(self.points.var(axis=1), axis=-1) + self.dim * self._kernel_var()

    @property
    def std(self):
        """Exact standard deviation (per coordinate for d > 1)."""
        return np.sqrt(self.var)

    def tail_mass(self, x):
        """Exact P(X > x) for one-dimensional data; shape ``(R,) + np.shape(x)``."""
        if not self.flat:
            raise ValueError("tail_mass needs one-dimensional data")
        x = np.asarray(x, dtype=float)
        if np.any(np.isnan(x)):
            raise ValueError("x must not be NaN")
        pts = self.points[..., 0].reshape((self.points.shape[0],) + (1,) * x.ndim + (self.n_points,))
        h = self.h.reshape((-1,) + (1,) * (x.ndim + 1))
        xx = x[..., None]
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.kernel == "gaussian":
                z = (xx - pts) / np.where(h > 0, h, 1.0)
                each = np.where(h > 0, special.ndtr(-z), (pts > xx).astype(float))
            else:
                each = np.where(h > 0, np.clip((pts + h - xx) / np.where(h > 0, 2 * h, 1.0), 0.0, 1.0),
                                (pts > xx).astype(float))
        return each.mean(axis=-1)

    def sample(self, size, rng):
        """Draw ``size`` points: ``(R, size, d)``, or ``(R, size)`` for one-dimensional data."""
        r, m, d = self.points.shape
        size = self._sample_size(size, per_point=2 * d + 1)
        check_rng(rng)
        idx = rng.integers(0, m, size=(r, size))
        centre = np.take_along_axis(self.points, idx[..., None], axis=1)
        z = rng.standard_normal((r, size, d))
        if self.kernel == "tophat":
            # uniform in the ball: a uniform direction times a radius with density ~ r^(d-1)
            norm = np.sqrt(np.sum(z * z, axis=-1, keepdims=True))
            radius = rng.random((r, size, 1)) ** (1.0 / d)
            z = z / np.where(norm > 0, norm, 1.0) * radius
        out = centre + self.h[:, None, None] * z
        return out[..., 0] if self.flat else out

    def logpdf(self, x):
        """Log density at ``x``: ``(R, k, d)`` (or ``(k, d)`` shared by all replicates) -> ``(R, k)``.

        For one-dimensional data pass ``(R, k)`` or ``(k,)``. Evaluated in
        blocks of at most ``BLOCK`` kernel evaluations (bounded memory).
        A bandwidth of 0 gives ``+inf`` on the data points and ``-inf``
        elsewhere; a point outside every top-hat ball gets ``-inf``.
        """
        x = np.asarray(x, dtype=float)
        if self.flat:
            x = x[..., None]
        if x.shape[-1] != self.dim or x.ndim not in (2, 3):
            raise ValueError(f"x must have shape (R, k, d) or (k, d) with d={self.dim} "
                             f"({'(R, k) or (k,)' if self.flat else 'points on the last axis'}), got {x.shape}")
        if np.any(np.isnan(x)):
            raise ValueError("x must not contain NaN")
        r, m, d = self.points.shape
        k = x.shape[-2]
        out = np.empty((r, k))
        block = max(1, BLOCK // max(1, r * m))
        for start in range(0, k, block):
            stop = min(start + block, k)
            xs = x[..., start:stop, :]
            out[:, start:stop] = self._logpdf_block(xs if x.ndim == 3 else np.broadcast_to(xs, (r,) + xs.shape))
        return out

    def _gauss_coef(self):
        """Per replicate with ``h > 0``: ``[s; -|s|^2 / 2; -1/2]``, ``s = points / h``, shape (Rp, d + 2, m).

        ``[y, 1, |y|^2] @ coef`` is ``-|y - s|^2 / 2`` for a scaled point ``y = x / h``:
        the Gaussian kernel's exponent for every (point, kernel) pair in one matrix
        product. Computed once per model (``heldout_nll`` scores many blocks).
        """
        if self._coef is None:
            pos = self.h > 0
            s = self.points[pos] / self.h[pos][:, None, None]
            r, m, d = s.shape
            coef = np.empty((r, d + 2, m))
            coef[:, :d, :] = np.swapaxes(s, 1, 2)
            coef[:, d, :] = -0.5 * np.sum(s * s, axis=-1)
            coef[:, d + 1, :] = -0.5
            self._coef = coef
        return self._coef

    def _logpdf_block(self, x):
        """Log density of x (R, c, d) under every replicate's KDE -> (R, c)."""
        r, m, d = self.points.shape
        h = self.h
        pos = h > 0
        out = np.empty(x.shape[:2])
        if pos.any() and self.kernel == "gaussian":
            hp = h[pos]
            # -|x - p|^2 / (2 h^2) for every pair by one batched product [y, 1, |y|^2] @ coef, y = x / h;
            # then exp in place and one sum (no max pass: every term is <= 1, and a point whose sum
            # underflows towards 0 is scored again below with the maximum taken out)
            xs = x[pos] / hp[:, None, None]
            aug = np.empty(xs.shape[:2] + (d + 2,))
            aug[..., :d] = xs
            aug[..., d] = 1.0
            aug[..., d + 1] = np.sum(xs * xs, axis=-1)
            t = np.matmul(aug, self._gauss_coef())                      # (Rp, c, m)
            np.minimum(t, 0.0, out=t)                                    # rounding can make it > 0
            np.exp(t, out=t)
            total = t.sum(axis=-1)
            small = total < _SAFE_MIN
            with np.errstate(divide="ignore"):
                lse = np.log(total)
            if small.any():  # far from every kernel: log-sum-exp with the maximum taken out
                tb = np.matmul(aug, self._gauss_coef())[small]
                np.minimum(tb, 0.0, out=tb)
                top = tb.max(axis=-1, keepdims=True)
                lse[small] = np.log(np.exp(tb - top).sum(axis=-1)) + top[:, 0]
            norm = -0.5 * d * _LOG_2PI - d * np.log(hp)
            out[pos] = lse + norm[:, None] - np.log(m)
        elif pos.any():
            hp = h[pos]
            # squared distances / h^2 by one matrix product per replicate: |x|^2 + |p|^2 - 2 x.p
            p = self.points[pos] / hp[:, None, None]
            xs = x[pos] / hp[:, None, None]
            pp = np.sum(p * p, axis=-1)
            xx = np.sum(xs * xs, axis=-1)
            d2 = xs @ np.swapaxes(p, 1, 2)                               # (Rp, c, m)
            d2 *= -2.0
            d2 += pp[:, None, :]
            d2 += xx[:, :, None]
            np.maximum(d2, 0.0, out=d2)
            count = np.count_nonzero(d2 < 1.0, axis=-1)
            norm = -_ball_log_volume(d) - d * np.log(hp)
            with np.errstate(divide="ignore"):
                out[pos] = np.log(count) + norm[:, None] - np.log(m)
        for i in np.flatnonzero(~pos):  # bandwidth 0: a point mass on each data point
            hit = np.any(np.all(x[i][:, None, :] == self.points[i][None, :, :], axis=-1), axis=-1)
            out[i] = np.where(hit, np.inf, -np.inf)
        return out

    def __repr__(self):
        return (f"KernelDensity(batch of {self.points.shape[0]}, m={self.n_points}, d={self.dim}, "
                f"kernel={self.kernel!r})")


def _bandwidth_nd(data, rule):
    """Rule-of-thumb bandwidth for (R, m, d) points, scaled by the RMS spread per coordinate."""
    m, d = data.shape[1], data.shape[2]
    sd = np.sqrt(np.mean(data.var(axis=1), axis=-1))
    if rule == "scott":
        return sd * m ** (-1.0 / (d + 4))
    return sd * (4.0 / ((d + 2.0) * m)) ** (1.0 / (d + 4))


def bandwidth(data, rule="silverman"):
    """Gaussian-kernel bandwidth of each row of ``data`` by a rule of thumb.

    Parameters
    ----------
    data : ndarray of shape (R, m)
    rule : {"silverman", "scott"}
        ``"silverman"``: ``0.9 * min(sd, IQR / 1.349) * m**(-1/5)`` (the
        IQR term is dropped when it is 0 but ``sd`` is not);
        ``"scott"``: ``1.059 * sd * m**(-1/5)``. ``sd`` divides by ``m``.

    Returns
    -------
    ndarray of shape (R,)
        Zero for rows without spread (all values equal).

    Used by :class:`KDEFit`; no chapter calls it directly yet.
    """
    rule = check_choice("rule", rule, ("silverman", "scott"))
    data = check_finite_array("data", data, ndim=(1, 2))
    m = data.shape[-1]
    sd = data.std(axis=-1)
    if rule == "scott":
        return 1.059 * sd * m ** (-0.2)
    q75, q25 = np.quantile(data, [0.75, 0.25], axis=-1)
    spread = (q75 - q25) / 1.349
    a = np.where(spread > 0, np.minimum(sd, spread), sd)
    return 0.9 * a * m ** (-0.2)


class KDEFit(Family):
    """Fit a kernel density estimate: one kernel on every data point.

    For one-dimensional data and the Gaussian kernel the fitted model is a
    :class:`~collapse_lib.NormalMixture` with ``m`` equal-weight components,
    means at the data points and a common std ``h`` (the bandwidth).
    Sampling it is resampling the data plus kernel noise, and its tail mass,
    mean and variance are exact. For ``d``-dimensional data ``(R, m, d)``, or
    the top-hat kernel, the model is a :class:`KernelDensity`.

    Parameters
    ----------
    bandwidth : {"silverman", "scott"} or float > 0
        A rule of thumb, applied to each replicate's data, or a fixed
        bandwidth in data units. In one dimension the rules are those of
        :func:`bandwidth`; in ``d`` dimensions ``"scott"`` is
        ``s m^(-1/(d+4))`` and ``"silverman"`` ``s (4 / ((d + 2) m))^(1/(d+4))``,
        with ``s`` the root-mean-square spread per coordinate.
    kernel : {"gaussian", "tophat"}
        Gaussian bumps, or uniform balls of radius ``h`` (as scikit-learn's
        ``KernelDensity``).

    Notes
    -----
    *Zero spread.* With a rule, data that are all equal get ``h = 0`` and the
    model is a point mass at that value (exact tail mass, no NaN). A fixed
    float bandwidth keeps ``h`` as given.

    *Variance inflation.* The KDE's variance is the data's (divide-by-``m``)
    variance plus the kernel's (``h**2`` for the Gaussian kernel). Refitting
    on ``m`` of its own samples therefore gives
    ``E[V_{t+1}] = (m - 1) / m * V_t + h**2`` for a fixed ``h``: the kernel
    noise widens the model each generation while finite sampling narrows
    it, and the variance settles near ``m * h**2`` instead of collapsing.

    *The tail.* Each generation spreads every point by the kernel, which
    keeps thin tails alive (and fattens them) as long as some point lies
    near them; a bump whose points all miss one generation's sample is lost,
    as for resampling. Rules of thumb shrink ``h`` with the data's spread, so
    a collapsing spread is not rescued by the kernel.

    *Shapes.* A 2-D array is ``R`` one-dimensional samples; ``d``-dimensional
    points need ``(R, m, d)`` (one sample: ``data[None]``).

    Memory: the model stores ``m`` points per replicate.

    It is a model family of the live explorer (:func:`collapse_lib.explore`)
    and of Part IV's "Collapse or thrive" (Kazdan et al.'s KDE experiments).

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> model = cl.KDEFit(0.5).fit(np.array([0.0, 1.0]))
    >>> float(model.var)  # 0.25 from the data, 0.25 from the kernel
    0.5
    >>> cl.KDEFit(0.5).fit(np.zeros((4, 30, 2))).sample(7, np.random.default_rng(0)).shape
    (4, 7, 2)
    """

    def __init__(self, bandwidth="silverman", kernel="gaussian"):
        if isinstance(bandwidth, str):
            if bandwidth not in _RULES:
                raise ValueError(f"bandwidth must be 'silverman', 'scott' or a number > 0, got {bandwidth!r}")
            self.bandwidth = bandwidth
        elif isinstance(bandwidth, numbers.Real) and not isinstance(bandwidth, bool):
            self.bandwidth = check_positive("bandwidth", bandwidth)
        else:
            raise TypeError(f"bandwidth must be 'silverman', 'scott' or a number > 0, got {type(bandwidth).__name__}")
        if not isinstance(kernel, str) or kernel not in _KERNELS:
            raise ValueError(f"kernel must be one of {_KERNELS}, got {kernel!r}")
        self.kernel = kernel

    def _check(self, data):
        return check_finite_array("data", data, ndim=(1, 2, 3), min_size=1)

    def fit(self, data):
        """Fit to ``(m,)``, ``(R, m)`` one-dimensional data or ``(R, m, d)`` points."""
        data = self._check(data)
        if data.ndim == 3:
            if data.shape[1] < 1:
                raise ValueError(f"data must contain at least 1 point per replicate, got shape {data.shape}")
            return self._fit(data)
        model = self._fit(data if data.ndim == 2 else data[None, :])
        if data.ndim == 2:
            return model
        return model._take(0) if isinstance(model, NormalMixture) else model

    def _fit(self, data):
        r, m = data.shape[:2]
        if isinstance(self.bandwidth, str):
            h = _bandwidth_nd(data, self.bandwidth) if data.ndim == 3 else bandwidth(data, self.bandwidth)
        else:
            h = np.full(r, self.bandwidth)
        if data.ndim == 2 and self.kernel == "gaussian":
            return NormalMixture._from_params(np.full((r, m), 1.0 / m), data, np.repeat(h[:, None], m, axis=1))
        return KernelDensity._from_params(data, h, self.kernel)

    def __repr__(self):
        if self.kernel != "gaussian":
            return f"KDEFit(bandwidth={self.bandwidth!r}, kernel={self.kernel!r})"
        return f"KDEFit(bandwidth={self.bandwidth!r})"
