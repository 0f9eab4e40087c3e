"""The recursion: fit, sample, compose, refit, for many replicates at once.

Introduced in chapter 2, "A simulation you can run"; every chapter uses it.
"""

from __future__ import annotations

import copy
import functools
import numbers
from dataclasses import dataclass, field

import numpy as np

from ._validate import check_budget, check_int
from .distributions import Distribution, Normal
from .exact import exact_unsupported_reason, make_engine
from .families import CategoricalFit, Family
from .filters import Filter, NoFilter
from .schemes import Replace, Scheme

__all__ = ["simulate", "Run"]

_METHODS = ("auto", "exact", "points")


@dataclass
class Run:
    """The result of :func:`simulate`.

    Attributes
    ----------
    models : list of distributions
        ``models[i]`` is the batch of fitted models of generation
        ``model_generations[i]``. By default every generation is kept, so
        ``models[t]`` is generation ``t``; with ``record_every`` or ``keep``
        use :meth:`model` to look a generation up. Each holds ``replicates``
        models.
    generations : ndarray of int
        The recorded generations (``record_every``): rows of ``metrics`` and
        ``data_metrics``.
    data_metrics : dict of str -> ndarray
        For each function passed as ``data_metrics`` to :func:`simulate`, its
        value on every recorded generation's *training data*, shape
        ``(len(generations), replicates)``.
    world, family, scheme, filter, n, replicates, seed
        The arguments the run was made with.
    method : {"exact", "points"}
        Which engine ran: ``"exact"`` simulated sufficient statistics
        (:mod:`collapse_lib.exact`), ``"points"`` drew every training point.
    metrics : dict of str -> ndarray
        For each entry of ``metrics`` passed to :func:`simulate`, its value on
        the model of every recorded generation, shape
        ``(len(generations), replicates)``.
    model_generations : ndarray of int
        Generation of each entry of ``models``.
    stopped_at : ndarray of int or None
        With ``stop=`` passed to :func:`simulate`: for each replicate, the
        first generation whose model met the stopping condition, or -1 if it
        never did within the run. None without ``stop``.
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
    method: str = "points"
    metrics: dict = field(default_factory=dict)
    model_generations: np.ndarray = None
    stopped_at: np.ndarray = None

    def __post_init__(self):
        if self.model_generations is None:
            self.model_generations = np.asarray(self.generations)

    def model(self, generation):
        """The batch of models of ``generation`` (it must have been kept)."""
        hits = np.flatnonzero(self.model_generations == generation)
        if hits.size == 0:
            raise ValueError(f"generation {generation!r} was not kept; kept generations: "
                             f"{self.model_generations.tolist()} (see simulate's record_every and keep)")
        return self.models[int(hits[0])]

    def _values(self, metric):
        """Values ``(rows, replicates)`` of ``metric`` and the generation of each row."""
        if isinstance(metric, str):
            if metric in self.metrics:
                return self.metrics[metric], self.generations
            if metric in self.data_metrics:
                return self.data_metrics[metric], self.generations
            if not self.models:
                raise ValueError(f"metric {metric!r} was not recorded and no models were kept")
            if not hasattr(self.models[0], metric):
                raise ValueError(f"metric {metric!r} is neither a recorded metric "
                                 f"({sorted(self.metrics) + sorted(self.data_metrics)}) nor a model attribute")

            def fn(m):
                return getattr(m, metric)
        elif callable(metric):
            fn = metric
        else:
            raise TypeError(f"metric must be a name (str) or a function of a model, got {type(metric).__name__}")
        values = np.stack([np.broadcast_to(np.asarray(fn(m), dtype=float), (self.replicates,))
                           for m in self.models]) if self.models else np.empty((0, self.replicates))
        return values, self.model_generations

    def trajectory(self, metric):
        """Values of a metric on every recorded (or kept) generation.

        Parameters
        ----------
        metric : callable or str
            A function of a batched model returning shape ``(replicates,)``
            (evaluated on the kept models), or a name: first a recorded
            ``metrics`` entry, then a ``data_metrics`` entry, then a model
            attribute such as ``"var"`` or ``"mean"``.

        Returns
        -------
        ndarray of shape (generations, replicates)
            One row per generation of :attr:`generations` (recorded metrics)
            or :attr:`model_generations` (evaluated on models).
        """
        return self._values(metric)[0]

    def summary(self, metric, band=(0.05, 0.95)):
        """Mean, median, a band and the standard error per generation.

        Parameters
        ----------
        metric : callable or str
            As in :meth:`trajectory`.
        band : (float, float) or "se"
            Quantiles across replicates for ``lo`` and ``hi`` (default the 5%
            and 95% quantiles: where 90% of the runs lie), or ``"se"`` for the
            95% normal interval of the mean, ``mean -/+ 1.96 se``.

        Returns
        -------
        dict of ndarray
            ``generation``, ``mean``, ``median``, ``lo``, ``hi`` and ``se``
            (standard error of the mean across replicates, 0 with one
            replicate), ready for :func:`collapse_lib.plotting.summary_band`.
        """
        if isinstance(band, str):
            if band != "se":
                raise ValueError(f"band must be a pair of quantiles in [0, 1] or 'se', got {band!r}")
        else:
            try:
                lo_q, hi_q = (float(b) for b in band)
            except (TypeError, ValueError):
                raise TypeError(f"band must be a pair of quantiles in [0, 1] or 'se', got {band!r}") from None
            if not (0.0 <= lo_q <= hi_q <= 1.0):
                raise ValueError(f"band must be two quantiles with 0 <= lo <= hi <= 1, got {band!r}")
        values, gens = self._values(metric)
        r = values.shape[1]
        mean = values.mean(axis=1)
        se = values.std(axis=1, ddof=1) / np.sqrt(r) if r > 1 else np.zeros(len(values))
        if band == "se":
            lo, hi = mean - 1.96 * se, mean + 1.96 * se
        else:
            lo, hi = np.quantile(values, lo_q, axis=1), np.quantile(values, hi_q, axis=1)
        return {"generation": np.asarray(gens), "mean": mean, "median": np.median(values, axis=1),
                "lo": lo, "hi": hi, "se": se}


def _check_component(name, obj, cls, methods):
    if isinstance(obj, cls):
        return obj
    if all(callable(getattr(obj, m, None)) for m in methods):
        return obj
    raise TypeError(f"{name} must be a {cls.__name__} (an object with {', '.join(methods)}), got {type(obj).__name__}")


def _check_metrics(metrics):
    if metrics is None:
        return {}
    if isinstance(metrics, str):
        metrics = [metrics]
    if isinstance(metrics, dict):
        items = dict(metrics)
    elif isinstance(metrics, (list, tuple)):
        items = {}
        for m in metrics:
            if not isinstance(m, str):
                raise TypeError(f"metrics given as a list must hold attribute names (str), got {type(m).__name__}")
            items[m] = m
    else:
        raise TypeError("metrics must be a dict of name -> function of a model (or attribute name), "
                        f"or a list of attribute names; got {type(metrics).__name__}")
    out = {}
    for key, fn in items.items():
        if isinstance(fn, str):
            out[key] = (lambda m, attr=fn: getattr(m, attr))
        elif callable(fn):
            out[key] = fn
        else:
            raise TypeError(f"metrics[{key!r}] must be callable or an attribute name")
    return out


def _check_keep(keep, generations):
    if keep is None:
        return None
    if isinstance(keep, (str, bytes)) or not hasattr(keep, "__iter__"):
        raise TypeError(f"keep must be None or a sequence of generations, got {type(keep).__name__}")
    out = set()
    for g in keep:
        if isinstance(g, bool) or not isinstance(g, numbers.Integral):
            raise TypeError(f"keep must hold integer generations, got {g!r}")
        if not 0 <= g <= generations:
            raise ValueError(f"keep values must be generations in [0, {generations}], got {int(g)}")
        out.add(int(g))
    return out


def simulate(world, family, n, generations, scheme=None, filter=None, replicates=1,
             seed=None, record_every=1, data_metrics=None, progress=False,
             method="auto", metrics=None, keep=None, stop=None):
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
        Record (metrics, data metrics and, unless ``keep`` says otherwise,
        models) every ``record_every``-th generation, always the first and
        the last; 1 records them all.
    data_metrics : dict of str -> callable, optional
        Functions of a training-data array ``(R, m) -> (R,)`` recorded at each
        recorded generation, e.g. the fraction of training data above a
        threshold. They need the points: ``method="auto"`` then uses the
        points path.
    progress : bool
        Show a progress bar (tqdm) over generations; silent by default.
    method : {"auto", "exact", "points"}
        ``"exact"`` simulates sufficient statistics from their exact sampling
        laws (:mod:`collapse_lib.exact`: same law as the points path, cost
        independent of ``n``); it supports :class:`NormalFit` with a Normal or
        NormalMixture world and :class:`CategoricalFit` with a Categorical
        world, under :class:`Replace`, :class:`Anchor`, :class:`Accumulate`,
        :class:`FixedReal`, :class:`Augment` or :class:`SyntheticShare`, with
        :class:`NoFilter` and no ``data_metrics``, and raises ValueError
        otherwise. ``"points"`` draws every training point. ``"auto"``
        (default) takes the exact path whenever it applies. ``Run.method``
        says which ran.
    metrics : dict of str -> callable or str, or list of str, optional
        Functions of a batched model ``-> (R,)`` (or model attribute names,
        e.g. ``["heterozygosity", "surviving"]``) recorded at each recorded
        generation into ``Run.metrics``; with ``keep`` this tracks a long or
        large run without storing its models.
    keep : sequence of int, optional
        Generations whose models are stored in ``Run.models`` (look them up
        with :meth:`Run.model`). Default: the models of every recorded
        generation. ``keep=[]`` stores none (metrics only), so memory does not
        grow with the generations even for 10^5 categories.
    stop : callable, optional
        ``stop(model) -> bool array (R_active,)``, evaluated on the fitted
        batch of the replicates still running after every generation (0
        included), e.g. ``lambda m: m.surviving == 1`` (one category left) or
        ``lambda m: m.var < 1e-12``. A replicate that meets it stops: it is
        no longer simulated (no draws, no fits: it costs nothing afterwards),
        its model and recorded values stay those of the generation it stopped,
        and ``Run.stopped_at`` records that generation. The run ends as soon
        as every replicate has stopped (``Run.generations`` then ends there),
        so ``generations`` is an upper bound: run until collapse with a large
        one. Stored models of stopped and running replicates are merged per
        generation, which needs models of one shape across replicates (with a
        family whose model grows with the data, e.g. a KDE under
        :class:`Accumulate`, pass ``keep=[]`` and record ``metrics``).

    Returns
    -------
    Run

    Notes
    -----
    Memory: the points path holds a few arrays of ``replicates x n`` floats
    at a time (plus the pool of :class:`Accumulate` or
    :class:`AccumulateSubsample`); the exact path holds a few arrays of
    ``replicates`` floats (``replicates x K`` counts for categorical data),
    independent of ``n`` and of the generations. Stored models add
    ``replicates`` parameters each (``replicates x K`` probabilities for a
    categorical model).

    Examples
    --------
    >>> import collapse_lib as cl
    >>> world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    >>> run = cl.simulate(world, cl.NormalFit(), n=5000, generations=8,
    ...                   scheme=cl.Anchor(0.1), replicates=100, seed=0)
    >>> len(run.models), run.models[8].var.shape, run.method
    (9, (100,), 'exact')
    """
    world = _check_component("world", world, Distribution, ("sample",))
    family = _check_component("family", family, Family, ("fit",))
    n = check_int("n", n, minimum=1, maximum=10**300)  # the exact path handles any n up to here
    generations = check_int("generations", generations, minimum=0)
    replicates = check_int("replicates", replicates, minimum=1)
    record_every = check_int("record_every", record_every, minimum=1)
    scheme = Replace() if scheme is None else _check_component("scheme", scheme, Scheme, ("next_data",))
    filter = NoFilter() if filter is None else _check_component("filter", filter, Filter, ("draw",))
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
    if seed is not None and seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    if not isinstance(method, str):
        raise TypeError(f"method must be one of {_METHODS}, got {type(method).__name__}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be True or False, got {type(progress).__name__}")
    batch = getattr(world, "batch_shape", ())
    if batch not in ((), (replicates,)):
        raise ValueError(f"world must be unbatched or a batch of replicates={replicates}, got batch shape {batch}")
    data_metrics = dict(data_metrics or {})
    for key, fn in data_metrics.items():
        if not callable(fn):
            raise TypeError(f"data_metrics[{key!r}] must be callable")
    model_metrics = _check_metrics(metrics)
    keep = _check_keep(keep, generations)
    if stop is not None and not callable(stop):
        raise TypeError(f"stop must be None or a function of a batched model returning booleans, "
                        f"got {type(stop).__name__}")
    family = family.prepare(world) if hasattr(family, "prepare") else family
    min_samples = getattr(family, "min_samples", 1)
    if n < min_samples:
        raise ValueError(f"n must be >= {min_samples} for {family!r}, got {n}")
    k_world = getattr(world, "n_categories", None)
    if isinstance(family, CategoricalFit) and k_world is not None and family.n_categories < k_world:
        raise ValueError(f"family n_categories={family.n_categories} is smaller than the world's "
                         f"{k_world} categories; use CategoricalFit() or n_categories >= {k_world}")
    if callable(getattr(scheme, "check", None)):
        scheme.check(n, generations)

    reason = exact_unsupported_reason(world, family, scheme, filter, data_metrics)
    if method == "exact" and reason is not None:
        raise ValueError(f"method='exact' is not available here: {reason}; use method='auto' or 'points'")
    use_exact = method == "exact" or (method == "auto" and reason is None)

    _check_size(world, family, scheme, n, generations, replicates, use_exact)
    rng = np.random.default_rng(seed)
    if use_exact:
        engine = make_engine(world, family, scheme, n, replicates, rng)
        first, step, take = (lambda: (engine.first(), None)), (lambda t: (engine.step(t), None)), engine.take
    else:
        first, step, take = _points_engine(world, family, scheme, filter, n, replicates, rng, batch)

    models, model_gens, recorded_gens = [], [], []
    recorded = {key: [] for key in data_metrics}
    measured = {key: [] for key in model_metrics}
    # With stop=: `active` holds the replicates still running (positions in the full batch);
    # values of stopped replicates stay frozen in `last_*` and `frozen`.
    active = np.arange(replicates)
    stopped_at = np.full(replicates, -1, dtype=int) if stop is not None else None
    last_data = {key: np.zeros(replicates) for key in data_metrics}
    last_model = {key: np.zeros(replicates) for key in model_metrics}
    frozen = {}

    def full_model(model):
        if active.size == replicates:
            return model
        return _merge_rows(frozen["model"], model, active)

    def record(t, model, data, last):
        is_recorded = t % record_every == 0 or t == generations or last
        if is_recorded:
            recorded_gens.append(t)
            rows = slice(None) if active.size == replicates else active
            for key, fn in data_metrics.items():
                last_data[key][rows] = _per_replicate(fn(data), active.size, f"data_metrics[{key!r}]")
                recorded[key].append(last_data[key].copy())
            for key, fn in model_metrics.items():
                last_model[key][rows] = _per_replicate(fn(model), active.size, f"metrics[{key!r}]")
                measured[key].append(last_model[key].copy())
        if (keep is None and is_recorded) or (keep is not None and t in keep):
            models.append(full_model(model))
            model_gens.append(t)

    def check_stop(t, model):
        """Stop the replicates whose model meets `stop`; return the positions still running."""
        flags = np.asarray(stop(model))
        if flags.shape != (active.size,) or flags.dtype.kind not in "bui":
            raise ValueError(f"stop(model) must return one boolean per running replicate, shape ({active.size},), "
                             f"got {flags.dtype} array of shape {flags.shape}")
        flags = flags.astype(bool)
        if flags.any():
            stopped_at[active[flags]] = t
            done = _take_rows(model, np.flatnonzero(flags))
            frozen.setdefault("model", model)  # the full batch: nothing had stopped before
            frozen["model"] = _merge_rows(frozen["model"], done, active[flags])
        return np.flatnonzero(~flags)

    def advance(t, model, data):
        nonlocal active
        still = check_stop(t, model) if stop is not None else None
        last = still is not None and still.size == 0
        record(t, model, data, last)
        if still is not None and 0 < still.size < active.size:
            take(still)
            active = active[still]
        return last

    finished = advance(0, *first())
    steps = range(1, generations + 1)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc="generations", total=generations)
    for t in steps:
        if finished:
            break
        finished = advance(t, *step(t))
    if progress:
        steps.close()
    return Run(
        models=models,
        generations=np.asarray(recorded_gens),
        data_metrics={key: np.stack(v) for key, v in recorded.items()},
        world=world, family=family, scheme=scheme, filter=filter,
        n=n, replicates=replicates, seed=seed,
        method="exact" if use_exact else "points",
        metrics={key: np.stack(v) for key, v in measured.items()},
        model_generations=np.asarray(model_gens, dtype=int),
        stopped_at=stopped_at,
    )


