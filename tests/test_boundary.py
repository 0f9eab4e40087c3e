"""Property-based walk of the public API's input boundary (issue 14).

Every public name in every module's ``__all__`` is either

- in ``CASES``: a valid call (keyword arguments) and, for each checked parameter, its
  kind. For each (name, parameter) pair hypothesis draws values that are wrong for that
  kind (wrong types, strings and bools as numbers, NaN and infinity, out-of-range values,
  mismatched shapes, sizes far above the element budget) and the call must raise
  ValueError or TypeError whose message names the parameter, quickly, with warnings as
  errors; or
- in ``NOT_CALLABLE`` (constants, base classes, data records).

Nothing is excluded. A new public function that is in neither fails
``test_every_public_name_is_accounted_for``, so it cannot slip past the boundary checks
unnoticed. The valid-call tables of most modules live in ``boundary_cases_engine.py``,
``boundary_cases_models.py`` and ``boundary_cases_studies.py`` (merged below).
"""

from __future__ import annotations

import importlib
import math
import pkgutil
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import collapse_lib

RNG = np.random.default_rng


def _world():
    return collapse_lib.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])


def _cat():
    return collapse_lib.Categorical([0.5, 0.3, 0.2])


def _run():
    return collapse_lib.simulate(collapse_lib.Normal(0, 1), collapse_lib.NormalFit(), 10, 3,
                                 replicates=3, seed=0)


# --------------------------------------------------------------------------- the valid calls

