"""The source chapter's printed experiment, run exactly, and the analysis that explains it.

The book grows out of a source chapter that prints two lists of numbers from a
short procedure: a single Gaussian refitted for eight generations on data drawn
from the previous fit, starting from a 97/3 mixture of a common "core" N(0, 1)
and a rare "tail" N(8, 1), with and without a 10% anchor of fresh real data.
This module runs that procedure *as stated* (one generator, the stated draw
order) so that its true output can be set beside the printed one, and gives
the exact quantities that explain each difference:

* :func:`source_experiment` - the procedure itself, one run, per-generation records;
* :data:`SOURCE_CLAIMED_NO_ANCHOR`, :data:`SOURCE_CLAIMED_ANCHOR_10` - the numbers
  the source *claims* its procedure prints (quoted data, not results);
* :func:`moment_matched_tail` - the tail mass left after one step of functional
  error (fitting one Gaussian to the mixture with infinite data);
* :func:`expected_moments` - the exact expected fitted mean and variance per
  generation of the procedure (the sampling error, in expectation);
* :func:`anchored_fixed_point` - where the anchored run settles, the tail it
  keeps, and how much of the measured "tail" is the fresh real data itself.

Introduced in chapter 2, "A simulation you can run"; used in chapter 1, "What
collapse is" and in the appendix "Errata of the source's printed numbers".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .._validate import check_budget, check_fraction, check_int, check_real
from ..distributions import NormalMixture

__all__ = [
    "SOURCE_CLAIMED_NO_ANCHOR",
    "SOURCE_CLAIMED_ANCHOR_10",
    "SOURCE_WORLD",
    "SourceRun",
    "source_world",
    "source_real_sample",
    "source_experiment",
    "moment_matched_tail",
    "expected_moments",
    "anchored_fixed_point",
    "print_probability",
    "implied_model",
    "procedure_replicates",
]

#: The world of the source's experiment: (weight, mean, std) of the core and of the rare tail.
SOURCE_WORLD = {"core": (0.97, 0.0, 1.0), "tail": (0.03, 8.0, 1.0)}

#: What the source chapter *claims* its procedure prints with no anchor: the fraction
#: of each generation's training data above 5.0, generations 0-7. Quoted data, not a
#: result of this library; the procedure does not produce it (chapter 2, appendix).
SOURCE_CLAIMED_NO_ANCHOR = (0.030, 0.001, 0.000, 0.000, 0.000, 0.000, 0.000, 0.000)

#: What the source chapter *claims* its procedure prints with a 10% real anchor
#: (same quantity). Quoted data, not a result; see :data:`SOURCE_CLAIMED_NO_ANCHOR`.
SOURCE_CLAIMED_ANCHOR_10 = (0.030, 0.012, 0.011, 0.010, 0.012, 0.011, 0.010, 0.011)


def _sf(x):
    """Standard normal survival function P(Z > x)."""
    return float(special.ndtr(-x))


def source_world():
    """The source's world as a :class:`~collapse_lib.NormalMixture`: 97% N(0,1), 3% N(8,1).

    Introduced in chapter 1, "What collapse is, and what it is not"; chapter 2,
    "A simulation you can run", runs the source's experiment on it.

    Returns
    -------
    NormalMixture
        Exact ``mean`` (0.24), ``var`` and ``tail_mass``.
    """
    (wc, mc, sc), (wt, mt, st) = SOURCE_WORLD["core"], SOURCE_WORLD["tail"]
    return NormalMixture([wc, wt], [mc, mt], [sc, st])


def _split_real(k):
    """Number of core and tail points in a real sample of size ``k`` (the source's rule)."""
    core = int(SOURCE_WORLD["core"][0] * k)
    return core, k - core


def source_real_sample(k, rng):
    """Draw a real sample of size ``k`` the way the source does.

    ``int(0.97 k)`` core points from N(0, 1) first, then the remaining
    ``k - int(0.97 k)`` from N(8, 1). The mixture counts are fixed, not random
    (unlike :meth:`NormalMixture.sample`, which draws each point's component).

    Introduced in chapter 2, "A simulation you can run".

    Parameters
    ----------
    k : int >= 0
        Sample size.
    rng : numpy.random.Generator
        The generator every draw comes from.

    Returns
    -------
    ndarray of shape (k,)
    """
    k = check_int("k", k, minimum=0)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    n_core, n_tail = _split_real(k)
    _, mc, sc = SOURCE_WORLD["core"]
    _, mt, st = SOURCE_WORLD["tail"]
    return np.concatenate([rng.normal(mc, sc, n_core), rng.normal(mt, st, n_tail)])


def _check_anchor(anchor):
    if anchor is None:
        return None
    return check_fraction("anchor", anchor)


def _anchor_split(n, anchor):
    """(synthetic, real) sizes of a generation's training data under the source's rule."""
    if anchor is None:
        return n, 0
    n_syn = int(n * (1.0 - anchor))
    return n_syn, n - n_syn


@dataclass(frozen=True)
class SourceRun:
    """Per-generation records of one run of the source's procedure (chapter 2, "A simulation you can run").

    Attributes
    ----------
    generation : ndarray of int, shape (G,)
        0 .. generations - 1.
    data_tail : ndarray, shape (G,)
        Fraction of that generation's *training data* above ``threshold``:
        the number the source prints.
    mean, std : ndarray, shape (G,)
        The Gaussian fitted to that training data (``np.mean``, ``np.std``, ddof=0).
    model_tail : ndarray, shape (G,)
        Exact P(X > threshold) under that fitted Gaussian: the *model's* tail.
    n, anchor, seed, threshold
        The arguments of :func:`source_experiment`.
    n_synthetic, n_real : int
        Composition of every generation's training data after generation 0
        (``n_real`` fresh real points, 0 without an anchor).
    """

    generation: np.ndarray
    data_tail: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    model_tail: np.ndarray
    n: int
    anchor: float | None
    seed: int
    threshold: float
    n_synthetic: int
    n_real: int

    def rows(self):
        """The records as a list of dicts, one per generation (for a table)."""
        return [
            {"generation": int(g), "data_tail": float(d), "mean": float(m),
             "std": float(s), "model_tail": float(t)}
            for g, d, m, s, t in zip(self.generation, self.data_tail, self.mean,
                                     self.std, self.model_tail)
        ]


def source_experiment(n=5000, generations=8, anchor=None, seed=0, threshold=5.0):
    """Run the source chapter's printed procedure exactly as it states it.

    One generator ``numpy.random.default_rng(seed)`` serves every draw, in the
    procedure's own order. Generation 0's training data is one real sample of
    size ``n`` (see :func:`source_real_sample`). Then, for each generation:
    record the fraction of the current training data above ``threshold``; fit
    one Gaussian by ``np.mean`` and ``np.std`` (ddof=0); draw ``n`` points from
    it. Without an anchor those points are the next training data; with an
    anchor fraction ``a`` the first ``int(n (1 - a))`` of them are kept and
    ``n - int(n (1 - a))`` fresh real points are appended.

    Introduced in chapter 2, "A simulation you can run".

    Parameters
    ----------
    n : int >= 1
        Points per generation (the source uses 5000).
    generations : int >= 1
        Number of recorded generations (the source uses 8: generations 0-7).
    anchor : float in [0, 1] or None
        Fraction of fresh real data per generation; None (the default) for the
        unanchored run. The source's anchored run uses 0.10.
    seed : int >= 0
        Seed of the one generator (the source uses 0).
    threshold : float
        The tail threshold (the source uses 5.0).

    Returns
    -------
    SourceRun

    Examples
    --------
    >>> from collapse_lib import source_experiment
    >>> run = source_experiment()
    >>> float(run.data_tail[0])
    0.03
    """
    n = check_int("n", n, minimum=1)
    check_budget("n", n)
    generations = check_int("generations", generations, minimum=1)
    check_budget("generations", generations)
    anchor = _check_anchor(anchor)
    seed = check_int("seed", seed, minimum=0)
    threshold = check_real("threshold", threshold)

    rng = np.random.default_rng(seed)
    n_syn, n_real = _anchor_split(n, anchor)
    data = source_real_sample(n, rng)
    rec = {key: np.empty(generations) for key in ("data_tail", "mean", "std", "model_tail")}
    for g in range(generations):
        rec["data_tail"][g] = np.mean(data > threshold)
        mu, sigma = float(np.mean(data)), float(np.std(data))
        rec["mean"][g], rec["std"][g] = mu, sigma
        rec["model_tail"][g] = _sf((threshold - mu) / sigma) if sigma > 0 else float(mu > threshold)
        generated = rng.normal(mu, sigma, n)
        if anchor is None:
            data = generated
        else:
            data = np.concatenate([generated[:n_syn], source_real_sample(n_real, rng)])
    return SourceRun(
        generation=np.arange(generations), n=n, anchor=anchor, seed=seed,
        threshold=threshold, n_synthetic=n_syn, n_real=n_real, **rec,
    )


def moment_matched_tail(threshold=5.0):
    """Tail mass of the Gaussian with the world's exact mean and variance.

    This is what fitting one Gaussian to the 97/3 mixture does to the tail in a
    single step with unlimited data: the *functional* error of the family, with
    no sampling error at all. (The fitted mean and MLE variance converge to the
    world's mean and variance as ``n`` grows.)

    Introduced in chapter 2, "A simulation you can run".

    Parameters
    ----------
    threshold : float

    Returns
    -------
    dict
        ``mean``, ``var``, ``std`` of the moment-matched Gaussian, its
        ``model_tail`` P(X > threshold), and the world's own ``world_tail``.
    """
    threshold = check_real("threshold", threshold)
    world = source_world()
    mean, var = float(world.mean), float(world.var)
    return {
        "mean": mean, "var": var, "std": float(np.sqrt(var)),
        "model_tail": _sf((threshold - mean) / np.sqrt(var)),
        "world_tail": float(world.tail_mass(threshold)),
    }


def _real_block(r, stratified):
    """Sums over a real block of ``r`` points: (sum of variances, sum of means, sum of squared means)."""
    if r == 0:
        return 0.0, 0.0, 0.0
    (_, mc, sc), (_, mt, st) = SOURCE_WORLD["core"], SOURCE_WORLD["tail"]
    if stratified:
        rc, rt = _split_real(r)
        return rc * sc**2 + rt * st**2, rc * mc + rt * mt, rc * mc**2 + rt * mt**2
    world = source_world()
    return r * float(world.var), r * float(world.mean), r * float(world.mean) ** 2


def _step(state, m, r, stratified):
    """One exact step of (E mu, E s2, Var mu) for a training set of m synthetic + r real points.

    Uses E[sum (z_i - zbar)^2] = (1 - 1/N) sum Var z_i + sum (E z_i - mean of E z)^2,
    averaged over the previous fit's random mean (exact: all terms are at most quadratic).
    """
    e_mu, e_s2, v_mu = state
    big_n = m + r
    w, s, q = _real_block(r, stratified)
    m2 = v_mu + e_mu**2  # E[mu^2]
    between = m * m2 + q - (m * m * m2 + 2 * m * s * e_mu + s * s) / big_n
    e_s2_next = ((1 - 1 / big_n) * (m * e_s2 + w) + between) / big_n
    e_mu_next = (m * e_mu + s) / big_n
    v_mu_next = (m / big_n) ** 2 * v_mu + (m * e_s2 + w) / big_n**2
    return e_mu_next, e_s2_next, v_mu_next


def expected_moments(n=5000, generations=8, anchor=None, stratified=True):
    """Exact expected fitted mean and variance, per generation, of the source's procedure.

    Not a simulation: the expectation over all seeds, computed exactly from the
    procedure's composition (``n`` points per generation; with an anchor,
    ``int(n (1 - a))`` from the previous fit and the rest real). Without an
    anchor the expected MLE variance shrinks by exactly ``(n - 1)/n`` per
    generation, which is the whole of the sampling error in expectation.

    Introduced in chapter 2, "A simulation you can run".

    Parameters
    ----------
    n : int >= 1
    generations : int >= 1
        Generations 0 .. generations - 1 are returned.
    anchor : float in [0, 1] or None
    stratified : bool
        True (default): real samples have fixed mixture counts, as the source
        draws them; False: each real point's component is random, as
        :meth:`NormalMixture.sample` (and so :func:`collapse_lib.simulate`) draws them.

    Returns
    -------
    dict of ndarrays, shape (generations,)
        ``mean`` (E of the fitted mean), ``var`` (E of the fitted ddof=0
        variance) and ``var_of_mean`` (variance of the fitted mean across seeds).
    """
    n = check_int("n", n, minimum=1)
    generations = check_budget("generations", check_int("generations", generations, minimum=1))
    anchor = _check_anchor(anchor)
    m, r = _anchor_split(n, anchor)
    state = _step((0.0, 0.0, 0.0), 0, n, stratified)  # generation 0: a real sample
    out = np.empty((generations, 3))
    out[0] = state
    for g in range(1, generations):
        state = _step(state, m, r, stratified)
        out[g] = state
    return {"mean": out[:, 0], "var": out[:, 1], "var_of_mean": out[:, 2]}


def anchored_fixed_point(n=5000, anchor=0.10, threshold=5.0, stratified=True):
    """Where the anchored run settles: its fixed point, and the tail it really keeps.

    With a fraction ``a`` of every generation fresh real data and the rest drawn
    from the previous fit, the expected fitted mean settles at the real data's
    mean and the expected fitted variance ``s2`` solves the exact version of
    ``s2 = c ((1 - a) s2 + a v_world)``, ``c = (n - 1)/n`` (computed here with
    the procedure's integer split and the spread of the fitted mean included).
    Because ``c`` is so close to 1, the anchored model sits at essentially the
    moment-matched Gaussian of :func:`moment_matched_tail`: the anchor stops the
    (slow) sampling drift but cannot undo the (one-step) functional error.

    Introduced in chapter 2, "A simulation you can run".

    Parameters
    ----------
    n : int >= 2
    anchor : float in (0, 1]
        Fraction of fresh real data (must leave at least one real point).
    threshold : float
    stratified : bool
        See :func:`expected_moments`.

    Returns
    -------
    dict
        ``mean``, ``var``, ``std``: the fixed point of the expected fitted
        Gaussian; ``model_tail``: P(X > threshold) under N(mean, var);
        ``real_tail``: the expected fraction of a real block above threshold;
        ``data_tail``: expected fraction of the training data above threshold,
        ``(n_syn model_tail + n_real real_tail) / n`` (the number the procedure
        prints); ``real_share``: the part of ``data_tail`` contributed by the
        fresh real points; ``n_synthetic``, ``n_real``; ``var_factor``: the
        fixed-point variance over the world's variance.
    """
    n = check_int("n", n, minimum=2)
    anchor = check_fraction("anchor", anchor)
    threshold = check_real("threshold", threshold)
    m, r = _anchor_split(n, anchor)
    if r == 0:
        raise ValueError(f"anchor must leave at least one real point per generation (n * anchor >= 1), got anchor={anchor} with n={n}")
    w, s, q = _real_block(r, stratified)
    e_mu = s / r
    # Linear system in x = (E s2, Var mu) at the fixed point, from _step with E mu = e_mu.
    big_n = n
    # E s2 = [(1-1/N)(m E s2 + w) + m(V+mu^2) + q - (m^2 (V+mu^2) + 2 m s mu + s^2)/N] / N
    # V    = (m/N)^2 V + (m E s2 + w)/N^2
    a11 = 1 - (1 - 1 / big_n) * m / big_n
    a12 = -(m - m * m / big_n) / big_n
    b1 = ((1 - 1 / big_n) * w + m * e_mu**2 + q
          - (m * m * e_mu**2 + 2 * m * s * e_mu + s * s) / big_n) / big_n
    a21 = -m / big_n**2
    a22 = 1 - (m / big_n) ** 2
    b2 = w / big_n**2
    e_s2, _ = np.linalg.solve([[a11, a12], [a21, a22]], [b1, b2])
    e_s2 = float(e_s2)
    std = float(np.sqrt(e_s2))
    model_tail = _sf((threshold - e_mu) / std)
    if stratified:
        (_, mc, sc), (_, mt, st) = SOURCE_WORLD["core"], SOURCE_WORLD["tail"]
        rc, rt = _split_real(r)
        real_tail = (rc * _sf((threshold - mc) / sc) + rt * _sf((threshold - mt) / st)) / r
    else:
        real_tail = float(source_world().tail_mass(threshold))
    data_tail = (m * model_tail + r * real_tail) / n
    if data_tail > 0:
        real_share = (r * real_tail / n) / data_tail
    else:  # both tails underflow (a threshold far out): take their ratio in log space
        log_model = np.log(m) + special.log_ndtr(-(threshold - e_mu) / std) if m else -np.inf
        if stratified:
            (_, mc, sc), (_, mt, st) = SOURCE_WORLD["core"], SOURCE_WORLD["tail"]
            rc, rt = _split_real(r)
            parts = [np.log(c) + special.log_ndtr(-(threshold - mu) / sd)
                     for c, mu, sd in ((rc, mc, sc), (rt, mt, st)) if c > 0]
            log_real = float(special.logsumexp(parts))
        else:
            log_real = np.log(r) + float(special.logsumexp(
                [np.log(w) + special.log_ndtr(-(threshold - mu) / sd)
                 for w, mu, sd in zip(*(v.tolist() for v in (source_world().weights, source_world().means,
                                                             source_world().stds)))]))
        real_share = float(special.expit(log_real - log_model)) if np.isfinite(log_model) else 1.0
    return {
        "mean": float(e_mu), "var": e_s2, "std": std,
        "var_factor": e_s2 / float(source_world().var),
        "model_tail": model_tail, "real_tail": real_tail, "data_tail": data_tail,
        "real_share": real_share,
        "n_synthetic": m, "n_real": r,
    }


def print_probability(printed, n, tail, decimals=3):
    """Probability that the procedure prints ``printed`` for one generation's training data.

    A generation of ``n`` points drawn from a model with tail mass ``tail`` has
    a Binomial(n, tail) count above the threshold; the procedure prints the
    fraction rounded to ``decimals`` places. This sums the binomial
    probabilities of every count that prints as ``printed``.

    Introduced in chapter 2, "A simulation you can run" (how likely is a
    printed 0.000?).

    Parameters
    ----------
    printed : float
        The printed value, e.g. 0.0.
    n : int >= 1
        Points per generation.
    tail : float in [0, 1]
        The generating model's P(X > threshold).
    decimals : int >= 0

    Returns
    -------
    float
    """
    printed = check_fraction("printed", printed)  # a printed fraction of the training data
    n = check_int("n", n, minimum=1)
    tail = check_fraction("tail", tail)
    decimals = check_int("decimals", decimals, minimum=0)
    from scipy import stats

    k = np.arange(n + 1)
    shown = np.array([float(f"{c / n:.{decimals}f}") for c in k])
    target = float(f"{printed:.{decimals}f}")
    return float(stats.binom.pmf(k[shown == target], n, tail).sum())


def implied_model(data_tail, n=5000, anchor=0.10, threshold=5.0):
    """The Gaussian model a printed training-data tail fraction would require.

    Inverts the anchored bookkeeping: if a generation's training data is
    ``int(n (1 - a))`` model samples and the rest real, a printed fraction
    ``d`` above the threshold needs the model's own tail to be
    ``(n d - n_real real_tail) / n_synthetic``. With the mean at the world's
    (where the anchored fit settles), this returns the standard deviation such
    a model must have, and its variance relative to the world's.

    Introduced in chapter 2, "A simulation you can run" (what the claimed
    anchored numbers would need).

    Parameters
    ----------
    data_tail : float in [0, 1]
        A printed (claimed) training-data fraction above ``threshold``.
    n : int >= 1
    anchor : float in [0, 1) or None
    threshold : float

    Returns
    -------
    dict
        ``model_tail`` (required), ``std`` and ``var_factor`` (required
        variance over the world's), NaN-free: ``std`` is None when no
        Gaussian with the world's mean can give that tail, and ``model_tail``
        is None as well when no model at all can (the required tail would be
        below 0 or above 1).
    """
    data_tail = check_fraction("data_tail", data_tail)
    n = check_int("n", n, minimum=1)
    anchor = _check_anchor(anchor)
    threshold = check_real("threshold", threshold)
    m, r = _anchor_split(n, anchor)
    if m == 0:
        raise ValueError("anchor must be < 1: with anchor=1 no model sample enters the training data")
    world = source_world()
    real_tail = float(world.tail_mass(threshold))
    model_tail = (n * data_tail - r * real_tail) / m
    mean = float(world.mean)
    std = None
    if 0.0 < model_tail < 0.5 and threshold > mean:
        std = float((threshold - mean) / special.ndtri(1.0 - model_tail))
    return {
        "model_tail": float(model_tail) if 0.0 <= model_tail <= 1.0 else None, "std": std,
        "var_factor": None if std is None else std**2 / float(world.var),
    }


def procedure_replicates(n=5000, generations=8, anchor=None, replicates=1000, threshold=5.0, first_seed=0):
    """Run :func:`source_experiment` for many seeds and stack the records.

    Seeds ``first_seed, first_seed + 1, ...``: each replicate is exactly the
    source's procedure with its own seed (fixed mixture counts, one generator
    per run), so the spread shows what the procedure prints across seeds. This
    loops over seeds in Python; for large studies use :func:`collapse_lib.simulate`.

    Introduced in the appendix "Errata of the source's printed numbers".

    Parameters
    ----------
    n, generations, anchor, threshold
        As in :func:`source_experiment`.
    replicates : int >= 1
    first_seed : int >= 0

    Returns
    -------
    dict of ndarrays, shape (replicates, generations)
        ``data_tail``, ``model_tail``, ``mean``, ``std``.
    """
    replicates = check_int("replicates", replicates, minimum=1)
    first_seed = check_int("first_seed", first_seed, minimum=0)
    # one Python loop per replicate, each drawing n points per generation
    check_budget("replicates (times n)", replicates * check_int("n", n, minimum=1))
    runs = [source_experiment(n=n, generations=generations, anchor=anchor, seed=first_seed + i,
                              threshold=threshold) for i in range(replicates)]
    return {key: np.stack([getattr(r, key) for r in runs])
            for key in ("data_tail", "model_tail", "mean", "std")}
