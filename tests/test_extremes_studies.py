"""Regression tests for issue 14's examples in the study modules (collapse_lib.studies).

The examples the issue names in the studies that tests/test_extremes.py already covers are
not repeated here: ``source.anchored_fixed_point(threshold=100)``,
``source.implied_model(1.0)``, ``monitor.first_alarm`` on mismatched lengths,
``Sweep.get("nope")`` and ``error_trajectory`` on a run kept at ``[0, 5]``. The
property-based walk (tests/test_boundary.py, cases in tests/boundary_cases_studies.py)
covers every public name's wrong types, NaN, ranges and sizes; these tests pin the
issue's examples and check the right answers, not only the refusals.
"""

import warnings

import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib.studies import monitor, taxonomy as tx


# --------------------------------------------------------------------------- taxonomy.w2_to_world

def test_w2_to_world_refuses_an_empty_grid():
    # the issue: lo=0, hi=0 returned 0.0 where the true distance is 5
    with pytest.raises(ValueError, match="lo and hi"):
        tx.w2_to_world(cl.Normal(0, 1), cl.Normal(5, 1), lo=0, hi=0)
    with pytest.raises(ValueError, match="lo and hi"):
        tx.w2_to_world(cl.Normal(0, 1), cl.Normal(5, 1), lo=3, hi=-3)


def test_w2_to_world_refuses_a_grid_that_cuts_off_mass():
    # [-3, 3] holds neither N(5, 1)'s bulk nor all of N(0, 1): the clamped quantiles gave 3.15
    with pytest.raises(ValueError, match="lo and hi"):
        tx.w2_to_world(cl.Normal(0, 1), cl.Normal(5, 1), lo=-3, hi=3)


def test_w2_to_world_is_right_on_a_grid_that_holds_both():
    # W2 between N(0, 1) and N(5, 1) is exactly 5 (a shift); the grid has steps of 0.005 and
    # 2000 quantile levels, so the discretisation error is far below 1e-2
    for lo, hi in ((-15.0, 25.0), (-10.0, 15.0)):
        assert tx.w2_to_world(cl.Normal(0, 1), cl.Normal(5, 1), lo=lo, hi=hi) == pytest.approx(5.0, abs=1e-2)
    # and for a scale change: W2(N(0, 1), N(0, 4)) = |1 - 2| = 1
    assert tx.w2_to_world(cl.Normal(0, 1), cl.Normal(0, 2)) == pytest.approx(1.0, abs=1e-2)


# --------------------------------------------------------------------------- taxonomy.measure

def test_measure_with_no_real_tail_is_refused_not_a_zero_division():
    # an empirical model of 10 draws from N(0, 1) has no mass above 8 (P(a draw above 8) ~ 6e-16),
    # so the real-only reference retains none of the tail: the tail score is undefined
    scenario = tx.Scenario("loop", "recursive")
    with pytest.raises(ValueError, match="threshold"):
        tx.measure(scenario, world=cl.Normal(0, 1), family=cl.EmpiricalFit(), generations=2, replicates=2,
                   n=10, threshold=8.0)


def test_measure_still_scores_a_reachable_tail():
    m = tx.measure(tx.Scenario("loop", "recursive"), world=cl.Normal(0, 1), family=cl.NormalFit(),
                   generations=2, replicates=4, n=20, threshold=2.0, seed=3)
    assert m.tail_real > 0 and np.isfinite(m.tail_score) and m.level in ("low", "moderate", "high")


# --------------------------------------------------------------------------- taxonomy.Scenario

