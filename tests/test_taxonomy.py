"""Tests of collapse_lib.studies.taxonomy: the source's rule, the scenarios and their measurement.

Verdicts are required to hold with a margin: the tail score must clear its
threshold by 4 standard errors (paired differences over replicates,
``Measurement.tail_score_se``), so a pass is not a coin flip on the seed.
"""

import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib import taxonomy as tx

SOURCE_CLAIMS = ["low", "low to moderate", "high", "high", "moderate", "uncontrolled"]


def test_classify_reproduces_the_source_table():
    assert [row.claimed for row in tx.SOURCE_TABLE] == SOURCE_CLAIMS
    for row, claim in zip(tx.SOURCE_TABLE[:5], SOURCE_CLAIMS[:5]):
        assert tx.classify(*row.knobs) == claim


def test_classify_rule():
    # the dangerous quadrant, and each knob neutralised in turn
    assert tx.classify(True, False, False) == "high"
    assert tx.classify(True, True, False) == "moderate to high"
    assert tx.classify(True, False, True) == "moderate to high"
    assert tx.classify(True, True, True) == "moderate"
    assert tx.classify(False, False, False) == "low to moderate"
    assert tx.classify(False, True, True) == "low"
    assert tx.classify(True, None, False) == "uncontrolled"
    with pytest.raises(TypeError, match="anchored"):
        tx.classify(True, "yes", False)
    with pytest.raises(ValueError, match="recursive"):
        tx.classify(None, True, True)


def test_agrees():
    assert tx.agrees("low to moderate", "moderate") is True
    assert tx.agrees("high", "low") is False
    assert tx.agrees("uncontrolled", "high") is None
    with pytest.raises(ValueError, match="claimed"):
        tx.agrees("severe", "high")


def test_w2_matches_the_normal_closed_form():
    means, stds = np.array([0.0, 0.5, -1.0]), np.array([1.0, 2.0, 0.3])
    models = cl.Normal._from_params(means, stds)
    got = tx.w2_to_world(models, cl.Normal(0.0, 1.0))
    exact = np.sqrt(means**2 + (stds - 1.0) ** 2)  # W2 between normals
    np.testing.assert_allclose(got, exact, atol=2e-3)  # grid and quadrature error
    assert tx.w2_to_world(cl.Normal(0.0, 1.0), cl.Normal(0.0, 1.0)) < 1e-3


def test_thresholds_verdict_is_the_worse_level():
    th = tx.Thresholds()
    assert th.verdict(1.0, 1.0) == "low"
    assert th.verdict(0.6, 1.0) == "moderate"
    assert th.verdict(1.0, 5.0) == "high"
    assert th.verdict(0.3, 1.0) == "high"
    with pytest.raises(ValueError, match="tail_high"):
        tx.Thresholds(tail_low=0.4, tail_high=0.6)


def test_collapse_regime_comes_out_high():
    m = tx.measure(tx.SOURCE_TABLE[2], generations=60, replicates=100, seed=1)
    assert m.level == "high" and m.agrees is True
    assert m.tail_score + 4 * m.tail_score_se < m.thresholds.tail_high
    assert m.w2_ratio > 1.0


def test_phi_like_one_shot_comes_out_low():
    row = tx.SOURCE_TABLE[0]
    assert row.one_shot and row.knobs == (False, True, True)
    m = tx.measure(row, generations=60, replicates=100, seed=1)
    assert m.generations == 1
    assert m.level == "low" and m.agrees is True
    assert m.tail_score - 4 * m.tail_score_se >= m.thresholds.tail_low


def test_deterministic_and_seed_sensitive():
    row = tx.SOURCE_TABLE[2]
    a = tx.measure(row, generations=5, replicates=20, seed=3, n=100)
    b = tx.measure(row, generations=5, replicates=20, seed=3, n=100)
    c = tx.measure(row, generations=5, replicates=20, seed=4, n=100)
    np.testing.assert_array_equal(a.tail, b.tail)
    np.testing.assert_array_equal(a.w2, b.w2)
    assert not np.array_equal(a.tail, c.tail)


def test_checkpoints_and_instructor_row():
    row = cl.Scenario("loop, 30% fresh real", "recursive", real_fraction=0.3, knobs=(True, True, False))
    assert row.claimed == "moderate to high"
    m = tx.measure(row, generations=6, replicates=10, seed=0, n=100, record_every=3)
    assert sorted(m.checkpoints) == [3, 6] and m.generations == 6
    assert m.at(3).generations == 3
    with pytest.raises(ValueError, match="checkpoint"):
        m.at(4)
    assert set(m.row()) >= {"practice", "claimed", "measured", "agrees"}
    stricter = m.with_thresholds(tx.Thresholds(tail_low=1.5, tail_high=1.4))
    assert stricter.level == "high"


def test_tail_blind_teacher_passes_on_its_blindness():
    # A teacher that cannot represent the tail hands the student a thinner one.
    row = tx.SOURCE_TABLE[1]
    good = tx.measure(row, replicates=100, seed=2)
    blind = tx.measure(row.with_(teacher_family=cl.NormalFit()), replicates=100, seed=2)
    se = np.hypot(good.tail_score_se, blind.tail_score_se)
    assert blind.tail_score + 4 * se < good.tail_score


def test_validation():
    with pytest.raises(ValueError, match="workflow"):
        cl.Scenario("x", "loop")
    with pytest.raises(ValueError, match="real_fraction"):
        cl.Scenario("x", "recursive", real_fraction=1.5)
    with pytest.raises(ValueError, match="claimed"):
        cl.Scenario("x", "recursive", claimed="severe")
    with pytest.raises(TypeError, match="scenario"):
        tx.measure("train on own output")
    with pytest.raises(ValueError, match="filter"):
        tx.measure(cl.Scenario("x", "recursive", filter=("sieve", 1)), generations=1, replicates=2)


