"""The registered exercises: the problem set for Part II and the assignments.

Each function below computes one exercise's reference answer and its standard error with
the library, with the settings and seed the exercise states, and registers it in
:mod:`collapse_lib.course` under the exercise's label (``ps-...`` for the appendix "Problem
set for Part II", ``a<N>-...`` for assignment N). Importing the package registers them;
``cl.course.check(label, answer)`` then checks a student's number. The settings live in
``PROBLEMS`` and ``ASSIGNMENTS`` so that the notebooks read them from one place.

Introduced in the appendix "Problem set for Part II" and used by the assignments.
"""

from __future__ import annotations

import math

import numpy as np

from .. import theory
from .._validate import check_budget, check_fraction, check_int, check_positive
from ..course import mean_se, median_se, share_se, register
from ..distributions import Categorical, Normal, NormalMixture
from ..families import CategoricalFit, NormalFit
from ..models import KDEFit, SklearnFamily
from ..schemes import Accumulate, Anchor, Replace
from ..simulate import simulate
from ..worlds import english_words

__all__ = ["PROBLEMS", "ASSIGNMENTS", "running_world", "w2_late_sample", "zipf_cut_error",
           "kde_expected_var", "a4_family", "kimura_mean_time", "wright_fisher_mean_fits"]


# ======================================================================================
# Problem set for Part II (chapters/appendix-problem-set.ipynb)
# ======================================================================================
PS = "Problem set for Part II"

# The settings of each problem, shared with the notebook (it reads them from here).
PROBLEMS = {
    "refit": dict(M=20, fits=10),
    "drift": dict(M=50),
    "w2": dict(M=20, fits_early=20, fits_late=200, replicates=20_000, seed=705),
    "wf": dict(probs=(0.5, 0.3, 0.15, 0.05), M=50, fits=25),
    "anchor": dict(M=100, fraction=0.2),
    "accumulate": dict(M=50, fits=20),
    "zipf": dict(K=10_000, beta=1.5, k=100, T=10_000),
    "tail": dict(threshold=5.0, n=100, target=0.01),
}


def running_world():
    """The book's running world: 97 parts N(0, 1), 3 parts N(8, 1).

    Introduced in chapter 1; used by the problem set's last problem.
    """
    return NormalMixture(weights=[0.97, 0.03], means=[0.0, 8.0], stds=[1.0, 1.0])


@register("ps-refit-var-mle", f"{PS}, problem 1",
          "E[sigma_t^2] after t = 10 maximum-likelihood refits with M = 20, sigma_0 = 1")
def _ps_refit_var_mle():
    p = PROBLEMS["refit"]
    return theory.normal_expected_var(p["fits"], p["M"], 0), 0.0


@register("ps-refit-std-unbiased", f"{PS}, problem 2",
          "E[sigma_t] after t = 10 unbiased refits with M = 20, sigma_0 = 1")
def _ps_refit_std_unbiased():
    p = PROBLEMS["refit"]
    return theory.normal_expected_std(p["fits"], p["M"], 1), 0.0


@register("ps-log-drift", f"{PS}, problem 3",
          "drift of ln sigma^2 per maximum-likelihood refit with M = 50", sig=4)
def _ps_log_drift():
    return theory.normal_log_var_drift(PROBLEMS["drift"]["M"], 0), 0.0


@register("ps-collapse-time", f"{PS}, problem 4",
          "refits until exp(E[ln sigma^2]) is 1/100 of sigma_0^2, unbiased, M = 50")
def _ps_collapse_time():
    return theory.normal_collapse_time(PROBLEMS["drift"]["M"], 1, factor=100.0), 0.0


@register("ps-w2-expected", f"{PS}, problem 5",
          "E[W2^2] to N(0, 1) after 20 unbiased refits with M = 20")
def _ps_w2_expected():
    p = PROBLEMS["w2"]
    return theory.normal_expected_w2sq(p["fits_early"], p["M"], 1), 0.0


def w2_late_sample():
    """W2^2 to N(0, 1) of every replicate after ``fits_late`` unbiased refits (problem 5).

    Introduced in the appendix "Problem set for Part II".
    """
    p = PROBLEMS["w2"]
    run = simulate(Normal(0.0, 1.0), NormalFit(ddof=1), n=p["M"],
                      generations=p["fits_late"] - 1, replicates=p["replicates"], seed=p["seed"],
                      record_every=p["fits_late"] - 1, metrics=["mean", "var"], keep=[])
    mu, var = run.metrics["mean"][-1], run.metrics["var"][-1]
    return mu**2 + (np.sqrt(var) - 1.0) ** 2