@pytest.mark.parametrize("changes, name", [
    (dict(workflow="bogus"), "workflow"),
    (dict(filter=("bogus", 1)), "filter"),
    (dict(filter="quality"), "filter"),
    (dict(filter=("quality", 1.5)), "keep"),
    (dict(drift=(0.1, 1.5)), "drift"),
    (dict(drift=(0.1, 0.5, 0.9)), "drift"),
    (dict(drift=object()), "drift"),
    (dict(teacher="nobody"), "teacher"),
    (dict(teacher_family=3), "teacher_family"),
    (dict(real_fraction=float("nan")), "real_fraction"),
    (dict(rounds=0), "rounds"),
])
def test_scenario_options_are_checked_at_construction(changes, name):
    # the issue: options were checked only when measure ran
    kwargs = dict(name="row", workflow="recursive")
    kwargs.update(changes)
    with pytest.raises((ValueError, TypeError), match=name):
        tx.Scenario(**kwargs)


def test_valid_scenarios_still_construct():
    row = tx.Scenario("loop, 30% fresh real", "recursive", real_fraction=0.3, filter=("oracle", 0.9),
                      knobs=(True, True, True))
    assert row.claimed == tx.classify(True, True, True)
    assert len(tx.SOURCE_TABLE) == 6 and all(isinstance(s, tx.Scenario) for s in tx.SOURCE_TABLE + tx.VARIANTS)


# --------------------------------------------------------------------------- monitor: NaN probabilities and levels

_NAN = float("nan")


def _reference():
    return cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0]).sample(2000, np.random.default_rng(0))


@pytest.mark.parametrize("call, name", [
    (lambda: monitor.binomial_lower_pvalue(1, 10, _NAN), "p0"),
    (lambda: monitor.tail_test_size(10, 0.1, _NAN), "level"),
    (lambda: monitor.tail_test_size(10, _NAN, 0.05), "p0"),
    (lambda: monitor.tail_test_size(10, 0.1, 0.05, p_true=[0.1, _NAN]), "p_true"),
    (lambda: monitor.tail_test_power(10, 0.1, _NAN, 0.05), "p1"),
    (lambda: monitor.tail_test_power(10, 0.1, 0.01, _NAN), "level"),
    (lambda: monitor.batch_size_for_power(0.1, _NAN, 0.05), "p1"),
    (lambda: monitor.batch_size_for_power(0.1, 0.01, _NAN), "level"),
    (lambda: monitor.batch_size_for_power(0.1, 0.01, 0.05, power=_NAN), "power"),
    (lambda: monitor.ks_pvalue(_NAN, 10, 100), "d"),
    (lambda: monitor.Detector(_reference(), alpha=_NAN), "alpha"),
    (lambda: monitor.Detector(_reference(), tail_rate=_NAN), "tail_rate"),
    (lambda: monitor.Detector(_reference(), threshold=_NAN), "threshold"),
    (lambda: monitor.Detector(_reference()).check(_reference()[:500]).alarm_at(_NAN), "alpha"),
])
def test_monitor_refuses_nan_probabilities_and_levels(call, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=name):
            call()


def test_tail_test_power_equals_the_size_at_the_true_rate():
    # the power at p1 is the rejection probability when the true rate is p1 (same function, renamed argument)
    m = np.array([50, 100, 400])
    np.testing.assert_array_equal(monitor.tail_test_power(m, 0.03, 0.005, 0.005),
                                  monitor.tail_test_size(m, 0.03, 0.005, p_true=0.005))


def test_check_run_names_a_wrong_run_or_detector():
    run = cl.simulate(cl.Normal(0, 1), cl.NormalFit(), 20, 1, replicates=2, seed=0)
    watch = monitor.Detector(_reference())
    with pytest.raises(TypeError, match="run"):
        monitor.check_run(object(), watch, 10, np.random.default_rng(0))
    with pytest.raises(TypeError, match="detector"):
        monitor.alarm_rates(run, 3, 10, np.random.default_rng(0))
    with pytest.raises(ValueError, match="batch_size"):
        monitor.check_run(run, watch, 10**12, np.random.default_rng(0))


@pytest.mark.parametrize("parts", [object(), 3, "ab"])
def test_filter_blend_names_parts_for_a_non_sequence(parts):
    from collapse_lib.studies.fallible_verifiers import FilterBlend
    with pytest.raises(TypeError, match="parts"):
        FilterBlend(parts)
