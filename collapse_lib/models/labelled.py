"""A two-component normal mixture fitted with known labels: the exact rare-class model.

Introduced in chapter 3, "Why tails go first", as the correctly specified
model of the book's core-and-tail world: it has statistical error only, so
the tail it loses is lost to sampling alone.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_int, check_real
from ..distributions import NormalMixture
from ..families import Family

__all__ = ["LabelledMixtureFit"]


class LabelledMixtureFit(Family):
    """Two-component normal mixture fitted with known labels: the rare class is ``x > threshold``.

    The weight of the rare component is the share of training points above
    ``threshold``; each component's mean and standard deviation are the
    maximum-likelihood estimates from its own points. For a world whose two
    modes are well separated by ``threshold`` (the book's core-and-tail world
    with ``threshold=4``) this is the correctly specified model, fitted the
    way a class-conditional generator is trained: without functional error,
    with statistical error only. It is the fast, exact counterpart of
    :class:`~collapse_lib.GaussianMixtureFit` (EM, no labels).

    Parameters
    ----------
    threshold : float
        Points above it form the rare (upper) class.
    ddof : {0, 1}
        Variance estimator of each component.

    Notes
    -----
    The rare component is fitted on only about ``p n`` points, so its own
    spread collapses about ``1/p`` times faster than the core's: asked for the
    rare class, the model returns an ever more central version of it. A
    class with no point left gets weight 0 for good; a class with one point
    becomes a point mass (std 0). Both are legal states, without NaN.

    Introduced in chapter 3, "Why tails go first".
    """

    def __init__(self, threshold, ddof=0):
        self.threshold = check_real("threshold", threshold)
        self.ddof = check_int("ddof", ddof, minimum=0, maximum=1)

    def _fit(self, data):
        m = data.shape[-1]
        upper = data > self.threshold
        weights, means, stds = [], [], []
        for mask in (~upper, upper):
            k = mask.sum(axis=-1)
            safe = np.maximum(k, 1)
            mean = np.where(mask, data, 0.0).sum(axis=-1) / safe
            ss = np.where(mask, (data - mean[:, None]) ** 2, 0.0).sum(axis=-1)
            var = ss / np.maximum(k - self.ddof, 1)
            empty = k == 0
            weights.append(k / m)
            means.append(np.where(empty, self.threshold, mean))
            stds.append(np.where(empty | (k <= self.ddof), 0.0, np.sqrt(var)))
        return NormalMixture._from_params(np.stack(weights, -1), np.stack(means, -1), np.stack(stds, -1))

    def __repr__(self):
        return f"LabelledMixtureFit(threshold={self.threshold:g}, ddof={self.ddof})"