@register("ps-w2-median", f"{PS}, problem 5",
          "median of W2^2 to N(0, 1) after 200 unbiased refits with M = 20 (20,000 replicates)",
          sig=2)
def _ps_w2_median():
    return median_se(w2_late_sample())


@register("ps-heterozygosity", f"{PS}, problem 6",
          "E[1 - sum p_i^2] after 25 categorical refits of p = (0.5, 0.3, 0.15, 0.05) with M = 50",
          sig=4)
def _ps_heterozygosity():
    p = PROBLEMS["wf"]
    h0 = 1.0 - float(np.sum(np.square(p["probs"])))
    return theory.wright_fisher_heterozygosity(p["fits"], p["M"], h0), 0.0


@register("ps-anchor-var", f"{PS}, problem 7",
          "fixed point of E[sigma^2] / v, M = 100, a fifth fresh real data, maximum likelihood",
          sig=4)
def _ps_anchor_var():
    p = PROBLEMS["anchor"]
    return theory.anchored_normal_fixed_point(p["M"], p["fraction"], 1.0, 0)[0], 0.0


@register("ps-anchor-offset", f"{PS}, problem 7",
          "fixed point of M E[(mu - m)^2] / v (the floor in one-fit errors), M = 100, a = 0.2")
def _ps_anchor_offset():
    p = PROBLEMS["anchor"]
    return p["M"] * theory.anchored_normal_fixed_point(p["M"], p["fraction"], 1.0, 0)[1], 0.0


@register("ps-accumulate", f"{PS}, problem 8",
          "M E[(mu_t - mu_0)^2] / sigma_0^2 after 20 accumulate refits, M = 50, maximum likelihood",
          sig=4)
def _ps_accumulate():
    p = PROBLEMS["accumulate"]
    return p["M"] * theory.accumulate_normal_mean_error(p["fits"], p["M"], 0), 0.0


def zipf_cut_error(T, k, K, beta):
    """Expected test error (unseen mass under the full Zipf law) of a learner that knows the
    tokens it saw in ``T`` draws from the law cut at rank ``k``: exact (problem 9).

    ``sum_{i > k} p_i + sum_{i <= k} p_i (1 - q_i)^T`` with ``q`` the cut law.

    Parameters
    ----------
    T : int >= 0
        Draws from the cut law.
    k : int in [1, K]
        Rank of the cut.
    K : int >= 1
        Ranks of the full law.
    beta : float > 0
        Zipf exponent.

    Introduced in the appendix "Problem set for Part II".
    """
    T = check_int("T", T, minimum=0)
    K = check_int("K", K, minimum=1)
    k = check_int("k", k, minimum=1, maximum=K)
    p = theory.zipf_probs(K, beta)
    q = p[:k] / p[:k].sum()
    return float(p[k:].sum() + np.sum(p[:k] * np.asarray(theory.prob_absent(q, T))))


@register("ps-zipf-plateau", f"{PS}, problem 9",
          "mass beyond rank k = 100 of a Zipf law with beta = 1.5 over K = 10,000 words", sig=4)
def _ps_zipf_plateau():
    p = PROBLEMS["zipf"]
    return theory.zipf_tail_mass(p["k"], p["beta"], K=p["K"]), 0.0


@register("ps-zipf-error", f"{PS}, problem 9",
          "expected unseen mass after T = 10,000 draws from that law cut at rank 100", sig=4)
def _ps_zipf_error():
    p = PROBLEMS["zipf"]
    return zipf_cut_error(p["T"], p["k"], p["K"], p["beta"]), 0.0


@register("ps-no-tail", f"{PS}, problem 10",
          "P(no point above 5 in n = 100 draws from the running world)")
def _ps_no_tail():
    p = PROBLEMS["tail"]
    tail = running_world().tail_mass(p["threshold"])
    return theory.prob_absent(tail, p["n"]), 0.0


@register("ps-no-tail-n", f"{PS}, problem 10",
          "smallest n with P(no point above 5 in n draws) <= 1/100", slack=0.5)
def _ps_no_tail_n():
    p = PROBLEMS["tail"]
    tail = running_world().tail_mass(p["threshold"])
    return float(math.ceil(math.log(p["target"]) / math.log1p(-tail))), 0.0


# ======================================================================================
# Assignments (chapters/assignments.md; starter notebooks in assignments/)
# Each function below is the assignment's prescribed computation with its stated seed.
# ======================================================================================

