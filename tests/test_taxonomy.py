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
