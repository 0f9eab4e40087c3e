"""Tests of collapse_lib.studies.monitor: the collapse watch of chapter 11.

Rates measured over B simulated batches are compared with exact values within
4 binomial standard errors, sqrt(p (1 - p) / B): a false failure has a
probability below about 1e-4 per comparison.
"""

import numpy as np
import pytest
from scipy import stats

import collapse_lib as cl
from collapse_lib import monitor

WORLD = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
P_TAIL = WORLD.tail_mass(5.0)


def _detector(seed=0, n_ref=20000, **kwargs):
    ref = WORLD.sample(n_ref, np.random.default_rng(seed))
    return cl.Detector(ref, threshold=5.0, **kwargs)


def test_ks_statistic_matches_scipy():
    rng = np.random.default_rng(1)
    ref = WORLD.sample(3000, rng)
    batches = cl.Normal(0.2, 1.1).sample(4 * 400, rng).reshape(4, 400)
    d = monitor.ks_statistic(batches, np.sort(ref))
    expected = [stats.ks_2samp(b, ref).statistic for b in batches]
    np.testing.assert_allclose(d, expected, rtol=0, atol=1e-12)


def test_binomial_pvalue_matches_binomtest():
    for k in (0, 3, 10, 30):
        ours = monitor.binomial_lower_pvalue(k, 1000, P_TAIL)
        ref = stats.binomtest(k, 1000, P_TAIL, alternative="less").pvalue
        assert ours == pytest.approx(ref, rel=1e-9)


def test_exact_size_is_at_most_level_and_critical_count_is_tight():
    m = np.arange(20, 3000, 37)
    level = 0.005
    size = monitor.tail_test_size(m, P_TAIL, level)
    assert np.all(size <= level)
    c = monitor._critical_count(m, P_TAIL, level)
    # one more count would exceed the level
    assert np.all(stats.binom.cdf(c + 1, m, P_TAIL) > level)


@pytest.mark.parametrize("batch_size", [300, 1000])
def test_tail_test_false_alarm_rate_matches_its_exact_size(batch_size):
    det = _detector(tests=("tail",), tail_rate=P_TAIL, alpha=0.02)
    batches = 10000
    rate, _ = det.false_alarm_rate(WORLD, batch_size, batches, np.random.default_rng(2))
    exact = monitor.tail_test_size(batch_size, P_TAIL, det.level)
    se = np.sqrt(exact * (1 - exact) / batches)
    assert abs(rate - exact) <= 4 * se  # tol = 4 * binomial SE
    assert exact <= det.alpha


def test_ks_test_false_alarm_rate_is_nominal():
    # The asymptotic Kolmogorov law is accurate for continuous data at these sizes.
    det = _detector(tests=("ks",), alpha=0.05, n_ref=50000)
    batches = 10000
    rate, _ = det.false_alarm_rate(WORLD, 1000, batches, np.random.default_rng(3))
    se = np.sqrt(0.05 * 0.95 / batches)
    assert abs(rate - 0.05) <= 4 * se  # tol = 4 * binomial SE


def test_combined_false_alarm_rate_is_controlled():
    # Bonferroni: each test at alpha / 2, so the union is at most alpha.
    det = _detector(alpha=0.02, tail_rate=P_TAIL, n_ref=50000)
    batches = 10000
    rate, _ = det.false_alarm_rate(WORLD, 1000, batches, np.random.default_rng(4))
    se = np.sqrt(0.02 * 0.98 / batches)
    assert rate <= 0.02 + 4 * se  # tol = 4 * binomial SE
    # and it is not vacuous: at least the tail test's exact size
    assert rate >= monitor.tail_test_size(1000, P_TAIL, det.level) - 4 * se