ASSIGNMENTS = {
    "A1": dict(weights=(0.99, 0.01), means=(0.0, 6.0), stds=(1.0, 1.0), threshold=4.0, n=1000,
               generations=8, replicates=2000, anchor=0.1, seed=11),
    "A2": dict(M=100, h=0.2, generations=60, replicates=1000, seed=21, t=30,
               silverman_generations=40, silverman_replicates=400, silverman_seed=22),
    "A3": dict(k=2000, n=20_000, generations=30, replicates=200, seed=31, accumulate_seed=32),
    "A4": dict(weights=(0.9, 0.1), means=(0.0, 5.0), stds=(1.0, 1.0), threshold=3.0, n=100,
               generations=15, replicates=40, anchor=0.2, seed=41),
    "A5": dict(q=0.2, M=50, generations=800, replicates=16_000, seed=51),
}

_RUNS: dict = {}


def _a1_runs():
    if "A1" not in _RUNS:
        p = ASSIGNMENTS["A1"]
        world = NormalMixture(weights=list(p["weights"]), means=list(p["means"]), stds=list(p["stds"]))
        above = {"above": lambda x: (x > p["threshold"]).sum(axis=1)}
        runs = {name: simulate(world, NormalFit(ddof=0), n=p["n"], generations=p["generations"],
                                  scheme=scheme, replicates=p["replicates"], seed=p["seed"],
                                  data_metrics=above)
                for name, scheme in (("replace", Replace()), ("anchor", Anchor(p["anchor"])))}
        _RUNS["A1"] = (world, runs)
    return _RUNS["A1"]


A1 = "Assignment 1"


@register("a1-world-tail", f"{A1}, item (a)", "the world's exact P(X > 4)")
def _a1_world_tail():
    world, _ = _a1_runs()
    return world.tail_mass(ASSIGNMENTS["A1"]["threshold"]), 0.0


@register("a1-model0-tail", f"{A1}, item (b)", "mean over replicates of the generation-0 model's P(X > 4)")
def _a1_model0_tail():
    _, runs = _a1_runs()
    return mean_se(runs["replace"].models[0].tail_mass(ASSIGNMENTS["A1"]["threshold"]))


@register("a1-empty-gen1-predicted", f"{A1}, item (c)",
          "predicted share of replicates whose generation-1 data have no point above 4")
def _a1_empty_pred():
    _, runs = _a1_runs()
    p = ASSIGNMENTS["A1"]
    tail = runs["replace"].models[0].tail_mass(p["threshold"])
    return mean_se((1.0 - tail) ** p["n"])


@register("a1-empty-gen1", f"{A1}, item (c)",
          "measured share of replicates whose generation-1 data have no point above 4 (replace)")
def _a1_empty_gen1():
    _, runs = _a1_runs()
    return share_se(runs["replace"].data_metrics["above"][1] == 0)


@register("a1-empty-gen8-replace", f"{A1}, item (d)",
          "share of replicates whose generation-8 data have no point above 4 (replace)")
def _a1_empty_gen8_replace():
    _, runs = _a1_runs()
    return share_se(runs["replace"].data_metrics["above"][-1] == 0)


@register("a1-empty-gen8-anchor", f"{A1}, item (d)",
          "share of replicates whose generation-8 data have no point above 4 (10% fresh real)")
def _a1_empty_gen8_anchor():
    _, runs = _a1_runs()
    return share_se(runs["anchor"].data_metrics["above"][-1] == 0)


A2 = "Assignment 2"


def kde_expected_var(fits, M, h, v=1.0):
    """Exact E[variance of the KDE model] after ``fits`` refits with a fixed bandwidth ``h``.

    The model's variance is its data's (maximum-likelihood) variance plus ``h^2``, and
    ``M`` draws from it have expected variance ``(M-1)/M`` of it, so
    ``E[V_{j+1}] = (M-1)/M E[V_j] + h^2``, ``E[V_1] = (M-1)/M v + h^2``; the fixed point is
    ``M h^2``. Introduced in assignment 2.

    Parameters
    ----------
    fits : int >= 1
    M : int >= 1
        Points per fit.
    h : float > 0
        The bandwidth.
    v : float > 0
        The world's variance.
    """
    fits = check_int("fits", fits, minimum=1)
    M = check_int("M", M, minimum=1)
    h = check_positive("h", h)
    v = check_positive("v", v)
    r = (M - 1) / M
    ev = r * v + h * h
    for _ in range(fits - 1):
        ev = r * ev + h * h
    return float(ev)


@register("a2-fixed-point", f"{A2}, item (a)", "long-run E[variance] of the fixed-bandwidth KDE loop")
def _a2_fixed_point():
    p = ASSIGNMENTS["A2"]
    return p["M"] * p["h"] ** 2, 0.0


