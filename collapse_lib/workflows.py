"""Data workflows around the recursion: comparisons, sweeps, one-shot distillation, provenance.

The recursion itself lives in :func:`collapse_lib.simulate`. This module holds the
practices that the book's third part puts side by side:

- :func:`compare_schemes` runs several data schemes on the same world, family and
  budget (one seed each, the same for all) and returns their runs;
- :func:`sweep_fraction` sweeps a mixing fraction across schemes and returns a tidy
  :class:`Sweep` (one value per scheme, fraction and replicate);
- :func:`error_trajectory` turns a run into a mean squared error per generation,
  with its standard error, for comparison with closed forms;
- :func:`distill_once` is the Phi regime in miniature: a strong teacher fitted on
  plenty of real data, a student trained once on teacher samples plus real data;
- :class:`ProvenanceCap` is a pipeline that knows which scraped samples are real and
  caps the share of synthetic ones, the answer to web drift;
- :func:`tail_ratio` and :func:`tail_lost` are the metrics these chapters report.

Introduced in chapter 7, "What the Nature work does and does not show"; used in
chapter 8, "Filtering, measured", and chapter 9, "Web drift".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import check_fraction, check_int, check_real
from .distributions import Distribution
from .families import Family
from .filters import Filter, NoFilter
from .schemes import Scheme
from .simulate import simulate

__all__ = [
    "PHI1",
    "tail_ratio",
    "tail_lost",
    "compare_schemes",
    "Sweep",
    "sweep_fraction",
    "error_trajectory",
    "Distillation",
    "distill_once",
    "ProvenanceCap",
    "FilterBlend",
    "fallible_verifier",
    "find_crossing",
    "bootstrap_crossing",
]

#: What phi-1 reported (Gunasekar et al. 2023, "Textbooks Are All You Need",
#: arXiv:2306.11644): its size, its training data and its pass@1 scores. Quoted,
#: not measured here; chapter 7 glues them into its prose. Token counts are in
#: billions and approximate, as the paper gives them.
PHI1 = {
    "parameters_billion": 1.3,
    "filtered_web_tokens_billion": 6.0,
    "synthetic_tokens_billion": 1.0,
    "humaneval_pass1_percent": 50.6,
    "mbpp_pass1_percent": 55.5,
    "teacher": "GPT-3.5",
    "source": "Gunasekar et al. (2023), arXiv:2306.11644",
}


# ----------------------------------------------------------------------------- metrics

def tail_ratio(world, threshold):
    """Metric: a model's tail mass above ``threshold`` as a share of the world's.

    Parameters
    ----------
    world : Distribution
        The real world; must have an exact ``tail_mass``.
    threshold : float
        Where the tail starts (the book's running world uses 5).

    Returns
    -------
    callable
        ``metric(model) -> ndarray (R,)``: 1 means the tail is intact, 0 that it is
        gone. Use it with :meth:`Run.trajectory`, :meth:`Run.summary` or
        :func:`sweep_fraction`.

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show".
    """
    threshold = check_real("threshold", threshold)
    true = float(world.tail_mass(threshold))
    if not true > 0:
        raise ValueError(f"world must have a positive tail mass above threshold={threshold}, got {true}")

    def metric(model):
        return np.asarray(model.tail_mass(threshold), dtype=float) / true

    metric.__name__ = f"tail_ratio_{threshold:g}"
    return metric


def tail_lost(world, threshold, below=0.1):
    """Metric: 1 where a model keeps less than ``below`` of the world's tail, else 0.

    The mean of this indicator over replicates is the share of runs whose rare
    tail is, for practical purposes, gone.

    Parameters
    ----------
    world : Distribution
        The real world (exact ``tail_mass``).
    threshold : float
        Where the tail starts.
    below : float in (0, 1]
        A run counts as having lost its tail when its tail ratio is below this.

    Notes
    -----
    Introduced in chapter 7; used in chapters 8 and 9.
    """
    below = check_fraction("below", below)
    if below == 0:
        raise ValueError("below must be in (0, 1], got 0")
    ratio = tail_ratio(world, threshold)

    def metric(model):
        return (ratio(model) < below).astype(float)

    metric.__name__ = f"tail_lost_{threshold:g}_{below:g}"
    return metric


# ---------------------------------------------------------------------- scheme comparison

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
    values = np.empty((len(scheme_factories), fractions.size, replicates))
    for i, factory in enumerate(scheme_factories.values()):
        for j, f in enumerate(fractions):
            run = simulate(world, family, n=n, generations=generations, scheme=factory(float(f)),
                           filter=filter, replicates=replicates, seed=seed,
                           record_every=max(generations, 1))
            values[i, j] = np.broadcast_to(np.asarray(metric(run.models[-1]), float), (replicates,))
    return Sweep(tuple(scheme_factories), fractions, values, generations)


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
    sq = (run.trajectory(statistic) - truth) ** 2
    r = sq.shape[1]
    se = sq.std(axis=1, ddof=1) / np.sqrt(r) if r > 1 else np.zeros(sq.shape[0])
    return {"generation": np.asarray(run.generations), "mse": sq.mean(axis=1), "se": se}


# ----------------------------------------------------------------------------- distillation

@dataclass
class Distillation:
    """Result of :func:`distill_once`.

    Attributes
    ----------
    teacher : Distribution
        The teacher(s), a batch of ``replicates`` models (or the one given).
    student : Distribution
        The students, one per replicate, each trained once.
    n_real, n_synthetic, teacher_n : int
        The budget: real and teacher samples in the student's training set, and
        the real samples the teacher was fitted on (None for a given teacher).
    """

    teacher: Distribution
    student: Distribution
    n_real: int
    n_synthetic: int
    teacher_n: int | None

    @property
    def synthetic_share(self):
        """Share of teacher samples in the student's training data."""
        return self.n_synthetic / (self.n_real + self.n_synthetic)


def _draw(model, k, replicates, rng, world, filter):
    """``k`` (filtered) samples per replicate from a batched or unbatched model."""
    if getattr(model, "batch_shape", ()) == (replicates,):
        return filter.draw(model, k, rng, world)
    out = filter.draw(model, replicates * k, rng, world)
    return np.asarray(out).reshape(replicates, k)


def distill_once(world, family, n_real, n_synthetic, teacher=None, teacher_n=None,
                 replicates=1, seed=None, filter=None):
    """One round of distillation: a student trained once on teacher samples plus real data.

    The Phi regime in miniature (Gunasekar et al., 2023): a teacher that knows
    more about the world than the student's own real data, one generation, mostly
    real data. Nothing is recursive: the student is never trained on its own output.

    Parameters
    ----------
    world : Distribution
        The real world (unbatched).
    family : Family
        The student's model family (and the teacher's, when ``teacher_n`` is given).
    n_real : int >= 0
        Fresh real samples in the student's training set.
    n_synthetic : int >= 0
        Teacher samples in the student's training set (``n_real + n_synthetic >= 1``).
    teacher : Distribution or "self", optional
        A ready teacher (unbatched, or a batch of ``replicates``), or ``"self"``:
        the teacher is fitted on the student's own ``n_real`` real samples, so the
        student trains on its own output plus the data that made it (the first
        step of a loop; no new information enters).
    teacher_n : int >= 1, optional
        Instead of ``teacher``: fit one teacher per replicate on this many real
        samples (a strong teacher has ``teacher_n`` much larger than ``n_real``).
    replicates : int >= 1
        Independent repetitions, run as arrays.
    seed : int or None
        Seed of the one generator behind every draw (same seed, same result).
        The student's real points are drawn first, so calls with the same seed
        that differ only in ``teacher`` or ``n_synthetic`` share them.
    filter : Filter, optional
        Applied to the teacher's samples (default: none).

    Returns
    -------
    Distillation

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show".
    """
    n_real = check_int("n_real", n_real, minimum=0)
    n_synthetic = check_int("n_synthetic", n_synthetic, minimum=0)
    replicates = check_int("replicates", replicates, minimum=1)
    if n_real + n_synthetic < 1:
        raise ValueError("n_real + n_synthetic must be >= 1 (the student needs data)")
    if (teacher is None) == (teacher_n is None):
        raise ValueError("give exactly one of teacher (a distribution or 'self') or teacher_n (real samples to fit it on)")
    if not isinstance(world, Distribution) and not callable(getattr(world, "sample", None)):
        raise TypeError("world must be a Distribution (an object with sample(size, rng))")
    if not (isinstance(family, Family) or callable(getattr(family, "fit", None))):
        raise TypeError("family must be a Family (an object with fit(data))")
    filter = NoFilter() if filter is None else filter
    if not (isinstance(filter, Filter) or callable(getattr(filter, "draw", None))):
        raise TypeError("filter must be a Filter (an object with draw(model, k, rng, world))")
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0):
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    family = family.prepare(world) if hasattr(family, "prepare") else family
    rng = np.random.default_rng(seed)

    def real(k):
        return world.sample(replicates * k, rng).reshape(replicates, k)

    # The student's real points are drawn first, whatever the teacher: with one seed, runs that
    # differ only in the teacher or in n_synthetic share the same real data (paired comparisons).
    own = real(n_real) if n_real else None
    if isinstance(teacher, str):
        if teacher != "self":
            raise ValueError(f"teacher must be a distribution or 'self', got {teacher!r}")
        if n_real < max(1, getattr(family, "min_samples", 1)):
            raise ValueError(f"n_real must be >= {max(1, getattr(family, 'min_samples', 1))} for teacher='self', got {n_real}")
        teacher = family.fit(own)
    elif teacher is None:
        teacher_n = check_int("teacher_n", teacher_n, minimum=max(1, getattr(family, "min_samples", 1)))
        teacher = family.fit(real(teacher_n))
    elif getattr(teacher, "batch_shape", ()) not in ((), (replicates,)):
        raise ValueError(f"teacher must be unbatched or a batch of replicates={replicates}")
    parts = []
    if own is not None:
        parts.append(own)
    if n_synthetic:
        parts.append(_draw(teacher, n_synthetic, replicates, rng, world, filter))
    student = family.fit(np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0])
    return Distillation(teacher, student, n_real, n_synthetic, teacher_n)