def _per_replicate(value, size, name):
    """A metric's value as one float per running replicate (a scalar, or shape (1,), is shared by all)."""
    value = np.asarray(value, dtype=float)
    if value.shape in ((), (size,)):
        return value
    if value.shape == (1,):
        return value[0]
    raise ValueError(f"{name} must return a number or one number per running replicate (shape ({size},)), "
                     f"got an array of shape {value.shape}")


def _check_size(world, family, scheme, n, generations, replicates, use_exact):
    """Refuse, before allocating, a run whose arrays would exceed the element budget."""
    if use_exact:
        k = getattr(world, "n_categories", None) or getattr(world, "weights", np.ones(1)).shape[-1]
        k = max(k, getattr(family, "n_categories", None) or 1)
        check_budget("replicates (times the number of categories or components)", replicates * k)
        if n > 2**62 and type(world) is not Normal:
            raise ValueError(f"n must be <= 2**62 on the exact path for a {type(world).__name__} world "
                             f"(its category counts are 64-bit integers), got {n}")
        return
    pool = n * replicates
    if type(scheme).__name__ == "Accumulate":  # the pool keeps every generation's data
        pool *= generations + 1
    check_budget("n (times replicates, and generations + 1 when data accumulate)", pool)


def _take_rows(model, idx):
    """Replicates ``idx`` of a batched model, as a batch (``stop=`` needs ``_take``)."""
    take = getattr(model, "_take", None)
    out = take(np.asarray(idx)) if callable(take) else None
    if out is None or getattr(out, "batch_shape", None) != (len(idx),):
        raise TypeError(f"stop= needs models that can be subset by replicate (a _take method taking an index "
                        f"array); {type(model).__name__} cannot")
    return out