@register("a2-var-theory", f"{A2}, item (b)", "exact E[variance] of run.models[30] (31 fits)", sig=4)
def _a2_var_theory():
    p = ASSIGNMENTS["A2"]
    return kde_expected_var(p["t"] + 1, p["M"], p["h"]), 0.0


def _a2_runs():
    if "A2" not in _RUNS:
        p = ASSIGNMENTS["A2"]
        fixed = simulate(Normal(0.0, 1.0), KDEFit(p["h"]), n=p["M"], generations=p["generations"],
                            replicates=p["replicates"], seed=p["seed"], metrics=["var"], keep=[])
        rule = simulate(Normal(0.0, 1.0), KDEFit("silverman"), n=p["M"],
                           generations=p["silverman_generations"], replicates=p["silverman_replicates"],
                           seed=p["silverman_seed"], metrics=["var"], keep=[])
        _RUNS["A2"] = (fixed, rule)
    return _RUNS["A2"]


@register("a2-var-sim", f"{A2}, item (b)", "simulated mean variance of run.models[30]")
def _a2_var_sim():
    fixed, _ = _a2_runs()
    return mean_se(fixed.metrics["var"][ASSIGNMENTS["A2"]["t"]])


@register("a2-silverman-growth", f"{A2}, item (c)",
          "mean per-generation growth of ln(variance) between generations 20 and 40, Silverman's rule")
def _a2_silverman_growth():
    _, rule = _a2_runs()
    v = rule.metrics["var"]
    return mean_se((np.log(v[40]) - np.log(v[20])) / 20.0)


A3 = "Assignment 3"


def _a3_runs():
    if "A3" not in _RUNS:
        p = ASSIGNMENTS["A3"]
        _, world = english_words(p["k"])
        runs = {name: simulate(world, CategoricalFit(), n=p["n"], generations=p["generations"],
                                  scheme=scheme, replicates=p["replicates"], seed=seed,
                                  metrics=["surviving", "heterozygosity"], keep=[])
                for name, scheme, seed in (("replace", Replace(), p["seed"]),
                                           ("accumulate", Accumulate(), p["accumulate_seed"]))}
        _RUNS["A3"] = (world, runs)
    return _RUNS["A3"]


@register("a3-survive-first", f"{A3}, item (a)",
          "expected number of the 2,000 words seen in the first fit's 20,000 draws", sig=4)
def _a3_survive_first():
    p = ASSIGNMENTS["A3"]
    _, world = english_words(p["k"])
    return float(np.sum(1.0 - np.asarray(theory.prob_absent(world.probs, p["n"])))), 0.0


@register("a3-het-gen30", f"{A3}, item (b)", "exact E[heterozygosity] of run.models[30] (31 fits)", sig=4)
def _a3_het():
    p = ASSIGNMENTS["A3"]
    _, world = english_words(p["k"])
    h0 = 1.0 - float(np.sum(world.probs**2))
    return theory.wright_fisher_heterozygosity(p["generations"] + 1, p["n"], h0), 0.0


@register("a3-survive-replace", f"{A3}, item (c)", "mean surviving words at generation 30, replace", sig=4)
def _a3_survive_replace():
    _, runs = _a3_runs()
    return mean_se(runs["replace"].metrics["surviving"][-1])


@register("a3-survive-accumulate", f"{A3}, item (c)", "mean surviving words at generation 30, accumulate",
          sig=4)
def _a3_survive_accumulate():
    _, runs = _a3_runs()
    return mean_se(runs["accumulate"].metrics["surviving"][-1])


A4 = "Assignment 4"


def a4_family():
    """The assignment's own model: scikit-learn's two-component GaussianMixture, wrapped.

    Introduced in assignment 4 (the starter notebook shows the wrapping).
    """
    from sklearn.mixture import GaussianMixture
    return SklearnFamily(lambda: GaussianMixture(n_components=2, init_params="k-means++",
                                                 random_state=0))


def _a4_runs():
    if "A4" not in _RUNS:
        p = ASSIGNMENTS["A4"]
        world = NormalMixture(weights=list(p["weights"]), means=list(p["means"]), stds=list(p["stds"]))
        runs = {name: simulate(world, a4_family(), n=p["n"], generations=p["generations"],
                                  scheme=scheme, replicates=p["replicates"], seed=p["seed"],
                                  record_every=p["generations"])
                for name, scheme in (("replace", Replace()), ("anchor", Anchor(p["anchor"])))}
        _RUNS["A4"] = (world, runs)
    return _RUNS["A4"]