# ----------------------------------------------------------------------------- provenance

class ProvenanceCap(Scheme):
    """A pipeline that knows which scraped samples are real and caps the synthetic share.

    Each generation a corpus of ``n`` samples is scraped from a web whose
    synthetic share follows ``schedule(t)`` (the same drift as
    :class:`collapse_lib.SyntheticShare`). The pipeline reads each sample's
    provenance: it keeps every real sample and at most enough synthetic samples
    for them to make up ``cap`` of the training data. When the web is mostly
    synthetic, the training set therefore shrinks rather than drifts.

    Parameters
    ----------
    schedule : SyntheticShare, array_like or callable
        The synthetic share of the scraped corpus per generation, as in
        :class:`collapse_lib.SyntheticShare` (``schedule[t - 1]`` or
        ``schedule(t)`` for generation ``t >= 1``), or a SyntheticShare itself.
    cap : float in [0, 1)
        Largest share of synthetic samples allowed in the training data.
    detect : float in [0.5, 1]
        Share of samples whose provenance label is right (1: perfect
        provenance; 0.5: labels are coin flips, i.e. no provenance). A share
        ``1 - detect`` of each kind is mislabelled, as exact rounded counts so
        that every replicate's training set has the same size. A mislabelled
        synthetic sample is kept as if it were real.
    archive : bool
        False (default): each generation trains on this crawl only. True: every
        sample ever labelled real is kept (the generation-0 sample included) and
        the cap applies to the archive, the way a pipeline that knows what is
        real can keep its verified real data across crawls.

    Notes
    -----
    The training set of generation ``t`` has ``r + min(s, floor(cap r / (1 - cap)))``
    samples, with ``r`` the samples labelled real and ``s`` those labelled
    synthetic. Introduced in chapter 9, "Web drift".
    """

    def __init__(self, schedule, cap, detect=1.0, archive=False):
        from .schemes import SyntheticShare

        self.drift = schedule if isinstance(schedule, SyntheticShare) else SyntheticShare(schedule)
        self.cap = check_fraction("cap", cap)
        if self.cap >= 1.0:
            raise ValueError("cap must be in [0, 1) (a cap of 1 is no cap: use SyntheticShare)")
        self.detect = check_fraction("detect", detect)
        if self.detect < 0.5:
            raise ValueError(f"detect must be in [0.5, 1], got {self.detect}")
        if not isinstance(archive, bool):
            raise TypeError(f"archive must be True or False, got {archive!r}")
        self.archive = archive

    def share(self, t):
        """The scraped corpus's synthetic share at generation ``t``."""
        return self.drift.share(t)

    def split(self, n, t):
        """``(n_synthetic, n_real)`` scraped at generation ``t`` (before the cap)."""
        return self.drift.split(t, n)

    def check(self, n, generations):
        """Raise ValueError if the schedule is too short for the run."""
        self.drift.check(n, generations)

    def next_data(self, t, n, synthetic, real, state):
        n_syn, n_real = self.split(n, t)
        syn = synthetic(n_syn) if n_syn else None
        rea = real(n_real) if n_real else None
        if self.detect < 1.0:
            # Provenance labels are right with probability `detect`: the pipeline's view of
            # which samples are real is itself a draw. Mislabelled synthetic samples count
            # as real; mislabelled real samples count as synthetic. Same count per replicate
            # (binomial counts would give ragged rows), so we use the expected numbers.
            wrong_syn = int(round(n_syn * (1.0 - self.detect)))
            wrong_real = int(round(n_real * (1.0 - self.detect)))
        else:
            wrong_syn = wrong_real = 0
        labelled_real = [a for a in (
            syn[:, :wrong_syn] if syn is not None and wrong_syn else None,
            rea[:, wrong_real:] if rea is not None and n_real - wrong_real else None) if a is not None]
        labelled_syn = [a for a in (
            syn[:, wrong_syn:] if syn is not None and n_syn - wrong_syn else None,
            rea[:, :wrong_real] if rea is not None and wrong_real else None) if a is not None]
        if self.archive:
            state["archive"] = np.concatenate([state["archive"]] + labelled_real, axis=-1)
            labelled_real = [state["archive"]]
        r = sum(a.shape[1] for a in labelled_real)
        s = sum(a.shape[1] for a in labelled_syn)
        allowed = int(np.floor(self.cap * r / (1.0 - self.cap) + 1e-9)) if r else 0
        keep_syn = min(s, allowed)
        parts = list(labelled_real)
        if keep_syn:
            parts.append(np.concatenate(labelled_syn, axis=-1)[:, :keep_syn])
        if not parts:
            # Nothing labelled real and the cap allows no synthetic data: keep the previous
            # training data rather than train on nothing.
            return state["last"]
        data = np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]
        state["last"] = data
        return data

    def initial(self, real_data, state):
        state["last"] = real_data
        state["archive"] = real_data
        return real_data

    def __repr__(self):
        extra = ", archive=True" if self.archive else ""
        return f"ProvenanceCap(cap={self.cap:g}, detect={self.detect:g}{extra})"


