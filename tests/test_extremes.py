"""Regression tests for issue 14: closed forms at extreme arguments, crashes on legal input,
warnings that escaped, nonsense accepted silently, and the memory guard.

Closed forms are compared with high-precision references computed by mpmath (50 digits);
the tolerances are a few units of float64 rounding, since these are deterministic formulas.
"""

import subprocess
import sys
import warnings

import mpmath as mp
import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib import _validate, theory as th
from collapse_lib.studies import monitor, scheme_comparison, source as src
from collapse_lib.worlds import digits

mp.mp.dps = 50


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _c4_ref(M):
    x = mp.mpf(M - 1) / 2
    return mp.sqrt(1 / x) * mp.exp(mp.loggamma(x + mp.mpf(1) / 2) - mp.loggamma(x))


def _drift_ref(M, ddof):
    return mp.digamma(mp.mpf(M - 1) / 2) + mp.log(2) - mp.log(M - ddof)


# --------------------------------------------------------------------------- wrong numbers

@pytest.mark.parametrize("M", [2, 3, 10, 1000, 99_999, 10**5, 10**6, 10**8, 10**14, 10**20, 2**80])
def test_c4_matches_high_precision_reference_and_stays_below_one(M):
    value = th.c4(M)
    ref = _c4_ref(M)
    # below M = 1e5 the gammaln form stays in use (bit-identical notebook numbers); its
    # relative error grows like M * 1e-16 there (5e-11 at M = 99999). From 1e5 on the series
    # is exact to rounding (the old form was off by > 1 at M = 1e14).
    tol = 1e-10 if M < 10**5 else 4e-16
    assert abs(value - float(ref)) <= tol * float(ref)
    assert value <= 1.0  # 1 - 1/(4M) rounds to 1.0 from M ~ 1e16


def test_normal_expected_std_at_huge_M():
    # E[sigma] after 1000 MLE fits at M = 1e14: (c4 sqrt((M-1)/M))^1000, just below 1
    M = 10**14
    ref = (_c4_ref(M) * mp.sqrt(mp.mpf(M - 1) / M)) ** 1000
    assert th.normal_expected_std(1000, M) == pytest.approx(float(ref), rel=1e-13)


@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize("M", [2, 10, 1000, 10**5, 10**7, 3 * 10**14, 10**15, 10**30])
def test_log_var_drift_matches_reference(M, ddof):
    value = th.normal_log_var_drift(M, ddof)
    ref = float(_drift_ref(M, ddof))
    tol = 1e-10 if M < 10**5 else 1e-14  # as for c4: the digamma form's error grows with M
    assert abs(value - ref) <= tol * abs(ref)
    assert value < 0


def test_collapse_time_finite_for_huge_M():
    t = th.normal_collapse_time(10**15)
    assert np.isfinite(t)
    assert t == pytest.approx(float(1 / -_drift_ref(10**15, 0)), rel=1e-12)


@pytest.mark.parametrize("v", [1e-300, 1e-8, 1.0, 3.7, 1e8, 1e16, 1e300])
def test_anchored_fixed_point_is_scale_invariant(v):
    var, off = th.anchored_normal_fixed_point(10, 0.5, world_var=v)
    assert var / v == pytest.approx(0.875, rel=1e-14)
    var1, off1 = th.anchored_normal_fixed_point(10, 0.5)
    assert off / v == pytest.approx(off1, rel=1e-14)


def test_error_trajectory_with_keep_has_one_value_per_kept_generation():
    run = cl.simulate(cl.Normal(0, 1), cl.NormalFit(), 10, 10, replicates=3, seed=0, keep=[0, 5])
    out = scheme_comparison.error_trajectory(run, "var", 1.0)
    assert out["generation"].tolist() == [0, 5]
    assert out["mse"].shape == (2,) and out["se"].shape == (2,)
    np.testing.assert_array_equal(out["mse"], ((run.model(5).var - 1.0) ** 2).mean() * np.array([0, 1])
                                  + ((run.model(0).var - 1.0) ** 2).mean() * np.array([1, 0]))


def test_implied_model_refuses_an_impossible_tail():
    out = src.implied_model(1.0)
    assert out["model_tail"] is None and out["std"] is None and out["var_factor"] is None