@register("a4-world-tail", f"{A4}, item (a)", "the world's exact P(X > 3)")
def _a4_world_tail():
    p = ASSIGNMENTS["A4"]
    world = NormalMixture(weights=list(p["weights"]), means=list(p["means"]), stds=list(p["stds"]))
    return world.tail_mass(p["threshold"]), 0.0


@register("a4-tail-replace", f"{A4}, item (b)", "mean P(X > 3) of run.models[15], replace")
def _a4_tail_replace():
    _, runs = _a4_runs()
    p = ASSIGNMENTS["A4"]
    return mean_se(runs["replace"].model(p["generations"]).tail_mass(p["threshold"]))


@register("a4-tail-anchor", f"{A4}, item (b)", "mean P(X > 3) of run.models[15], a fifth fresh real data")
def _a4_tail_anchor():
    _, runs = _a4_runs()
    p = ASSIGNMENTS["A4"]
    return mean_se(runs["anchor"].model(p["generations"]).tail_mass(p["threshold"]))


A5 = "Assignment 5"


def kimura_mean_time(q, M):
    """Diffusion approximation of the mean number of fits until one of two categories is
    lost: ``-2 M [q ln q + (1 - q) ln(1 - q)]`` (Kimura and Ohta 1969; Ewens 2004).

    Parameters
    ----------
    q : float in [0, 1]
        Share of the first category (0 or 1: already lost, time 0).
    M : int >= 1
        Draws per fit.

    Introduced in assignment 5.
    """
    q = check_fraction("q", q)
    M = check_int("M", M, minimum=1)
    if q in (0.0, 1.0):
        return 0.0
    return float(-2.0 * M * (q * math.log(q) + (1 - q) * math.log(1 - q)))


def wright_fisher_mean_fits(q, M):
    """Exact mean number of fits until one of two categories is lost, by the Markov chain.

    The first fit counts ``M`` draws from the world (``Binomial(M, q)``); every later fit
    moves the count ``k`` to ``Binomial(M, k/M)``. With ``Q`` the transitions among the
    transient counts ``1..M-1``, the expected further fits from ``k`` are
    ``((I - Q)^{-1} 1)_k``, and the answer is ``1 + sum_k P(first count = k) tau_k``.

    Introduced in assignment 5.
    """
    from scipy import stats
    q = check_fraction("q", q)
    M = check_int("M", M, minimum=1)
    check_budget("M", (M + 1) ** 2)
    k = np.arange(M + 1)
    P = stats.binom.pmf(k[None, :], M, k[:, None] / M)      # P[i, j] = P(count i -> j)
    Q = P[1:M, 1:M]
    tau = np.linalg.solve(np.eye(M - 1) - Q, np.ones(M - 1))
    first = stats.binom.pmf(k[1:M], M, q)
    return float(1.0 + first @ tau)


def _a5_run():
    if "A5" not in _RUNS:
        p = ASSIGNMENTS["A5"]
        run = simulate(Categorical([p["q"], 1 - p["q"]]), CategoricalFit(), n=p["M"],
                          generations=p["generations"], replicates=p["replicates"], seed=p["seed"],
                          metrics={"rare": lambda m: m.probs[:, 0]}, keep=[])
        _RUNS["A5"] = run
    return _RUNS["A5"]


@register("a5-diffusion", f"{A5}, item (a)", "diffusion approximation of the mean fits until a category is lost")
def _a5_diffusion():
    p = ASSIGNMENTS["A5"]
    return kimura_mean_time(p["q"], p["M"]), 0.0


def _a5_absorbed():
    run = _a5_run()
    rare = run.metrics["rare"]                     # (generations + 1, replicates)
    done = (rare == 0.0) | (rare == 1.0)
    if not done[-1].all():
        raise RuntimeError("assignment 5: some replicates still hold both categories; raise generations")
    fits = np.argmax(done, axis=0) + 1             # run.models[t] has had t + 1 fits
    return fits, rare[-1] == 1.0


@register("a5-exact", f"{A5}, item (b)", "exact mean number of fits until a category is lost (Markov chain)",
          sig=4)
def _a5_exact():
    p = ASSIGNMENTS["A5"]
    return wright_fisher_mean_fits(p["q"], p["M"]), 0.0


@register("a5-mean-fits", f"{A5}, item (b)", "simulated mean number of fits until a category is lost")
def _a5_mean_fits():
    fits, _ = _a5_absorbed()
    return mean_se(fits)


@register("a5-rare-fixes", f"{A5}, item (c)", "simulated share of replicates in which the rare category takes over")
def _a5_rare_fixes():
    _, fixed = _a5_absorbed()
    return share_se(fixed)