def test_power_increases_with_batch_size_and_matches_exact_power():
    thinned = cl.NormalMixture([0.985, 0.015], [0.0, 8.0], [1.0, 1.0])
    det = _detector(tests=("tail",), tail_rate=P_TAIL, alpha=0.01)
    rng = np.random.default_rng(5)
    batches = 3000
    rates = []
    for m in (100, 400, 1200):
        rate, se = det.false_alarm_rate(thinned, m, batches, rng)  # an alarm rate on thinned batches
        exact = monitor.tail_test_power(m, P_TAIL, thinned.tail_mass(5.0), det.level)
        assert abs(rate - exact) <= 4 * np.sqrt(exact * (1 - exact) / batches) + 1e-12
        rates.append(rate)
    se = np.sqrt(0.25 / batches)
    assert rates[0] + 4 * se < rates[1] and rates[1] + 4 * se < rates[2]


def test_batch_size_for_power_reaches_target_from_there_on():
    p0, p1, level = P_TAIL, P_TAIL / 2, 0.005
    m = monitor.batch_size_for_power(p0, p1, level, power=0.8)
    grid = np.arange(m, 2 * m)
    assert np.all(monitor.tail_test_power(grid, p0, p1, level) >= 0.8)
    assert monitor.tail_test_power(m - 1, p0, p1, level) < 0.8
    # a smaller thinning needs a larger batch
    assert monitor.batch_size_for_power(p0, 0.75 * p0, level, power=0.8) > m


def test_detects_a_collapsed_model_and_first_alarm():
    run = cl.simulate(WORLD, cl.NormalFit(), n=500, generations=3, replicates=50, seed=0)
    det = _detector(alpha=0.01)
    rates, alarms = monitor.alarm_rates(run, det, 1000, np.random.default_rng(6))
    assert rates.shape == (4,) and alarms.shape == (4, 50)
    assert np.all(rates == 1.0)  # a single Gaussian has almost no mass above 5
    first = monitor.first_alarm(alarms, run.generations)
    assert np.all(first == 0)
    never = monitor.first_alarm(np.zeros((3, 2), bool), [0, 1, 2])
    assert np.all(np.isinf(never))


def test_deterministic():
    det = _detector()
    a = det.false_alarm_rate(WORLD, 500, 200, np.random.default_rng(7))
    b = det.false_alarm_rate(WORLD, 500, 200, np.random.default_rng(7))
    assert a == b
    x = WORLD.sample(300, np.random.default_rng(8))
    c1, c2 = det.check(x), det.check(x)
    assert c1.p_tail == c2.p_tail and c1.p_ks == c2.p_ks and not isinstance(c1.alarm, np.ndarray)


def test_validation():
    ref = WORLD.sample(1000, np.random.default_rng(0))
    with pytest.raises(ValueError, match="alpha"):
        cl.Detector(ref, alpha=1.5)
    with pytest.raises(ValueError, match="tests"):
        cl.Detector(ref, tests=("chi2",))
    with pytest.raises(ValueError, match="reference"):
        cl.Detector(ref[:5])
    with pytest.raises(ValueError, match="tail_rate"):
        cl.Detector(ref, threshold=100.0)
    with pytest.raises(ValueError, match="batches"):
        cl.Detector(ref).check([1.0, np.nan])
    with pytest.raises(ValueError, match="p1"):
        monitor.batch_size_for_power(0.03, 0.05, 0.01)


def test_replayed_alarms_match_a_detector_built_for_them():
    det = _detector(alpha=0.02)
    x = WORLD.sample(300 * 500, np.random.default_rng(9)).reshape(300, 500) * 1.05
    full = det.check(x)
    np.testing.assert_array_equal(full.alarm_at(0.02), full.alarm)
    for tests, alpha in ((("tail",), 0.01), (("ks",), 0.01), (("tail", "ks"), 0.002)):
        other = cl.Detector(det.reference, 5.0, alpha=alpha, tests=tests, tail_rate=det.tail_rate)
        np.testing.assert_array_equal(full.alarm_at(alpha, tests), other.check(x).alarm)
    run = cl.simulate(WORLD, cl.NormalFit(), n=200, generations=2, replicates=5, seed=0)
    checks = monitor.check_run(run, det, 100, np.random.default_rng(1))
    rates, alarms = monitor.alarm_rates(run, det, 100, None, checks=checks, tests=("ks",))
    assert alarms.shape == (3, 5)
    np.testing.assert_array_equal(alarms[1], checks[1].p_ks <= 0.02)