def _merge_rows(base, part, rows):
    """A copy of the batched model ``base`` whose replicates ``rows`` come from the batch ``part``."""
    if base is part:
        return base
    merge = getattr(base, "_merge_rows", None)
    if callable(merge):
        return merge(part, rows)
    if type(part) is not type(base):
        raise TypeError(f"stop= cannot merge a {type(part).__name__} into a {type(base).__name__}")
    out = copy.copy(base)
    size = base.batch_shape[0]
    for name, value in vars(base).items():
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == size:
            other = np.asarray(getattr(part, name))
            if other.shape[1:] != value.shape[1:]:
                raise TypeError(f"stop= cannot merge models whose {name!r} differs in shape across replicates "
                                f"({value.shape[1:]} vs {other.shape[1:]}); pass keep=[] and record metrics")
            merged = value.copy()
            merged[rows] = other
            setattr(out, name, merged)
        elif isinstance(value, list) and len(value) == size:
            merged = list(value)
            for i, r in enumerate(rows):
                merged[r] = getattr(part, name)[i]
            setattr(out, name, merged)
    return out


def _points_engine(world, family, scheme, filter, n, replicates, rng, batch):
    """``first()``, ``step(t)`` (each ``-> (model, data)``) and ``take(idx)``, drawing every point."""
    fit = family._fit if isinstance(family, Family) else _external_fit(family)
    if isinstance(family, Family) and getattr(family, "fit_uses_rng", False):
        fit = functools.partial(family._fit, rng=rng)  # a random start (k-means) draws from the run's generator
    state = {"rng": rng}
    current = {"world": world, "replicates": replicates}

    def real(k):
        if batch:
            return _finite_world_sample(current["world"].sample(k, rng))
        r = current["replicates"]
        points = _finite_world_sample(world.sample(r * k, rng))
        # One-dimensional worlds give (R, k); a world of d-dimensional points gives (R, k, d).
        return points.reshape((r, k) + points.shape[1:])

    def first():
        data = scheme.initial(real(n), state)
        current["model"] = fit(data)
        return current["model"], data

    def step(t):
        previous = current["model"]

        def synthetic(k):
            return filter.draw(previous, k, rng, current["world"])

        data = scheme.next_data(t, n, synthetic, real, state)
        current["model"] = fit(data)
        return current["model"], data

    def take(idx):
        r = current["replicates"]
        current["model"] = _take_rows(current["model"], idx)
        if batch:
            current["world"] = _take_rows(current["world"], idx)
        take_state = getattr(scheme, "take", None)
        if callable(take_state):
            take_state(state, idx, r)
        current["replicates"] = len(idx)

    return first, step, take


def _finite_world_sample(points):
    """A user-supplied world must give numbers: NaN or inf would silently make NaN models."""
    points = np.asarray(points)
    if points.dtype.kind == "f" and not np.all(np.isfinite(points)):
        raise ValueError("world.sample returned NaN or inf; the world must give finite samples")
    if points.dtype.kind not in "biuf":
        raise TypeError(f"world.sample must return an array of numbers, got dtype {points.dtype}")
    return points


def _external_fit(family):
    def fit(data):
        return family.fit(data)
    return fit
