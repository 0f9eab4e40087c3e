"""Kernel density estimate family, batched over replicates.

No chapter calls it yet: it is one of the model families of the live explorer
(:func:`collapse_lib.explore`) and a family readers can try in the recursion.
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validate import check_positive
from ..distributions import NormalMixture
from ..families import Family

__all__ = ["KDEFit", "bandwidth"]

_RULES = ("silverman", "scott")


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
    data = np.asarray(data, dtype=float)
    m = data.shape[-1]
    sd = data.std(axis=-1)
    if rule == "scott":
        return 1.059 * sd * m ** (-0.2)
    q75, q25 = np.quantile(data, [0.75, 0.25], axis=-1)
    spread = (q75 - q25) / 1.349
    a = np.where(spread > 0, np.minimum(sd, spread), sd)
    return 0.9 * a * m ** (-0.2)


class KDEFit(Family):
    """Fit a Gaussian kernel density estimate: one normal bump on every data point.

    The fitted model is a :class:`~collapse_lib.NormalMixture` with ``m``
    equal-weight components, means at the data points and a common std ``h``
    (the bandwidth). Sampling it is resampling the data plus kernel noise,
    and its tail mass, mean and variance are exact.

    Parameters
    ----------
    bandwidth : {"silverman", "scott"} or float > 0
        A rule of thumb (see :func:`bandwidth`), applied to each replicate's
        data, or a fixed bandwidth in data units.

    Notes
    -----
    *Zero spread.* With a rule, data that are all equal get ``h = 0`` and the
    model is a point mass at that value (exact tail mass, no NaN). A fixed
    float bandwidth keeps ``h`` as given.

    *Variance inflation.* The KDE's variance is the data's (divide-by-``m``)
    variance plus ``h**2``. Refitting on ``m`` of its own samples therefore
    gives ``E[V_{t+1}] = (m - 1) / m * V_t + h**2`` for a fixed ``h``: the
    kernel noise widens the model each generation while finite sampling
    narrows it, and the variance settles near ``m * h**2`` instead of
    collapsing.

    *The tail.* Each generation spreads every point by the kernel, which
    keeps thin tails alive (and fattens them) as long as some point lies
    near them; a bump whose points all miss one generation's sample is lost,
    as for resampling. Rules of thumb shrink ``h`` with the data's spread, so
    a collapsing spread is not rescued by the kernel.

    Memory: the model stores ``m`` components per replicate.

    No chapter calls it yet; the live explorer (:func:`collapse_lib.explore`)
    offers it as a model family.

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> model = cl.KDEFit(0.5).fit(np.array([0.0, 1.0]))
    >>> float(model.var)  # 0.25 from the data, 0.25 from the kernel
    0.5
    """

    def __init__(self, bandwidth="silverman"):
        if isinstance(bandwidth, str):
            if bandwidth not in _RULES:
                raise ValueError(f"bandwidth must be 'silverman', 'scott' or a number > 0, got {bandwidth!r}")
            self.bandwidth = bandwidth
        elif isinstance(bandwidth, numbers.Real) and not isinstance(bandwidth, bool):
            self.bandwidth = check_positive("bandwidth", bandwidth)
        else:
            raise TypeError(f"bandwidth must be 'silverman', 'scott' or a number > 0, got {type(bandwidth).__name__}")

    def _fit(self, data):
        r, m = data.shape
        if isinstance(self.bandwidth, str):
            h = bandwidth(data, self.bandwidth)
        else:
            h = np.full(r, self.bandwidth)
        return NormalMixture._from_params(np.full((r, m), 1.0 / m), data, np.repeat(h[:, None], m, axis=1))

    def __repr__(self):
        return f"KDEFit(bandwidth={self.bandwidth!r})"