# ----------------------------------------------------------------------------- filters, composed

class FilterBlend(Filter):
    """Draw fixed shares of the synthetic samples through different filters.

    Parameters
    ----------
    parts : sequence of (Filter, float)
        Filters and their shares of the ``k`` samples asked for; shares are
        non-negative and sum to 1. Each replicate gets ``round(share * k)``
        samples from each filter (the last part takes the remainder).

    Notes
    -----
    A composition, not a new filter: each part keeps its own law. Use it to
    model a judge that is right some of the time and falls back on a bias
    otherwise (:func:`fallible_verifier`). Introduced in chapter 8,
    "Filtering, measured".
    """

    def __init__(self, parts):
        parts = list(parts)
        if not parts:
            raise ValueError("parts must contain at least one (filter, share) pair")
        filters, shares = [], []
        for item in parts:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise TypeError("parts must be a sequence of (filter, share) pairs")
            f, share = item
            if not (isinstance(f, Filter) or callable(getattr(f, "draw", None))):
                raise TypeError("each part's filter must be a Filter (an object with draw(model, k, rng, world))")
            filters.append(f)
            shares.append(check_fraction("share", share))
        if abs(sum(shares) - 1.0) > 1e-9:
            raise ValueError(f"shares must sum to 1, got {sum(shares):g}")
        self.filters, self.shares = tuple(filters), tuple(shares)

    def counts(self, k):
        """Samples drawn through each part for ``k`` in all."""
        k = check_int("k", k, minimum=0)
        out = [int(np.floor(s * k + 0.5)) for s in self.shares[:-1]]
        out = [min(c, k - sum(out[:i])) for i, c in enumerate(out)]
        return out + [k - sum(out)]

    def draw(self, model, k, rng, world):
        pieces = [f.draw(model, c, rng, world) for f, c in zip(self.filters, self.counts(k)) if c]
        if not pieces:
            return model.sample(0, rng)
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=-1)

    def __repr__(self):
        inner = ", ".join(f"{f!r}: {s:g}" for f, s in zip(self.filters, self.shares))
        return f"FilterBlend({inner})"