# name -> (valid keyword arguments (a function returning them), {parameter: kind})
# kinds: "int:LO" or "int:LO:HI" (an integer in range), "size:LO" (also refused at 10**12
# by the element budget), "fits" (integer or array of them, >= 0), "real" (finite number),
# "real_inf" (a number, +-inf allowed, NaN refused), "pos" (> 0), "frac" ([0, 1]),
# "rng" (numpy Generator), "array" (finite numbers), "probs" (probabilities summing to 1),
# "ints" (integers of any sign), "choice" (one of some strings), "model" (a distribution object).
CASES = {
    # theory
    "collapse_lib.theory.normal_var_factor": (lambda: dict(M=10, ddof=0), {"M": "int:2", "ddof": "int:0:1"}),
    "collapse_lib.theory.normal_expected_var": (lambda: dict(fits=3, M=10, ddof=0, sigma0=1.0),
                                                {"fits": "fits", "M": "int:2", "ddof": "int:0:1", "sigma0": "pos"}),
    "collapse_lib.theory.normal_log_var_drift": (lambda: dict(M=10, ddof=0), {"M": "int:2", "ddof": "int:0:1"}),
    "collapse_lib.theory.normal_log_var": (lambda: dict(fits=3, M=10, ddof=0, sigma0=1.0),
                                           {"fits": "fits", "M": "int:2", "ddof": "int:0:1", "sigma0": "pos"}),
    "collapse_lib.theory.c4": (lambda: dict(M=10), {"M": "int:2"}),
    "collapse_lib.theory.normal_expected_std": (lambda: dict(fits=3, M=10, ddof=0, sigma0=1.0),
                                                {"fits": "fits", "M": "int:2", "ddof": "int:0:1", "sigma0": "pos"}),
    "collapse_lib.theory.normal_mean_var": (lambda: dict(fits=3, M=10, ddof=0, sigma0=1.0),
                                            {"fits": "fits", "M": "int:2", "ddof": "int:0:1", "sigma0": "pos"}),
    "collapse_lib.theory.normal_expected_w2sq": (lambda: dict(fits=3, M=10, ddof=0, sigma0=1.0),
                                                 {"fits": "fits", "M": "int:2", "ddof": "int:0:1", "sigma0": "pos"}),
    "collapse_lib.theory.normal_collapse_time": (lambda: dict(M=10, ddof=0, factor=math.e),
                                                 {"M": "int:2", "ddof": "int:0:1", "factor": "real"}),
    "collapse_lib.theory.wright_fisher_heterozygosity": (lambda: dict(fits=3, M=10, h0=0.5),
                                                         {"fits": "fits", "M": "int:1", "h0": "frac"}),
    "collapse_lib.theory.fixation_probability": (lambda: dict(q=0.3), {"q": "frac"}),
    "collapse_lib.theory.loss_probability": (lambda: dict(q=0.3), {"q": "frac"}),
    "collapse_lib.theory.prob_absent": (lambda: dict(p=0.01, n=100), {"p": "frac", "n": "fits"}),
    "collapse_lib.theory.accumulate_normal_mean_error": (lambda: dict(fits=3, M=10, ddof=0, sigma0=1.0),
                                                         {"fits": "fits", "M": "int:2", "ddof": "int:0:1",
                                                          "sigma0": "pos"}),
    "collapse_lib.theory.accumulate_mean_bound": (lambda: dict(M=10, sigma0=1.0), {"M": "int:1", "sigma0": "pos"}),
    "collapse_lib.theory.ols_reused_design_error": (lambda: dict(iterations=3, base=1.0, scheme="replace"),
                                                    {"iterations": "fits", "base": "pos", "scheme": "choice"}),
    "collapse_lib.theory.anchored_normal_moments": (lambda: dict(fits=3, M=10, fraction=0.5, world_mean=0.0,
                                                                 world_var=1.0, ddof=0),
                                                    {"fits": "fits", "M": "int:2", "fraction": "frac",
                                                     "world_mean": "real", "world_var": "pos", "ddof": "int:0:1"}),
    "collapse_lib.theory.anchored_normal_fixed_point": (lambda: dict(M=10, fraction=0.5, world_var=1.0, ddof=0),
                                                        {"M": "int:2", "fraction": "frac", "world_var": "pos",
                                                         "ddof": "int:0:1"}),
    "collapse_lib.theory.zipf_probs": (lambda: dict(K=10, beta=1.1), {"K": "size:1", "beta": "pos"}),
    "collapse_lib.theory.zipf_cut_rank": (lambda: dict(T=100.0, beta=1.1, K=50), {"T": "pos", "beta": "pos",
                                                                                 "K": "size:1"}),
    "collapse_lib.theory.zipf_tail_mass": (lambda: dict(k=3, beta=1.1, K=50), {"k": "fits", "beta": "pos",
                                                                              "K": "size:1"}),
    "collapse_lib.theory.expected_unseen_mass": (lambda: dict(probs=[0.5, 0.5], T=3), {"probs": "probs",
                                                                                       "T": "int:0"}),
    "collapse_lib.theory.ols_one_fit_error": (lambda: dict(d=3, T=10, sigma=1.0), {"d": "int:1", "T": "int:1",
                                                                                   "sigma": "pos"}),
    "collapse_lib.theory.regression_replace_error": (lambda: dict(n=2, d=3, T=10, sigma=1.0),
                                                     {"n": "fits", "d": "int:1", "T": "int:1", "sigma": "pos"}),
    "collapse_lib.theory.marchenko_pastur_stieltjes": (lambda: dict(lam=0.5, ratio=0.3), {"lam": "pos",
                                                                                         "ratio": "pos"}),
    "collapse_lib.theory.ridge_downstream_error": (lambda: dict(n=2, d=3, T=10, lam=0.5, sigma=1.0),
                                                   {"n": "fits", "d": "int:1", "T": "int:1", "lam": "pos",
                                                    "sigma": "pos"}),
    "collapse_lib.theory.zipf_training_probs": (lambda: dict(K=20, beta=1.1), {"K": "size:1", "beta": "pos"}),
    "collapse_lib.theory.memorizer_error": (lambda: dict(T=100, beta=1.5, K=50), {"beta": "pos", "K": "size:1"}),
    "collapse_lib.theory.hutter_error_asymptote": (lambda: dict(T=100.0, beta=1.5), {"beta": "pos"}),
    "collapse_lib.theory.zipf_mixing_escape": (lambda: dict(cut=10, beta=1.5, real_fraction=0.5),
                                               {"beta": "pos", "real_fraction": "frac"}),
    # distributions
    "collapse_lib.distributions.Normal": (lambda: dict(mean=0.0, std=1.0), {"mean": "array", "std": "array"}),
    "collapse_lib.distributions.NormalMixture": (lambda: dict(weights=[0.5, 0.5], means=[0.0, 1.0],
                                                              stds=[1.0, 1.0]),
                                                 {"weights": "probs", "means": "array", "stds": "array"}),
    "collapse_lib.distributions.Categorical": (lambda: dict(probs=[0.5, 0.5]), {"probs": "probs"}),
    # families, schemes
    "collapse_lib.families.NormalFit": (lambda: dict(ddof=0), {"ddof": "int:0:1"}),
    "collapse_lib.families.CategoricalFit": (lambda: dict(n_categories=3), {"n_categories": "int:1"}),
    "collapse_lib.schemes.Anchor": (lambda: dict(fraction=0.1), {"fraction": "frac"}),
    "collapse_lib.schemes.FixedReal": (lambda: dict(fraction=0.1), {"fraction": "frac"}),
    # simulate
    "collapse_lib.simulate.simulate": (lambda: dict(world=collapse_lib.Normal(0, 1),
                                                    family=collapse_lib.NormalFit(), n=10, generations=2,
                                                    replicates=2, seed=0),
                                       {"n": "int:1", "generations": "int:0", "replicates": "size:1",
                                        "world": "model", "family": "model"}),
    # metrics
    "collapse_lib.metrics.kl": (lambda: dict(p=_cat(), q=_cat()), {"p": "probs", "q": "probs"}),
    "collapse_lib.metrics.total_variation": (lambda: dict(p=_cat(), q=_cat()), {"p": "probs", "q": "probs"}),
    "collapse_lib.metrics.heterozygosity": (lambda: dict(p=_cat()), {"p": "probs"}),
    "collapse_lib.metrics.surviving": (lambda: dict(p=_cat()), {"p": "probs"}),
    "collapse_lib.metrics.entropy": (lambda: dict(p=_cat()), {"p": "probs"}),
    "collapse_lib.metrics.mean": (lambda: dict(obj=collapse_lib.Normal(0, 1)), {"obj": "model"}),
    "collapse_lib.metrics.std": (lambda: dict(obj=collapse_lib.Normal(0, 1)), {"obj": "model"}),
    # studies: monitor
    "collapse_lib.studies.monitor.binomial_lower_pvalue": (lambda: dict(k=2, m=10, p0=0.1),
                                                           {"k": "ints", "m": "fits", "p0": "frac"}),
    "collapse_lib.studies.monitor.tail_test_size": (lambda: dict(m=10, p0=0.1, level=0.05),
                                                    {"m": "fits", "p0": "frac", "level": "frac"}),
    "collapse_lib.studies.monitor.tail_test_power": (lambda: dict(m=10, p0=0.1, p1=0.01, level=0.05),
                                                     {"m": "fits", "p0": "frac", "level": "frac"}),
    "collapse_lib.studies.monitor.batch_size_for_power": (lambda: dict(p0=0.1, p1=0.01, level=0.05),
                                                          {"p0": "frac", "p1": "frac", "level": "frac",
                                                           "power": "frac"}),
    "collapse_lib.studies.monitor.ks_statistic": (lambda: dict(batches=[0.1, 0.5], reference_sorted=[0.0, 1.0]),
                                                  {"batches": "array", "reference_sorted": "array"}),
    "collapse_lib.studies.monitor.ks_pvalue": (lambda: dict(d=0.2, m=10, n_ref=100),
                                               {"d": "frac", "m": "int:1", "n_ref": "int:1"}),
    "collapse_lib.studies.monitor.first_alarm": (lambda: dict(alarms=[[True, False]], generations=[0]),
                                                 {"generations": "fits"}),
    # studies: source
    "collapse_lib.studies.source.source_experiment": (lambda: dict(n=50, generations=2, anchor=None, seed=0,
                                                                   threshold=5.0),
                                                      {"n": "size:1", "generations": "size:1", "seed": "int:0",
                                                       "threshold": "real"}),
    "collapse_lib.studies.source.source_real_sample": (lambda: dict(k=10, rng=RNG(0)), {"rng": "rng"}),
    "collapse_lib.studies.source.anchored_fixed_point": (lambda: dict(n=5000, anchor=0.1, threshold=5.0),
                                                         {"n": "int:2", "anchor": "frac", "threshold": "real"}),
    "collapse_lib.studies.source.implied_model": (lambda: dict(data_tail=0.01, n=5000, anchor=0.1, threshold=5.0),
                                                  {"data_tail": "frac", "n": "int:1", "threshold": "real"}),
    # models, worlds
    "collapse_lib.models.kde.bandwidth": (lambda: dict(data=[[0.0, 1.0, 2.0]], rule="silverman"),
                                          {"data": "array", "rule": "choice"}),
    "collapse_lib.worlds.words.english_words": (lambda: dict(k=10, lang="en"), {"k": "int:2"}),
    # studies: tails, vocabulary
    "collapse_lib.studies.tails.rare_mode_survival": (lambda: dict(p=0.05, n=20, fits=3),
                                                      {"p": "frac", "n": "int:1", "fits": "fits"}),
    "collapse_lib.studies.tails.conditional_mean_above": (lambda: dict(model=_world(), x=1.0),
                                                          {"model": "model", "x": "real"}),
    "collapse_lib.studies.tails.tail_ratio": (lambda: dict(world=_world(), threshold=5.0),
                                              {"world": "model", "threshold": "real"}),
    "collapse_lib.studies.tails.tail_lost": (lambda: dict(world=_world(), threshold=5.0, below=0.1),
                                             {"world": "model", "threshold": "real", "below": "frac"}),
    "collapse_lib.studies.vocabulary.rank_survival": (lambda: dict(model=_cat()), {"model": "array"}),
    "collapse_lib.studies.vocabulary.rank_frequency": (lambda: dict(model=_cat()), {"model": "array"}),
    "collapse_lib.studies.vocabulary.expected_survivors": (lambda: dict(probs=[0.5, 0.5], n=10),
                                                           {"probs": "array", "n": "fits"}),
    # schemes, shapes, models
    "collapse_lib.schemes.Augment": (lambda: dict(ratio=1.0), {"ratio": "pos"}),
    "collapse_lib.worlds.shapes.Moons": (lambda: dict(noise=0.05), {"noise": "pos"}),
    "collapse_lib.worlds.shapes.Circles": (lambda: dict(noise=0.05, factor=0.8), {"noise": "pos", "factor": "frac"}),
    "collapse_lib.worlds.shapes.SwissRoll": (lambda: dict(noise=0.05, dims=3), {"noise": "pos", "dims": "int:2:3"}),
    "collapse_lib.models.labelled.LabelledMixtureFit": (lambda: dict(threshold=0.0, ddof=0),
                                                        {"threshold": "real", "ddof": "int:0:1"}),
    "collapse_lib.models.regression.RidgeFit": (lambda: dict(lam=0.5), {"lam": "pos"}),
    "collapse_lib.models.empirical.Empirical": (lambda: dict(points=[0.0, 1.0]), {"points": "array"}),
    # studies: source (rest), scheme comparison
    "collapse_lib.studies.source.moment_matched_tail": (lambda: dict(threshold=5.0), {"threshold": "real"}),
    "collapse_lib.studies.source.expected_moments": (lambda: dict(n=100, generations=3),
                                                     {"n": "int:1", "generations": "size:1"}),
    "collapse_lib.studies.source.print_probability": (lambda: dict(printed=0.01, n=100, tail=0.01),
                                                      {"printed": "frac", "n": "int:1", "tail": "frac"}),
    "collapse_lib.studies.source.procedure_replicates": (lambda: dict(n=50, generations=2, replicates=2),
                                                         {"n": "size:1", "generations": "size:1",
                                                          "replicates": "size:1", "threshold": "real"}),
    "collapse_lib.studies.scheme_comparison.error_trajectory": (lambda: dict(run=_run(), statistic="var",
                                                                             truth=1.0),
                                                                {"run": "model", "truth": "real"}),
    "collapse_lib.metrics.tail_mass": (lambda: dict(obj=collapse_lib.Normal(0, 1), threshold=1.0),
                                       {"obj": "model"}),
}

