"""Model families: estimators with ``fit(data) -> distribution``.

A family is what is refitted every generation. ``fit`` accepts one sample of
shape ``(m,)`` or a batch of ``R`` samples of shape ``(R, m)`` and returns a
distribution with the matching batch shape, in the style of scikit-learn
(``fit`` returns the fitted thing; here the fitted thing is a distribution).

Introduced in chapter 2, "A simulation you can run".
"""

from __future__ import annotations

import numpy as np

from ._validate import check_budget, check_finite_array, check_int
from .distributions import Categorical, Normal

__all__ = ["Family", "NormalFit", "CategoricalFit"]


class Family:
    """Base class of model families.

    Subclasses implement :meth:`_fit` on a validated float (or int) array of
    shape ``(R, m)``; ``fit`` validates and handles unbatched input.
    """

    #: smallest sample size per fit the family accepts
    min_samples = 1

    def prepare(self, world):
        """Return a family ready to model samples of ``world`` (default: self).

        :func:`collapse_lib.simulate` calls this once, so that a family can
        learn fixed facts about the world (e.g. the number of categories).
        """
        return self

    def fit(self, data):
        """Fit to ``data`` of shape ``(m,)`` or ``(R, m)``; return a distribution."""
        data = self._check(data)
        unbatched = data.ndim == 1
        model = self._fit(data[None, :] if unbatched else data)
        return _unbatch(model) if unbatched else model

    def _check(self, data):
        arr = check_finite_array("data", data, ndim=(1, 2), min_size=self.min_samples)
        return arr

    def _fit(self, data):  # pragma: no cover - interface
        raise NotImplementedError


def _unbatch(model):
    """Turn a batch of one replicate into a plain distribution."""
    if hasattr(model, "_take"):
        return model._take(0)
    raise TypeError(f"cannot unbatch {type(model).__name__}")


class NormalFit(Family):
    """Fit one normal distribution by the sample mean and standard deviation.

    Parameters
    ----------
    ddof : {0, 1}
        0 gives the maximum-likelihood variance (divide by m; numpy's default
        and the Nature paper's released code), 1 the unbiased variance (divide
        by m - 1; the Nature paper's Theorem 3.1).

    Notes
    -----
    Refitting on ``m`` of its own samples gives exactly
    ``sigma2_next = sigma2 * chi2(m - 1) / (m - ddof)`` (chapter 4).
    """

    def __init__(self, ddof=0):
        self.ddof = check_int("ddof", ddof, minimum=0, maximum=1)
        self.min_samples = self.ddof + 1

    def _fit(self, data):
        mean = data.mean(axis=-1)
        var = np.square(data - mean[:, None]).sum(axis=-1) / (data.shape[-1] - self.ddof)
        return Normal._from_params(mean, np.sqrt(var))

    def __repr__(self):
        return f"NormalFit(ddof={self.ddof})"


class CategoricalFit(Family):
    """Fit category probabilities by counting (the maximum-likelihood estimate).

    Parameters
    ----------
    n_categories : int, optional
        Number of categories K. Left as None, :func:`simulate` takes it from
        the world; a direct ``fit`` then uses ``max(id) + 1``.

    Notes
    -----
    Refitting on ``m`` of its own draws is neutral Wright-Fisher drift with
    population size ``m``; a category that gets no draw is lost for good
    (chapter 5).
    """

    def __init__(self, n_categories=None):
        if n_categories is not None:
            n_categories = check_int("n_categories", n_categories, minimum=1)
        self.n_categories = n_categories

    def prepare(self, world):
        if self.n_categories is None and hasattr(world, "n_categories"):
            return CategoricalFit(world.n_categories)
        return self

    def _check(self, data):
        arr = np.asarray(data)
        if arr.dtype.kind not in "iu":
            raise TypeError("data must be integer category ids (e.g. from Categorical.sample)")
        if arr.ndim not in (1, 2) or arr.shape[-1] < 1:
            raise ValueError(f"data must be a non-empty array of shape (m,) or (R, m), got shape {arr.shape}")
        if np.any(arr < 0):
            raise ValueError("data must contain category ids >= 0")
        if self.n_categories is not None and np.any(arr >= self.n_categories):
            raise ValueError(f"data must contain category ids in [0, {self.n_categories - 1}]")
        if arr.dtype != np.int64:  # e.g. uint64 ids: bincount needs a signed type
            if arr.max() >= 2**63:
                raise ValueError("data must contain category ids below 2**63")
            arr = arr.astype(np.int64)
        return arr

    def _fit(self, data):
        return Categorical._from_params(self.counts(data) / data.shape[-1])

    def counts(self, data):
        """Count each category per row of ``data`` (shape ``(R, m)``) -> ``(R, K)``."""
        k = self.n_categories if self.n_categories is not None else int(data.max()) + 1
        r = data.shape[0]
        check_budget("data (rows times the number of categories, max id + 1)", r * k)
        flat = (data + (np.arange(r) * k)[:, None]).ravel()
        return np.bincount(flat, minlength=r * k).reshape(r, k).astype(float)

    def __repr__(self):
        return f"CategoricalFit(n_categories={self.n_categories})"
