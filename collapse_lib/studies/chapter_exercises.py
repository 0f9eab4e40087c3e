"""Checks for the chapters' exercises whose answer is one number fixed by the exercise.

Each function below computes, with the library and the settings the exercise states, the
number an exercise asks for, and registers it in :mod:`collapse_lib.course` under the
exercise's label (with a suffix where one exercise asks for several numbers). A learner
checks an answer with ``cl.course.check("ex-tails-half-life", 176)``.

``CHAPTER_ANSWERS`` names, for each registered label, the notebook and the ``{eval}``
expression through which that chapter's solution quotes the same number;
``tests/test_course.py`` reads the value the book stored when it was executed and runs it
through the check, so a solution whose number drifts from the exercise's answer fails the
tests. Exercises answered by a simulation of the chapter's own runs (a seed-dependent number)
are checked by the book's build instead: their solutions quote numbers computed by hidden
cells, and nbval recomputes them.

Introduced in the appendix "Problem set for Part II"; the checks are listed on the
instructors page.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .. import theory
from ..course import register
from ..worlds import english_words
from . import collapse_or_thrive, multivariate_collapse, source, stability, tails, vocabulary
from .exercises import running_world

__all__ = ["CHAPTER_ANSWERS"]

#: label -> (notebook under chapters/, the {eval} expression its solution quotes)
CHAPTER_ANSWERS = {
    "ex-ch1-bigger-n": ("01-what-collapse-is.ipynb", 'f"{num.ex_mean_keep_big:.2f}"'),
    "ex-src-anchor-half": ("02-a-simulation-you-can-run.ipynb", 'f"{num.ex_half_fp_data:.4f}"'),
    "ex-src-anchor-half-real-share": ("02-a-simulation-you-can-run.ipynb", 'f"{num.ex_half_real_share:.2f}"'),
    "ex-tails-half-life": ("03-why-tails-go-first.ipynb", "num.half_life_2000"),
    "ex-tails-source-claim": ("03-why-tails-go-first.ipynb", 'f"{num.absent_source:.1e}"'),
    "ex-tails-source-claim-p": ("03-why-tails-go-first.ipynb", 'f"{num.p_half_absent:.1e}"'),
    "ex-rgf-larger-m": ("04-recursive-gaussian-fitting.ipynb", 'f"{num.collapse_mle_400:.0f}"'),
    "ex-rgf-replicates": ("04-recursive-gaussian-fitting.ipynb", 'f"{num.n_2000:.0e}"'),
    "ex-words-predict-n": ("05-tokens-and-words.ipynb", 'f"{num.ex_h_4n_ratio:.3f}"'),
    "ex-words-big-vocab": ("05-tokens-and-words.ipynb", 'f"{num.ex_big_share:.2f}"'),
    "ex-digits-bigger-n": ("06-collapse-you-can-see.ipynb", 'f"{num.ex_half_n:.1f}"'),
    "ex-digits-bigger-n-4n": ("06-collapse-you-can-see.ipynb", 'f"{num.ex_half_4n:.1f}"'),
    "ex-filt-how-many": ("08-filtering-measured.ipynb", "num.ex_m_one"),
    "ex-filt-how-many-five": ("08-filtering-measured.ipynb", "num.ex_m_five"),
    "ex-sum-rarer": ("12-honest-summary.ipynb", "num.ex_half_rare"),
    "ex-reg-more-rows": ("14-regression-collapse.ipynb", 'f"{num.ex_rows_theory:.3f}"'),
    "ex-mv-double-n": ("15-multivariate-gaussians.ipynb", 'f"{num.ex2_ratio:.2f}"'),
    "ex-stab-keep": ("17-stability-with-real-data-kept.ipynb", "num.ex2_r"),
    "ex-ct-accumulate-limit": ("18-collapse-or-thrive.ipynb", 'f"{num.ex2_1000:.4f}"'),
    "ex-errata-threshold": ("appendix-errata.ipynb", 'f"{num.ex_t7_model:.1e}"'),
    "ex-metrics-units": ("appendix-metrics.ipynb", 'f"{num.ex3_units:.2f}"'),
}


def _half_life(p, n, fits):
    """First number of fits at which the exact survival curve of a rare mode falls below 1/2."""
    survival = tails.rare_mode_survival(p, n, fits)
    return float(np.argmax(survival < 0.5))


# ---------------------------------------------------------------- chapter 1
@register("ex-ch1-bigger-n", "Chapter 1, exercise 1",
          "expected share of the world's variance kept by the last model (101 ML fits, n = 250)")
def _ch1_bigger_n():
    return float(theory.normal_expected_var(101, 250, 0)), 0.0


# ---------------------------------------------------------------- chapter 2
@register("ex-src-anchor-half", "Chapter 2, exercise 2",
          "settled training-data fraction above 5 with anchor = 0.5 (anchored_fixed_point)")
def _src_anchor_half():
    return float(source.anchored_fixed_point(n=5000, anchor=0.5)["data_tail"]), 0.0


@register("ex-src-anchor-half-real-share", "Chapter 2, exercise 2",
          "share of that printed fraction contributed by the real points")
def _src_anchor_half_share():
    return float(source.anchored_fixed_point(n=5000, anchor=0.5)["real_share"]), 0.0


# ---------------------------------------------------------------- chapter 3
@register("ex-tails-half-life", "Chapter 3, exercise 1",
          "fits until half of the runs lose the rare mode, n = 2000 (exact chain)", slack=0.5)
def _tails_half_life():
    return _half_life(running_world().tail_mass(4.0), 2000, 400), 0.0


@register("ex-tails-source-claim", "Chapter 3, exercise 2",
          "probability that an event of probability 1/1000 is absent from 10,000 draws")
def _tails_absent():
    return float(theory.prob_absent(0.001, 10_000)), 0.0


@register("ex-tails-source-claim-n", "Chapter 3, exercise 2",
          "smallest sample size at which a 1/1000 event is absent at most one time in two", slack=0.5)
def _tails_absent_n():
    return float(math.ceil(math.log(0.5) / math.log1p(-0.001))), 0.0


@register("ex-tails-source-claim-p", "Chapter 3, exercise 2",
          "probability of an event absent one time in two from 10,000 draws")
def _tails_absent_p():
    return float(-math.expm1(math.log(0.5) / 10_000)), 0.0


# ---------------------------------------------------------------- chapter 4
@register("ex-rgf-larger-m", "Chapter 4, exercise 1",
          "ML fits until the median variance is 1/100 of the world's, M = 400 (closed form)")
def _rgf_larger_m():
    return float(theory.normal_collapse_time(400, 0, factor=100.0)), 0.0


@register("ex-rgf-replicates", "Chapter 4, exercise 3",
          "replicates needed for the unbiased loop's mean variance at t = 2000, M = 100 (1 / P(Z > s_t))",
          sig=2)
def _rgf_replicates():
    s = math.sqrt(theory.normal_log_var(2000, 100, 1)[1])
    return float(1.0 / stats.norm.sf(s)), 0.0


# ---------------------------------------------------------------- chapter 5
@register("ex-words-predict-n", "Chapter 5, exercise 1",
          "expected heterozygosity as a share of H_0 after 61 fits with a corpus of 200 words")
def _words_predict_n():
    return float(theory.wright_fisher_heterozygosity(61, 200, 1.0)), 0.0


@register("ex-words-big-vocab", "Chapter 5, exercise 3",
          "expected share of the 100,000-word world kept by the first fit on 10^6 words")
def _words_big_vocab():
    _, world = english_words(100_000)
    return float(vocabulary.expected_survivors(world.probs, 10**6) / world.n_categories), 0.0


# ---------------------------------------------------------------- chapter 6
def _halving(n, k=10):
    return float(math.log(2) / -math.log1p(-k / n))


@register("ex-digits-bigger-n", "Chapter 6, exercise 2",
          "generations for (1 - k/n)^t to halve with k = 10 components and n = 200")
def _digits_half():
    return _halving(200), 0.0


@register("ex-digits-bigger-n-4n", "Chapter 6, exercise 2", "the same with n = 800")
def _digits_half_4n():
    return _halving(800), 0.0


# ---------------------------------------------------------------- chapter 8
@register("ex-filt-how-many", "Chapter 8, exercise 3",
          "smallest m with P(at least one of m real points above 5) >= 0.99", slack=0.5)
def _filt_one():
    p = running_world().tail_mass(5.0)
    return float(math.ceil(math.log(0.01) / math.log1p(-p))), 0.0


@register("ex-filt-how-many-five", "Chapter 8, exercise 3",
          "smallest m with P(at least five of m real points above 5) >= 0.9", slack=0.5)
def _filt_five():
    p = running_world().tail_mass(5.0)
    m = np.arange(1, 2001)
    return float(m[np.argmax(stats.binom.sf(4, m, p) >= 0.9)]), 0.0


# ---------------------------------------------------------------- chapter 12
@register("ex-sum-rarer", "Chapter 12, exercise 2",
          "fits until half of the runs lose a mode of frequency 1/100 refitted from 100 points", slack=0.5)
def _sum_rarer():
    return _half_life(0.01, 100, 301), 0.0


# ---------------------------------------------------------------- chapter 14
@register("ex-reg-more-rows", "Chapter 14, exercise 1",
          "expected replace error after 21 OLS fits with d = 10, T = 100, sigma = 1")
def _reg_more_rows():
    return float(21 * theory.ols_one_fit_error(10, 100, 1.0)), 0.0


# ---------------------------------------------------------------- chapter 15
@register("ex-mv-double-n", "Chapter 15, exercise 2",
          "factor by which the exact log-determinant drift shrinks from n = 200 to 400 at d = 50")
def _mv_double_n():
    return float(multivariate_collapse.logdet_drift(50, 200) / multivariate_collapse.logdet_drift(50, 400)), 0.0


# ---------------------------------------------------------------- chapter 17
@register("ex-stab-keep", "Chapter 17, exercise 2",
          "fewest real points of n = 50 keeping the long-run expected variance ratio above 0.9", slack=0.5)
def _stab_keep():
    n = 50
    need = next(r for r in range(1, n + 1) if stability.stationary_moments(r, n - r)[0] > 0.9)
    return float(need), 0.0


# ---------------------------------------------------------------- chapter 18
@register("ex-ct-accumulate-limit", "Chapter 18, exercise 2",
          "expected fitted variance under accumulate at generation 1000, n = 50", sig=4)
def _ct_accumulate():
    return float(collapse_or_thrive.expected_var_accumulate(1000, 50)[1000]), 0.0


# ---------------------------------------------------------------- appendices
@register("ex-errata-threshold", "Errata appendix, exercise 'A higher threshold'",
          "the moment-matched Gaussian's mass above 7")
def _errata_threshold():
    return float(source.moment_matched_tail(7.0)["model_tail"]), 0.0


@register("ex-metrics-units", "Metrics guide, exercise 'One model in every unit'",
          "squared tail error of a model keeping 2/3 of the tail, in one-generation errors at N = 500")
def _metrics_units():
    p = running_world().tail_mass(5.0)
    return float((2 / 3 - 1) ** 2 / ((1 - p) / (500 * p))), 0.0