# Public names that are not functions to call with arguments (constants, base classes, records).
NOT_CALLABLE = {
    "collapse_lib.distributions.Distribution", "collapse_lib.families.Family", "collapse_lib.schemes.Scheme",
    "collapse_lib._validate.ELEMENT_BUDGET",
}

# Further valid-call tables, one file per part of the library (same format as CASES above).
for _part in ("boundary_cases_engine", "boundary_cases_models", "boundary_cases_studies"):
    _mod = importlib.import_module(_part)
    _clash = set(_mod.CASES) & set(CASES)
    assert not _clash, f"{_part} repeats cases: {sorted(_clash)}"
    CASES.update(_mod.CASES)
    NOT_CALLABLE |= set(_mod.NOT_CALLABLE)

def _modules():
    names = [m.name for m in pkgutil.walk_packages(collapse_lib.__path__, "collapse_lib.")]
    out = []
    for name in names:
        if name.endswith("__main__"):
            continue
        mod = importlib.import_module(name)
        if getattr(mod, "__all__", None) is not None and not hasattr(mod, "__path__"):
            out.append(mod)  # packages re-export; their names are walked in the defining module
    return out


def test_every_public_name_is_accounted_for():
    missing = []
    for mod in _modules():
        for name in mod.__all__:
            q = f"{mod.__name__}.{name}"
            if q not in CASES and q not in NOT_CALLABLE:
                missing.append(q)
    assert not missing, f"public names with no boundary case (add one) and not listed as NOT_CALLABLE: {missing}"


