"""Sweeping a mixing fraction: how much real data is enough, per scheme.

:func:`sweep_fraction` runs every (scheme, fraction) cell with the same seed
and measures a metric at the last generation; :class:`Sweep` holds the result
as tidy arrays (one value per scheme, fraction and replicate).

Introduced in chapter 7, "What the Nature work does and does not show".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_budget, check_fraction, check_int
from ..simulate import simulate

__all__ = ["Sweep", "sweep_fraction"]


@dataclass
class Sweep:
    """A metric measured across schemes and mixing fractions: tidy arrays.

    Attributes
    ----------
    schemes : tuple of str
        Scheme names, length S.
    fractions : ndarray (F,)
        The swept fractions.
    values : ndarray (S, F, R)
        The metric at the last generation, per scheme, fraction and replicate.
    generations : int
        The generation at which the metric was taken.

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show".
    """

    schemes: tuple
    fractions: np.ndarray
    values: np.ndarray
    generations: int

    @property
    def mean(self):
        """Mean over replicates, shape (S, F)."""
        return self.values.mean(axis=-1)

    @property
    def se(self):
        """Standard error of that mean, shape (S, F)."""
        r = self.values.shape[-1]
        if r < 2:
            return np.zeros(self.values.shape[:-1])
        return self.values.std(axis=-1, ddof=1) / np.sqrt(r)

    def quantile(self, q):
        """Quantile ``q`` over replicates, shape (S, F)."""
        return np.quantile(self.values, q, axis=-1)

    def rows(self):
        """Tidy records: one dict per (scheme, fraction) with mean, se and median."""
        mean, se, med = self.mean, self.se, self.quantile(0.5)
        return [{"scheme": s, "fraction": float(f), "mean": float(mean[i, j]),
                 "se": float(se[i, j]), "median": float(med[i, j])}
                for i, s in enumerate(self.schemes) for j, f in enumerate(self.fractions)]

    def get(self, scheme):
        """Mean and standard error of one scheme across fractions: ``(mean, se)``."""
        if scheme not in self.schemes:
            raise ValueError(f"scheme must be one of {list(self.schemes)}, got {scheme!r}")
        i = self.schemes.index(scheme)
        return self.mean[i], self.se[i]


def sweep_fraction(world, family, scheme_factories, fractions, metric, n, generations,
                   replicates=1, seed=None, filter=None):
    """Sweep a mixing fraction across schemes; measure ``metric`` at the last generation.

    Parameters
    ----------
    world : Distribution
        The real world.
    family : Family
        The model family.
    scheme_factories : dict of str -> callable
        ``factory(fraction) -> Scheme`` for each scheme to sweep, e.g.
        ``{"fresh real": cl.Anchor, "fixed real": cl.FixedReal}``.
    fractions : sequence of float in [0, 1]
        The mixing fractions (share of real data) to try.
    metric : callable
        ``metric(model) -> (R,)``, e.g. :func:`tail_ratio`.
    n, generations, replicates, seed, filter
        As in :func:`collapse_lib.simulate`. Every (scheme, fraction) cell uses
        the same seed (common random numbers: cells differ by the workflow only).

    Returns
    -------
    Sweep

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show".
    """
    if not isinstance(scheme_factories, dict) or not scheme_factories:
        raise TypeError("scheme_factories must be a non-empty dict of name -> factory(fraction)")
    fractions = np.asarray([check_fraction("fractions", f) for f in np.atleast_1d(fractions)])
    if fractions.size == 0:
        raise ValueError("fractions must contain at least one value in [0, 1]")
    if not callable(metric):
        raise TypeError("metric must be callable: metric(model) -> array of shape (replicates,)")
    generations = check_int("generations", generations, minimum=0)
    replicates = check_int("replicates", replicates, minimum=1)
    check_budget("replicates * fractions * schemes", len(scheme_factories) * fractions.size * replicates)
    values = np.empty((len(scheme_factories), fractions.size, replicates))
    for i, factory in enumerate(scheme_factories.values()):
        for j, f in enumerate(fractions):
            run = simulate(world, family, n=n, generations=generations, scheme=factory(float(f)),
                           filter=filter, replicates=replicates, seed=seed,
                           record_every=max(generations, 1))
            values[i, j] = np.broadcast_to(np.asarray(metric(run.models[-1]), float), (replicates,))
    return Sweep(tuple(scheme_factories), fractions, values, generations)
