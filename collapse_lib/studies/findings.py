"""The book's key measured results, each computed by the same calls as its chapter.

Chapter 12, "The honest summary", gathers the book's findings in one place. It
does not retype them: every function here repeats the library calls (same
arguments, same seeds, same order of draws) that the named chapter makes, so
the summary glues the very numbers the chapter shows. Each function returns a
dict of plain floats and names its chapter in ``"chapter"``.

If a chapter changes its parameters, the matching function here must change
with it; ``tests/test_findings.py`` compares every value with the number the
chapter's stored output glues, so a drift fails the tests.

Introduced in chapter 12, "The honest summary".
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "running_world",
    "source_procedure",
    "rare_mode",
    "gaussian_collapse",
    "words",
    "digits_seen",
    "workflows_compared",
    "filtering",
    "taxonomy_rows",
    "watch",
]


def running_world():
    """The book's running world, 97% N(0, 1) + 3% N(8, 1)."""
    from ..distributions import NormalMixture

    return NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])


def source_procedure():
    """Chapter 2: what the source's printed procedure really produces.

    Returns the smallest and largest fraction of training data above 5 in
    generations 1-7 of the unanchored run (the source printed 0.000 from
    generation 2 on), the source's claimed value, and the tail mass of the best
    single Gaussian (the world's mean and variance) against the world's.
    """
    from . import source as src

    plain = src.source_experiment(n=5000, generations=8, anchor=None, seed=0)
    later = slice(1, None)
    mm = src.moment_matched_tail(5.0)
    return {
        "chapter": "02-a-simulation-you-can-run",
        "measured_lo": float(plain.data_tail[later].min()),
        "measured_hi": float(plain.data_tail[later].max()),
        "claimed": float(src.SOURCE_CLAIMED_NO_ANCHOR[2]),
        "gaussian_tail": float(mm["model_tail"]),
        "world_tail": float(running_world().tail_mass(5.0)),
    }


def rare_mode():
    """Chapter 3: how long a rare mode survives refitting with an exact family.

    Fits until the rare mode (everything above 4) is lost in half of the runs,
    for 100 and 1000 points per fit, and the probability that it is lost for
    good (one minus its frequency).
    """
    from .. import theory
    from . import tails

    p_mode = running_world().tail_mass(4.0)
    surv = {n: tails.rare_mode_survival(p_mode, n, 301) for n in (100, 1000)}
    return {
        "chapter": "03-why-tails-go-first",
        "p_mode": float(p_mode),
        "half_life_100": int(np.argmax(surv[100] < 0.5)),
        "half_life_1000": int(np.argmax(surv[1000] < 0.5)),
        "loss_probability": float(theory.loss_probability(p_mode)),
    }


def gaussian_collapse():
    """Chapter 4: fits, in units of the sample size, until the median variance is 1%.

    For a normal refitted on 1000 of its own samples, by maximum likelihood and
    by the unbiased estimator (closed form, checked by simulation in chapter 4).
    """
    from .. import theory

    return {
        "chapter": "04-recursive-gaussian-fitting",
        "ratio_mle": float(theory.normal_collapse_time(1000, 0, factor=100.0) / 1000),
        "ratio_unbiased": float(theory.normal_collapse_time(1000, 1, factor=100.0) / 1000),
    }


def filtering():
    """Chapter 8: a typicality filter speeds tail loss.

    Share of runs that lost the tail (model tail below a tenth of the
    world's) after 12 generations of the mixture loop, unfiltered and with a
    quality filter keeping the most typical 99% (chapter 8's loop, seed 8: 400
    replicates unfiltered, 150 filtered).
    """
    from ..filters import QualityFilter
    from ..models.mixture import GaussianMixtureFit
    from ..simulate import simulate
    from .tails import tail_ratio

    world = running_world()
    family = GaussianMixtureFit(2, init=[0.0, 8.0], tol=1e-6)
    tail = tail_ratio(world, 5.0)
    out = {"chapter": "08-filtering-measured", "generations": 12}
    for key, filt, replicates in (("lost_none", None, 400), ("lost_quality99", QualityFilter(0.99), 150)):
        run = simulate(world, family, n=300, generations=12, replicates=replicates, filter=filt, seed=8,
                       metrics={"tail": tail}, keep=[])
        out[key] = float((run.metrics["tail"][-1] < 0.1).mean())
    return out


def taxonomy_rows():
    """Chapter 10: the collapse row and the Phi-like row of the source's table, measured.

    Same world, family, budget and seed as chapter 10 (200 points per round,
    30 rounds, 100 replicates, seed 10).
    """
    from . import taxonomy as tx

    kw = dict(generations=30, replicates=100, seed=10, n=200, record_every=10)
    own = tx.measure(tx.SOURCE_TABLE[2], **kw)
    phi = tx.measure(tx.SOURCE_TABLE[0], **kw)
    return {
        "chapter": "10-risk-taxonomy-measured",
        "collapse_tail": own.tail_score,
        "collapse_lost": own.tail_lost,
        "collapse_level": own.level,
        "phi_tail": phi.tail_score,
        "phi_level": phi.level,
    }