def test_cases_name_real_public_callables():
    for q in CASES:
        module, _, name = q.rpartition(".")
        mod = importlib.import_module(module)
        assert name in mod.__all__, q
        assert q not in NOT_CALLABLE, q
    for q in NOT_CALLABLE:
        module, _, name = q.rpartition(".")
        assert name in importlib.import_module(module).__all__, f"NOT_CALLABLE lists {q}, not a public name"


def _resolve(q):
    module, _, name = q.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("q", sorted(CASES))
def test_valid_call_succeeds_without_warnings(q):
    make, _ = CASES[q]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _resolve(q)(**make())


# --------------------------------------------------------------------------- wrong values per kind

_text = st.sampled_from(["1", "0.5", "abc", ""])
_bools = st.sampled_from([True, False, np.True_])
_nonfinite = st.sampled_from([math.nan, math.inf, -math.inf, np.float32("nan")])


def _bad(kind):
    if kind.startswith(("int:", "size:")):
        parts = kind.split(":")
        lo = int(parts[1])
        hi = int(parts[2]) if len(parts) > 2 else None
        options = [_text, _bools, _nonfinite, st.floats(allow_nan=False).filter(lambda x: x != int(x) if
                                                                                  math.isfinite(x) else True),
                   st.integers(max_value=lo - 1), st.just([lo, lo])]
        if hi is not None:
            options.append(st.integers(min_value=hi + 1))
        if kind.startswith("size:"):
            options.append(st.integers(min_value=10**12, max_value=10**15))
        return st.one_of(*options)
    if kind == "ints":
        return st.one_of(_text, _bools, st.sampled_from([math.nan, math.inf, 2.5, ["1"]]))
    if kind == "fits":
        return st.one_of(_text, _bools, st.sampled_from([math.nan, math.inf, 2.5, -1, [-1, 2], ["1"]]),
                         st.integers(max_value=-1))
    if kind in ("real", "real_inf"):
        return st.one_of(_text, _bools, st.just(math.nan), st.just([1.0, 2.0]),
                         *( [] if kind == "real_inf" else [st.sampled_from([math.inf, -math.inf])]))
    if kind == "pos":
        return st.one_of(_text, _bools, _nonfinite, st.floats(max_value=0.0, allow_nan=False, allow_infinity=False))
    if kind == "frac":
        return st.one_of(_text, _bools, _nonfinite,
                         st.floats(min_value=1.0, exclude_min=True, allow_nan=False, allow_infinity=False),
                         st.floats(max_value=0.0, exclude_max=True, allow_nan=False, allow_infinity=False))
    if kind == "rng":
        return st.sampled_from([0, "rng", 1.5, np.random.RandomState(0)])
    if kind == "array":
        return st.sampled_from(["abc", ["1", "2"], [math.nan], [math.inf], [True, False], [[[1.0]]], object()])
    if kind == "probs":
        return st.sampled_from(["abc", ["0.5", "0.5"], [math.nan, 1.0], [0.5, 0.6], [-0.5, 1.5], [True, False],
                                [[[1.0]]], 3.0])
    if kind == "choice":
        return st.sampled_from(["bogus", 3, None])
    if kind == "model":
        return st.sampled_from([3, "model", object()])
    raise AssertionError(f"unknown kind {kind}")


_PAIRS = sorted((q, p) for q, (_, kinds) in CASES.items() for p in kinds)


@pytest.mark.parametrize("q,param", _PAIRS)
@settings(max_examples=12, deadline=2000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(data=st.data())
def test_wrong_values_are_refused_naming_the_parameter(q, param, data):
    make, kinds = CASES[q]
    kwargs = make()
    value = data.draw(_bad(kinds[param]), label=param)
    kwargs[param] = value
    fn = _resolve(q)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises((ValueError, TypeError)) as info:
            fn(**kwargs)
    message = str(info.value)
    assert param in message, f"{q}({param}={value!r}) raised {type(info.value).__name__} without naming " \
                             f"{param!r}: {message}"
