"""Workflows side by side: several data schemes on one budget, and the error each one compounds.

:func:`compare_schemes` runs replace, fresh real data, fixed real data and
accumulation (or any schemes) on the same world, family, budget and seed;
:func:`error_trajectory` turns a run into a mean squared error per generation,
with its standard error, to set against the closed forms (linear growth under
replacement, the pi^2/6 bound under accumulation).

Introduced in chapter 7, "What the Nature work does and does not show".
"""

from __future__ import annotations

import numpy as np

from .._validate import check_real
from ..simulate import simulate

__all__ = ["compare_schemes", "error_trajectory"]


def compare_schemes(world, family, schemes, n, generations, replicates=1, seed=None,
                    filter=None, record_every=1):
    """Run several data schemes on the same world, family, budget and seed.

    Parameters
    ----------
    world : Distribution
        The real world.
    family : Family
        The model family refitted each generation.
    schemes : dict of str -> Scheme
        The workflows to compare, by display name (order is kept).
    n, generations, replicates, seed, filter, record_every
        As in :func:`collapse_lib.simulate`; every scheme gets the same values.

    Returns
    -------
    dict of str -> Run
        One :class:`collapse_lib.Run` per scheme, in the order given.

    Notes
    -----
    Using one seed for every scheme means generation 0 (the first real sample)
    is identical across schemes, so differences come from the workflows alone.
    Introduced in chapter 7, "What the Nature work does and does not show".
    """
    if not isinstance(schemes, dict) or not schemes:
        raise TypeError("schemes must be a non-empty dict of name -> Scheme")
    return {name: simulate(world, family, n=n, generations=generations, scheme=scheme,
                           filter=filter, replicates=replicates, seed=seed,
                           record_every=record_every)
            for name, scheme in schemes.items()}


def error_trajectory(run, statistic, truth):
    """Mean squared error of a model statistic per generation, with its standard error.

    Parameters
    ----------
    run : Run
        A result of :func:`collapse_lib.simulate`.
    statistic : str or callable
        A model attribute (``"mean"``, ``"var"``) or ``f(model) -> (R,)``.
    truth : float
        The world's value of that statistic.

    Returns
    -------
    dict
        ``generation`` (G,), ``mse`` (G,) and ``se`` (G,), the standard error of
        the mean of the squared errors across replicates.

    Notes
    -----
    Introduced in chapter 7: under accumulation, the error of a Gaussian mean
    (or of an expressive family's tail weight) stays below pi^2/6 times the
    one-generation error, while under replacement it grows about linearly.
    """
    truth = check_real("truth", truth)
    if not callable(getattr(run, "_values", None)):
        raise TypeError(f"run must be a Run returned by collapse_lib.simulate, got {type(run).__name__}")
    # _values gives each row's generation: run.generations for recorded metrics,
    # run.model_generations for model statistics (they differ under keep= or record_every=).
    values, generations = run._values(statistic)
    with np.errstate(over="ignore"):
        sq = (values - truth) ** 2
    r = sq.shape[1]
    se = sq.std(axis=1, ddof=1) / np.sqrt(r) if r > 1 else np.zeros(sq.shape[0])
    return {"generation": np.asarray(generations), "mse": sq.mean(axis=1), "se": se}