def watch():
    """Chapter 11: the collapse watch's measured false-alarm rate and the batch it needs.

    Repeats chapter 11's draws in order (seed 11): the reference, one real
    batch, one single-normal fit and its batch, then ten thousand real batches
    of a thousand points checked at a level of 0.01. Also the batch size at
    which the rare-event test catches a halved tail with probability 0.8.
    """
    from ..families import NormalFit
    from .monitor import Detector, batch_size_for_power, rate_se

    world = running_world()
    rng = np.random.default_rng(11)
    det = Detector(world.sample(20_000, rng), threshold=5.0, alpha=0.01)
    det.check(world.sample(1000, rng))
    NormalFit().fit(world.sample(5000, rng)).sample(1000, rng)
    fa, fa_se = rate_se(det.check_world(world, 1000, 10_000, rng).alarm)
    p0 = det.tail_rate
    return {
        "chapter": "11-monitoring-collapse",
        "alpha": det.alpha,
        "false_alarm": fa,
        "false_alarm_se": fa_se,
        "batch_halved": int(batch_size_for_power(p0, p0 / 2, det.level, power=0.8)),
    }


def words():
    """Chapter 5: a vocabulary refitted by counting, with and without real text.

    Real English (the 10,000 most frequent words) as the world, a corpus of a
    hundred thousand words per generation, 100 generations, 4 replicates
    (chapter 5's seeds 7 and 8): words kept by the first fit and after the last
    generation, the smoothed perplexity (floor 0.01) on the chapter's held-out
    text (seed 105) at both ends, and the words kept with one tenth of fresh
    real text per generation.
    """
    from ..families import CategoricalFit
    from ..schemes import Anchor
    from ..simulate import simulate
    from ..worlds.words import english_words
    from .vocabulary import held_out_perplexity

    _, world = english_words(10_000)
    n, gens, reps = 10**5, 100, 4
    run = simulate(world, CategoricalFit(), n=n, generations=gens, replicates=reps, seed=7,
                   record_every=5)
    surv = run.trajectory("surviving")
    held_out = world.sample(100_000, np.random.default_rng(105))
    ppl = [held_out_perplexity(m, held_out, smoothing=0.01).mean() for m in (run.models[0], run.models[-1])]
    anchored = simulate(world, CategoricalFit(), n=n, generations=gens, replicates=reps,
                        scheme=Anchor(0.1), seed=8, record_every=5)
    return {
        "chapter": "05-tokens-and-words",
        "surv_first": float(surv[0].mean()),
        "surv_last": float(surv[-1].mean()),
        "ppl_first": float(ppl[0]),
        "ppl_last": float(ppl[1]),
        "surv_anchor10": float(anchored.trajectory("surviving")[-1].mean()),
    }


def digits_seen():
    """Chapter 6: a Gaussian mixture refitted on its own handwritten digits.

    Chapter 6's replace run (ten components with a tied covariance, k-means start,
    then warm-started, 200 digits per generation, 25 generations, 30 replicates, 300 digits scored
    per generation, seed 6): digit classes under one in a hundred generated
    digits at the last generation, per replicate on average, and the within-class
    spread relative to the real digits', averaged over the classes still present
    and then over replicates.
    """
    from ..models.mixture import GaussianMixtureFit
    from ..worlds.digits import load_digit_world
    from .digit_collapse import class_spread, simulate_digits

    world = load_digit_world(n_components=20)
    family = GaussianMixtureFit(10, covariance_type="tied", init="kmeans", reg_covar=1e-6, tol=1e-3)
    run = simulate_digits(world, family, n=200, generations=25, replicates=30, seed=6, n_eval=300,
                          warm_start=True)
    shares = run.shares()
    present = np.where(shares >= 0.01, run.spread() / class_spread(world, world.codes), np.nan)
    return {
        "chapter": "06-collapse-you-can-see",
        "vanished_mean": float((shares[-1] < 0.01).sum(axis=1).mean()),
        "rel_spread_last": float(np.nanmean(present, axis=2)[-1].mean()),
    }


def workflows_compared():
    """Chapter 7: replacing vs accumulating data, tail error after 12 generations.

    Chapter 7's runs (running world, two-component mixture, 500 points, 200
    replicates, seed 7), tail error relative to generation 0's: the replace loop
    and the accumulating pool, and the share of replace runs that lost the tail.
    """
    from ..models.mixture import GaussianMixtureFit
    from ..schemes import Accumulate, Replace
    from .scheme_comparison import compare_schemes, error_trajectory
    from .tails import tail_lost, tail_ratio

    world = running_world()
    runs = compare_schemes(world, GaussianMixtureFit(2, init=[0.0, 8.0], tol=1e-6),
                           {"replace": Replace(), "accumulate": Accumulate()},
                           n=500, generations=12, replicates=200, seed=7)
    tail = tail_ratio(world, 5.0)
    err = {k: error_trajectory(r, tail, 1.0)["mse"] for k, r in runs.items()}
    base = err["replace"][0]
    return {
        "chapter": "07-nature-vs-phi",
        "rel_replace": float(err["replace"][-1] / base),
        "rel_accumulate": float(err["accumulate"][-1] / base),
        "lost_replace": float(runs["replace"].summary(tail_lost(world, 5.0, 0.1))["mean"][-1]),
    }