# ------------------------------------------------------------------ rows added for issue 10

def test_synthetic_pool_never_holds_real_data():
    # Real points are 0; generation t's outputs are t + (a unique fraction), so every point is traceable.
    R, n = 300, 20
    scheme = tx.SyntheticPoolSubsample()
    state = {"rng": np.random.default_rng(0)}
    real = np.zeros((R, n))
    assert scheme.initial(real, state) is real
    frac = (np.arange(n) + 1) / (n + 1)

    def outputs(t):
        return lambda k: np.broadcast_to(t + frac[:k], (R, k)).copy()

    first = scheme.next_data(1, n, outputs(1), None, state)
    np.testing.assert_array_equal(first, outputs(1)(n))  # generation 1: the first outputs themselves
    for t in (2, 3, 4):
        data = scheme.next_data(t, n, outputs(t), None, state)
        assert data.shape == (R, n)
        assert np.all(data >= 1)                      # no real point (0) ever
        assert np.all(np.floor(data) <= t)            # only outputs made so far
        assert all(np.unique(row).size == n for row in data)  # drawn without replacement
    # after generation 4 the pool holds 4n outputs, n of each generation: a uniform subset of n
    # holds n/4 of each on average; the count from generation 1 over R rows has a hypergeometric
    # standard error, and the test allows 4 of them.
    counts = (np.floor(data) == 1).sum(axis=1)
    pool, k = 4 * n, n
    sd = np.sqrt(k * (n / pool) * (1 - n / pool) * (pool - k) / (pool - 1))
    assert abs(counts.mean() - k / 4) < 4 * sd / np.sqrt(R)


def test_unanchored_self_improvement_keeps_no_real_data():
    unanchored, replace_row = tx.SOURCE_TABLE[3], tx.SOURCE_TABLE[2]
    assert unanchored.workflow == "accumulate" and unanchored.pool_keeps_real is False
    anchored = tx.VARIANTS[0]
    assert anchored.workflow == "accumulate" and anchored.pool_keeps_real is True
    # generation 1 trains on the first n outputs, exactly as the replace loop does (same seed)
    a = tx.measure(unanchored, generations=1, replicates=20, seed=5, n=100)
    b = tx.measure(replace_row, generations=1, replicates=20, seed=5, n=100)
    np.testing.assert_array_equal(a.tail, b.tail)
    # later the pool differs from replacing, and from a pool that kept the real sample
    a3 = tx.measure(unanchored, generations=3, replicates=20, seed=5, n=100)
    b3 = tx.measure(replace_row, generations=3, replicates=20, seed=5, n=100)
    c3 = tx.measure(anchored, generations=3, replicates=20, seed=5, n=100)
    assert not np.array_equal(a3.tail, b3.tail) and not np.array_equal(a3.tail, c3.tail)


def test_oracle_teacher_is_twice_the_real_data():
    # The world as teacher: the student's n real points plus n world draws, from one generator.
    row = tx.VARIANTS[1]
    assert row.teacher == "world" and row.one_shot
    R, n, seed = 30, 100, 4
    m = tx.measure(row, replicates=R, seed=seed, n=n)
    rng = np.random.default_rng(seed)
    world = tx.running_world()
    own = world.sample(R * n, rng).reshape(R, n)
    more = world.sample(R * n, rng).reshape(R, n)
    student = tx.expressive_family().fit(np.concatenate([own, more], axis=1))
    np.testing.assert_allclose(m.tail, student.tail_mass(5.0) / world.tail_mass(5.0), rtol=1e-12)


def test_stronger_teacher_phi_row():
    row = tx.SOURCE_TABLE[0]
    assert row.teacher == "fitted" and row.teacher_factor >= 10 and row.filter[0] == "density"
    m = tx.measure(row, replicates=100, seed=3)
    assert m.level == "low"
    assert m.tail_score - 4 * m.tail_score_se >= m.thresholds.tail_low   # 4 paired standard errors
    # the self-teacher form of the same row is still available and runs
    own = tx.measure(row.with_(teacher="self"), replicates=10, seed=3)
    assert own.generations == 1


def test_filter_specs_and_measurement_extras():
    from collapse_lib.studies.taxonomy import _make_filter
    assert isinstance(_make_filter(("oracle", 0.9)), cl.OracleVerifier)
    assert isinstance(_make_filter(("verifier", 0.9)), cl.OracleVerifier)  # the earlier name
    dv = _make_filter(("density", 50))
    assert isinstance(dv, cl.DensityVerifier) and dv.m == 50
    m = tx.measure(tx.SOURCE_TABLE[2], generations=4, replicates=12, seed=0, n=100, record_every=2)
    assert m.model is not None and m.model.batch_shape == (12,)
    np.testing.assert_allclose(m.model.tail_mass(5.0) / tx.running_world().tail_mass(5.0), m.tail)
    assert m.at(2).model is None
    assert m.tail_scores.shape == (12,) and np.isclose(m.tail_scores.mean(), m.tail_score)
    with pytest.raises(ValueError, match="teacher"):
        cl.Scenario("x", "augment", teacher="oracle")
    with pytest.raises(TypeError, match="pool_keeps_real"):
        cl.Scenario("x", "accumulate", pool_keeps_real="no")


def test_with_new_knobs_recomputes_the_claim():
    row = tx.SOURCE_TABLE[4]
    assert row.claimed == "moderate"
    assert row.with_(filter=None, knobs=(True, True, False)).claimed == "moderate to high"
    assert row.with_(filter=None).claimed == "moderate"      # knobs unchanged: claim kept
    assert row.with_(knobs=(True, True, False), claimed="high").claimed == "high"