def fallible_verifier(accuracy, keep=0.9, pool=4):
    """A verifier that is right with probability ``accuracy`` and otherwise judges by typicality.

    A share ``accuracy`` of the kept samples is chosen by a perfect
    :class:`collapse_lib.Verifier` (checked against the world); the rest by a
    :class:`collapse_lib.QualityFilter` with ``keep``, the generator's own idea
    of a good sample. This is the failure mode of real judges (a reward model, a
    model grading its own output, a perplexity filter): when they cannot tell,
    they prefer what is typical, and typical is what the generator already
    over-produces.

    Parameters
    ----------
    accuracy : float in [0, 1]
        Share of decisions grounded in the world.
    keep : float in (0, 1]
        The fallback quality filter's kept share.
    pool : int >= 2
        Candidates per kept sample for the verifier part.

    Returns
    -------
    FilterBlend

    Notes
    -----
    The library's :class:`collapse_lib.Verifier` errs *at random*: at accuracy 0
    it keeps a random subset, which is no filter at all. This one errs *with a
    bias*, so a weak one is worse than none. Introduced in chapter 8,
    "Filtering, measured".
    """
    from .filters import QualityFilter, Verifier

    accuracy = check_fraction("accuracy", accuracy)
    return FilterBlend([(Verifier(1.0, pool=pool), accuracy), (QualityFilter(keep), 1.0 - accuracy)])


