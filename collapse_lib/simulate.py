"""The recursion: fit, sample, compose, refit, for many replicates at once.

Introduced in chapter 2, "A simulation you can run"; every chapter uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validate import check_int
from .distributions import Distribution
from .families import Family
from .filters import Filter, NoFilter
from .schemes import Replace, Scheme

__all__ = ["simulate", "Run"]


@dataclass
class Run:
    """The result of :func:`simulate`.

    Attributes
    ----------
    models : list of distributions
        ``models[i]`` is the batch of fitted models of generation
        ``generations[i]`` (by default every generation, so ``models[t]`` is
        generation ``t``). Each holds ``replicates`` models.
    generations : ndarray of int
        Generation index of each entry of ``models``.
    data_metrics : dict of str -> ndarray
        For each function passed as ``data_metrics`` to :func:`simulate`, its
        value on every recorded generation's *training data*, shape
        ``(len(models), replicates)``.
    world, family, scheme, filter, n, replicates, seed
        The arguments the run was made with.
    """

    models: list
    generations: np.ndarray
    data_metrics: dict
    world: Distribution
    family: Family
    scheme: Scheme
    filter: Filter
    n: int
    replicates: int
    seed: object = None
    extras: dict = field(default_factory=dict)

    def trajectory(self, metric):
        """Evaluate ``metric(model)`` on every recorded generation.

        Parameters
        ----------
        metric : callable or str
            A function of a batched model returning shape ``(replicates,)``,
            or the name of a model attribute such as ``"var"`` or ``"mean"``.

        Returns
        -------
        ndarray of shape (len(models), replicates)
        """
        fn = (lambda m: getattr(m, metric)) if isinstance(metric, str) else metric
        return np.stack([np.broadcast_to(np.asarray(fn(m), dtype=float), (self.replicates,))
                         for m in self.models])

    def summary(self, metric, band=(0.05, 0.95)):
        """Mean, median, a quantile band and the standard error per generation.

        Returns a dict with arrays ``generation``, ``mean``, ``median``,
        ``lo``, ``hi`` (the ``band`` quantiles across replicates) and ``se``
        (standard error of the mean across replicates).
        """
        values = self.trajectory(metric)
        r = values.shape[1]
        return {
            "generation": self.generations,
            "mean": values.mean(axis=1),
            "median": np.median(values, axis=1),
            "lo": np.quantile(values, band[0], axis=1),
            "hi": np.quantile(values, band[1], axis=1),
            "se": values.std(axis=1, ddof=1) / np.sqrt(r) if r > 1 else np.zeros(len(values)),
        }


def _check_component(name, obj, cls, methods):
    if isinstance(obj, cls):
        return obj
    if all(callable(getattr(obj, m, None)) for m in methods):
        return obj
    raise TypeError(f"{name} must be a {cls.__name__} (an object with {', '.join(methods)}), got {type(obj).__name__}")


def simulate(world, family, n, generations, scheme=None, filter=None, replicates=1,
             seed=None, record_every=1, data_metrics=None, progress=False):
    """Run the generational recursion for many independent replicates at once.

    Generation 0 fits ``family`` to ``n`` real samples from ``world``. Each
    later generation ``t`` trains on data composed by ``scheme`` from samples
    of ``models[t - 1]`` (passed through ``filter``) and, if the scheme asks,
    fresh real samples, and fits ``family`` again. All replicates advance
    together as arrays.

    Parameters
    ----------
    world : Distribution
        The real data distribution (unbatched, or a batch of ``replicates``).
    family : Family
        The model family refitted each generation.
    n : int >= 1
        Training samples drawn per generation (the scheme may add kept data).
    generations : int >= 0
        Number of generations after generation 0.
    scheme : Scheme, optional
        :class:`Replace` (default), :class:`Anchor`, :class:`Accumulate`, ...
    filter : Filter, optional
        Applied to generated samples; :class:`NoFilter` by default.
    replicates : int >= 1
        Independent runs, simulated together.
    seed : int or None
        Seed of the one :func:`numpy.random.default_rng` behind every draw.
        The same arguments and seed give bit-identical results.
    record_every : int >= 1
        Keep the models of every ``record_every``-th generation (always the
        first and the last); 1 keeps them all.
    data_metrics : dict of str -> callable, optional
        Functions of a training-data array ``(R, m) -> (R,)`` recorded at each
        kept generation, e.g. the fraction of training data above a threshold.
    progress : bool
        Show a progress bar (tqdm) over generations.

    Returns
    -------
    Run

    Examples
    --------
    >>> import collapse_lib as cl
    >>> world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    >>> run = cl.simulate(world, cl.NormalFit(), n=5000, generations=8,
    ...                   scheme=cl.Anchor(0.1), replicates=100, seed=0)
    >>> len(run.models), run.models[8].var.shape
    (9, (100,))
    """
    world = _check_component("world", world, Distribution, ("sample",))
    family = _check_component("family", family, Family, ("fit",))
    n = check_int("n", n, minimum=1)
    generations = check_int("generations", generations, minimum=0)
    replicates = check_int("replicates", replicates, minimum=1)
    record_every = check_int("record_every", record_every, minimum=1)
    scheme = Replace() if scheme is None else _check_component("scheme", scheme, Scheme, ("next_data",))
    filter = NoFilter() if filter is None else _check_component("filter", filter, Filter, ("draw",))
    if seed is not None and not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
    if seed is not None and seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    batch = getattr(world, "batch_shape", ())
    if batch not in ((), (replicates,)):
        raise ValueError(f"world must be unbatched or a batch of replicates={replicates}, got batch shape {batch}")
    data_metrics = dict(data_metrics or {})
    for key, fn in data_metrics.items():
        if not callable(fn):
            raise TypeError(f"data_metrics[{key!r}] must be callable")
    family = family.prepare(world) if hasattr(family, "prepare") else family
    min_samples = getattr(family, "min_samples", 1)
    if n < min_samples:
        raise ValueError(f"n must be >= {min_samples} for {family!r}, got {n}")

    if callable(getattr(scheme, "check", None)):
        scheme.check(n, generations)

    rng = np.random.default_rng(seed)
    fit = family._fit if isinstance(family, Family) else _external_fit(family)

    def real(k):
        if batch:
            return world.sample(k, rng)
        return world.sample(replicates * k, rng).reshape(replicates, k)

    state = {"rng": rng}
    models, kept, recorded = [], [], {key: [] for key in data_metrics}

    def keep(t, model, data):
        if t % record_every == 0 or t == generations:
            models.append(model)
            kept.append(t)
            for key, fn in data_metrics.items():
                recorded[key].append(np.broadcast_to(np.asarray(fn(data), dtype=float), (replicates,)))

    data = scheme.initial(real(n), state)
    model = fit(data)
    keep(0, model, data)
    steps = range(1, generations + 1)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="generations")
    for t in steps:
        previous = model

        def synthetic(k, previous=previous):
            return filter.draw(previous, k, rng, world)

        data = scheme.next_data(t, n, synthetic, real, state)
        model = fit(data)
        keep(t, model, data)
    return Run(
        models=models,
        generations=np.asarray(kept),
        data_metrics={key: np.stack(v) for key, v in recorded.items()},
        world=world, family=family, scheme=scheme, filter=filter,
        n=n, replicates=replicates, seed=seed,
    )


def _external_fit(family):
    def fit(data):
        return family.fit(data)
    return fit