def test_first_alarm_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="generations"):
        monitor.first_alarm(np.zeros((3, 2), bool), [0, 1])
    np.testing.assert_array_equal(monitor.first_alarm([[False, True], [True, True]], [0, 4]), [4.0, 0.0])


# --------------------------------------------------------------------------- crashes on legal input

def test_categorical_fit_accepts_uint64_ids():
    fit = cl.CategoricalFit().fit(np.array([0, 1, 2, 2], dtype=np.uint64))
    np.testing.assert_array_equal(fit.probs, [0.25, 0.25, 0.5])


@pytest.mark.parametrize("n", [10**12, 2**63 + 5, 10**20, 10**300])
def test_simulate_exact_path_beyond_int64(n):
    run = cl.simulate(cl.Normal(0, 1), cl.NormalFit(), n, 3, replicates=4, seed=0)
    assert run.method == "exact"
    # each refit moves the std by O(1/sqrt(n)): nothing left at these sizes
    np.testing.assert_allclose(run.models[-1].std, 1.0, atol=1e-5)


def test_simulate_categorical_exact_path_refuses_counts_beyond_int64():
    with pytest.raises(ValueError, match="n must be"):
        cl.simulate(cl.Categorical([0.5, 0.5]), cl.CategoricalFit(), 10**20, 2)


def test_anchored_fixed_point_far_threshold_has_no_zero_division():
    out = src.anchored_fixed_point(threshold=100)
    assert 0.0 <= out["real_share"] <= 1.0
    assert out["data_tail"] == 0.0


def test_squares_of_huge_sigma0_do_not_overflow_in_python():
    assert th.normal_expected_var(1, 10, sigma0=1e200) == np.inf
    assert th.normal_expected_var(0, 10, sigma0=1e100) == pytest.approx(1e200)
    assert th.normal_mean_var(0, 10, sigma0=1e200) == 0.0
    assert th.normal_expected_w2sq(3, 10, sigma0=1e200) == np.inf
    assert th.accumulate_normal_mean_error(3, 10, sigma0=1e200) == np.inf
    assert th.accumulate_mean_bound(10, sigma0=1e200) == np.inf
    # homogeneous of degree 2: rescaling equals the direct computation where both are finite
    assert th.normal_expected_w2sq(5, 10, sigma0=1e151) == pytest.approx(
        th.normal_expected_w2sq(5, 10) * 1e302, rel=1e-14)
    with pytest.raises(ValueError, match="sigma"):
        th.ols_one_fit_error(3, 10, sigma=1e200)


def test_zipf_cut_rank_caps_at_K_instead_of_overflowing():
    assert th.zipf_cut_rank(1e9, 0.05, K=10) == 10.0


def test_numpy_scalars_accepted():
    assert cl.Normal(np.float32(1.0), np.float64(2.0)).std == 2.0
    run = cl.simulate(cl.Normal(0, 1), cl.NormalFit(), np.int64(10), np.int32(2), progress=np.False_, seed=0)
    assert len(run.models) == 3


# --------------------------------------------------------------------------- warnings that escaped

def test_normal_tail_and_density_limits_without_warnings():
    assert cl.Normal(0, 0.5).tail_mass(1e308) == 0.0
    assert cl.Normal(0, 0.5).tail_mass(-1e308) == 1.0
    assert cl.Normal(0, 1).logpdf(1e200) == -np.inf
    tiny = cl.Normal._from_params(0.0, 1e-170)  # a collapsing std passes here before reaching 0
    assert tiny.logpdf(1.0) == -np.inf
    mix = cl.NormalMixture([0.5, 0.5], [0.0, 1.0], [1.0, 1.0])
    assert mix.logpdf(1e200) == -np.inf
    assert mix.tail_mass(-1e308) == 1.0