def find_crossing(x, y, level):
    """First ``x`` where the piecewise-linear curve ``y(x)`` crosses ``level``.

    Parameters
    ----------
    x : array_like (P,)
        Increasing grid.
    y : array_like (P,)
        Curve values on the grid.
    level : float or array_like (P,)
        The level (or a baseline curve) to cross.

    Returns
    -------
    float or None
        The interpolated crossing point, ``x[0]`` if the curve starts on the
        level, or None if the curve never reaches it.

    Notes
    -----
    Introduced in chapter 8, "Filtering, measured".
    """
    x = _check_1d("x", x)
    y = _check_1d("y", y)
    d = y - np.broadcast_to(np.asarray(level, dtype=float), y.shape)
    if x.shape != y.shape or x.size < 2:
        raise ValueError("x and y must have the same length, at least 2")
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing")
    if d[0] == 0:
        return float(x[0])
    for i in range(x.size - 1):
        if d[i] == 0 or np.sign(d[i]) != np.sign(d[i + 1]):
            if d[i + 1] == d[i]:
                return float(x[i])
            return float(x[i] + (x[i + 1] - x[i]) * d[i] / (d[i] - d[i + 1]))
    return None


def bootstrap_crossing(x, values, baseline, n_boot=2000, seed=0, ci=0.9):
    """Crossing of a mean curve with a baseline mean, with a bootstrap interval.

    Parameters
    ----------
    x : array_like (P,)
        Increasing grid (e.g. verifier accuracies).
    values : array_like (P, R)
        A metric per grid point and replicate.
    baseline : array_like (R,) or (R0,)
        The same metric under the baseline (e.g. no filter), per replicate.
    n_boot : int >= 1
        Bootstrap resamples (replicates resampled with replacement, independently
        for the curve and the baseline).
    seed : int
        Seed of the bootstrap's generator.
    ci : float in (0, 1)
        Coverage of the percentile interval.

    Returns
    -------
    dict
        ``crossing`` (float or None, from the means), ``lo`` and ``hi`` (the
        percentile interval over the resamples that cross), ``crossed`` (share
        of resamples with a crossing).

    Notes
    -----
    Introduced in chapter 8, "Filtering, measured".
    """
    values = np.asarray(values, dtype=float)
    baseline = np.asarray(baseline, dtype=float).ravel()
    if values.ndim != 2 or not np.all(np.isfinite(values)) or not np.all(np.isfinite(baseline)):
        raise ValueError("values must be a finite array of shape (grid points, replicates); baseline finite")
    n_boot = check_int("n_boot", n_boot, minimum=1)
    ci = check_fraction("ci", ci)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    point = find_crossing(x, values.mean(axis=1), baseline.mean())
    p, r = values.shape
    found = []
    for _ in range(n_boot):
        idx = rng.integers(0, r, r)
        b = baseline[rng.integers(0, baseline.size, baseline.size)].mean()
        c = find_crossing(x, values[:, idx].mean(axis=1), b)
        if c is not None:
            found.append(c)
    if found:
        lo, hi = np.quantile(found, [(1 - ci) / 2, (1 + ci) / 2])
    else:
        lo = hi = None
    return {"crossing": point, "lo": None if lo is None else float(lo), "hi": None if hi is None else float(hi),
            "crossed": len(found) / n_boot}


def _check_1d(name, values):
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a finite 1-D array")
    return arr