def test_cli_far_threshold_prints_no_warning():
    out = subprocess.run([sys.executable, "-W", "error", "-m", "collapse_lib", "--threshold", "1e308",
                          "--generations", "2", "--n", "50"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Warning" not in out.stderr


# --------------------------------------------------------------------------- nonsense refused

@pytest.mark.parametrize("call", [
    lambda: cl.Normal("1", "2"),
    lambda: cl.Normal(True, 1.0),
    lambda: cl.Categorical(["0.5", "0.5"]),
    lambda: cl.Categorical([True, False]),
])
def test_strings_and_bools_are_not_numbers(call):
    with pytest.raises(TypeError):
        call()


def test_mismatched_batch_shapes_name_the_parameters():
    with pytest.raises(ValueError, match="mean and std"):
        cl.Normal([0, 1, 2], [1, 2])


def test_monitor_refuses_nan_probabilities():
    with pytest.raises(ValueError, match="p0"):
        monitor.binomial_lower_pvalue(1, 10, np.nan)
    with pytest.raises(ValueError, match="level"):
        monitor.tail_test_size(10, 0.1, np.nan)


# --------------------------------------------------------------------------- memory guard

def test_memory_guard_refuses_before_allocating_and_names_the_parameter():
    with pytest.raises(ValueError, match="replicates"):
        cl.simulate(cl.Normal(0, 1), cl.NormalFit(), 10, 2, replicates=10**12)
    with pytest.raises(ValueError, match="n "):
        cl.simulate(cl.Normal(0, 1), cl.NormalFit(), 10**12, 2, method="points")
    with pytest.raises(ValueError, match="n"):
        src.source_experiment(n=10**12)


def test_memory_guard_budget_is_configurable():
    old = _validate.set_element_budget(100)
    try:
        with pytest.raises(ValueError, match="budget"):
            cl.simulate(cl.Normal(0, 1), cl.NormalFit(), 200, 1, method="points")
    finally:
        _validate.set_element_budget(old)
    cl.simulate(cl.Normal(0, 1), cl.NormalFit(), 200, 1, method="points", seed=0)


def test_cli_huge_n_exits_2_with_one_line():
    out = subprocess.run([sys.executable, "-m", "collapse_lib", "--n", str(10**12)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "n" in out.stderr


def test_labelled_mixture_with_an_empty_class_gives_inf_not_nan():
    model = cl.LabelledMixtureFit(0.0).fit(np.zeros(5))  # every point in the lower class
    assert model.logpdf(0.0) == np.inf  # a point mass where the data sit
    assert model.logpdf(1.0) == -np.inf


def test_messages_name_the_parameter():
    from collapse_lib import metrics
    from collapse_lib.models import kde
    from collapse_lib.studies.sweeps import Sweep
    from collapse_lib.worlds import words

    with pytest.raises(ValueError, match="rule"):
        kde.bandwidth(np.arange(10.0), rule="bogus")
    with pytest.raises(ValueError, match="lang"):
        words.english_words(5, lang="xx")
    with pytest.raises(ValueError, match="categories"):
        metrics.kl(cl.Categorical([0.5, 0.5]), cl.Categorical([0.2, 0.3, 0.5]))
    with pytest.raises(TypeError, match="obj"):
        metrics.tail_mass(3, 1.0)
    with pytest.raises(TypeError, match="obj"):
        metrics.mean(object())
    sweep = Sweep(("a", "b"), np.array([0.1]), np.zeros((2, 1, 3)), 2)
    with pytest.raises(ValueError, match="scheme"):
        sweep.get("nope")


def test_world_with_nan_samples_is_refused():
    class NanWorld(cl.Distribution):
        def sample(self, size, rng):
            return np.full(size, np.nan)

    with pytest.raises(ValueError, match="world"):
        cl.simulate(NanWorld(), cl.NormalFit(), 10, 2, seed=0)


# --------------------------------------------------------------------------- engine, models and worlds

def test_words_refuse_nan_and_text_sizes():
    from collapse_lib.worlds import words

    for k in (np.nan, "10", True, 10.5):
        with pytest.raises((ValueError, TypeError), match="k"):
            words.english_words(k)


@pytest.mark.parametrize("call,name", [
    (lambda: cl.OracleVerifier(pool=10**12), "pool"),
    (lambda: cl.DensityVerifier(m=10**12), "m"),
    (lambda: cl.ClassifierVerifier(m=50, holdout=10**12), "holdout"),
    (lambda: cl.ClassifierVerifier(m=50, bumps=10**12), "bumps"),
    (lambda: cl.LinearModel([1.0, 2.0]).design(10**12, np.random.default_rng(0)), "size"),
    (lambda: cl.LinearModel([1.0, 2.0]).design(10**6, np.random.default_rng(0), replicates=10**6), "size"),
    (lambda: digits.load_digit_world(8).sample(10**12, np.random.default_rng(0)), "size"),
    (lambda: digits.digit_mosaic(np.zeros((2, 64)), ncols=10**12), "ncols"),
    (lambda: digits.digit_mosaic(np.zeros((2, 64)), ncols=2, pad=10**12), "pad"),
    (lambda: cl.Normal(0.0, 1.0).sample(10**12, np.random.default_rng(0)), "size"),
    (lambda: cl.Normal(np.zeros(10**6), 1.0).sample(10**6, np.random.default_rng(0)), "size"),
    (lambda: cl.NormalMixture([0.5, 0.5], [0.0, 1.0], [1.0, 1.0]).sample(10**12, np.random.default_rng(0)), "size"),
    (lambda: cl.Categorical([0.5, 0.5]).sample(10**12, np.random.default_rng(0)), "size"),
    (lambda: cl.Empirical([0.0, 1.0]).sample(10**12, np.random.default_rng(0)), "size"),
    (lambda: cl.Moons().sample(10**12, np.random.default_rng(0)), "size"),
    (lambda: cl.QualityFilter(0.5).draw(cl.Normal(0.0, 1.0), 10**12, np.random.default_rng(0)), "k"),
    (lambda: cl.OracleVerifier().draw(cl.Normal(0.0, 1.0), 10**12, np.random.default_rng(0), cl.Normal(0.0, 1.0)),
     "k"),
    (lambda: cl.DensityVerifier(10).draw(cl.Normal(0.0, 1.0), 10**12, np.random.default_rng(0), cl.Normal(0.0, 1.0)),
     "k"),
])
def test_memory_guard_on_filters_regression_digits_and_grids(call, name):
    # each would ask for terabytes; the guard refuses before allocating, naming the parameter
    with pytest.raises(ValueError, match=f"{name}.*budget"):
        call()


def test_memory_guard_on_text_streams():
    from collapse_lib.worlds.text import TextCorpus, TextWorld

    sentence = ["the", "model", "sees", "the", "data"]
    corpus = TextCorpus([[sentence, sentence[::-1]]] * 10, min_count=1)
    with pytest.raises(ValueError, match="replicates.*budget"):
        TextWorld(corpus, replicates=10**12)
    with pytest.raises(ValueError, match="size.*budget"):
        TextWorld(corpus, replicates=10**6).sample(10**6, np.random.default_rng(0))


def test_load_digit_world_names_n_components_for_unhashable_values():
    # it is cached; a list used to fail inside the cache as "unhashable type"
    with pytest.raises(TypeError, match="n_components"):
        digits.load_digit_world([20])


def test_compare_refuses_text_and_bools_as_replicates():
    with pytest.raises(TypeError, match="a"):
        cl.compare(["1", "2", "3"], [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="b"):
        cl.compare([1.0, 2.0, 3.0], [True, False, True])


@pytest.mark.parametrize("bad", [np.zeros((4, 2)), np.zeros(3), np.zeros((1, 4))])
def test_a_metric_of_the_wrong_shape_is_named(bad):
    # A metric gives a number or one number per replicate; any other shape is refused by name,
    # for model metrics and data metrics, before it reaches a recorded array.
    with pytest.raises(ValueError, match=r"metrics\['spread'\].*shape \(4,\)"):
        cl.simulate(cl.Normal(0, 1), cl.NormalFit(), 10, 2, replicates=4, seed=0, metrics={"spread": lambda m: bad})
    with pytest.raises(ValueError, match=r"data_metrics\['spread'\]"):
        cl.simulate(cl.Normal(0, 1), cl.NormalFit(), 10, 2, replicates=4, seed=0,
                    data_metrics={"spread": lambda x: bad})


def test_a_scalar_metric_is_shared_by_every_replicate():
    run = cl.simulate(cl.Normal(0, 1), cl.NormalFit(), 10, 2, replicates=4, seed=0,
                      metrics={"one": lambda m: 1.0, "two": lambda m: np.array([2.0]), "var": lambda m: m.var})
    np.testing.assert_array_equal(run.metrics["one"], np.ones((3, 4)))
    np.testing.assert_array_equal(run.metrics["two"], np.full((3, 4), 2.0))
    np.testing.assert_array_equal(run.metrics["var"], np.stack([m.var for m in run.models]))
