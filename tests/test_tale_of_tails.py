"""A tale of tails (chapter 16): the memorising learner's exact expected error against simulation.

Statistical checks compare a Monte Carlo mean with its closed form within ``TOL_SE = 4.5``
standard errors of that mean (SE from the replicates, ``std(ddof=1)/sqrt(R)``), with fixed
seeds. The settings (beta = 1.5 or 3, small supports, other cut ranks and real shares)
differ from the chapter's (beta = 2, support 10^5, k = 10, 30, 100).
"""

import numpy as np
import pytest

from collapse_lib.studies import tale_of_tails as tt

TOL_SE = 4.5


def assert_mc(values, expected, what=""):
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(values.size)
    diff = values.mean() - expected
    assert abs(diff) <= TOL_SE * se, f"{what}: mean {values.mean():.6g} vs theory {expected:.6g} (se {se:.3g})"


def test_zipf_and_cut_by_hand():
    p = tt.zipf_probs(2.0, 3)
    assert np.allclose(p, np.array([1, 1 / 4, 1 / 9]) / (1 + 1 / 4 + 1 / 9))
    q = tt.cut_tail(p, 2)
    assert np.allclose(q, [0.8, 0.2, 0.0])
    assert tt.cutoff_mass(p, 2) == pytest.approx(p[2])
    assert tt.cutoff_mass(p, 3) == 0.0 and tt.cutoff_mass(p, 0) == pytest.approx(1.0)
    assert np.allclose(tt.cutoff_mass(p, np.array([1, 2])), [p[1] + p[2], p[2]])


def test_expected_error_by_hand():
    p = np.array([0.5, 0.3, 0.2])
    # two real draws: sum p_i (1 - p_i)^2
    assert tt.expected_test_error(p, 2) == pytest.approx(0.5 * 0.25 + 0.3 * 0.49 + 0.2 * 0.64)
    assert tt.expected_test_error(p, 0) == pytest.approx(1.0)
    q = np.array([0.5, 0.5, 0.0])
    # one real draw and one draw from q (real_fraction 0.5 of T = 2)
    want = sum(pi * (1 - pi) * (1 - qi) for pi, qi in zip(p, q))
    assert tt.expected_test_error(p, 2, q=q, real_fraction=0.5) == pytest.approx(want)
    # all synthetic from a cut law: the error never falls below the cut-off mass
    assert tt.expected_test_error(p, 10_000, q=q) == pytest.approx(0.2, rel=1e-9)
    assert tt.expected_test_error(p, np.array([0, 2])).shape == (2,)


@pytest.mark.parametrize("beta, support, k, frac", [(1.5, 2000, 20, 0.0), (3.0, 500, 5, 0.3)])
def test_simulation_matches_exact_expectation(beta, support, k, frac):
    p = tt.zipf_probs(beta, support)
    T = np.array([5, 40, 300, 2000])
    clean = tt.simulate_test_error(p, T, replicates=400, seed=1)
    for j, t in enumerate(T):
        assert_mc(clean[j], tt.expected_test_error(p, t), f"clean, T={t}")
    q = tt.cut_tail(p, k)
    # T below the size at which every replicate has seen the whole head (then the SE is 0 while
    # the exact expectation still holds the tiny chance of a missed head rank)
    T = T[:3]
    cut = tt.simulate_test_error(p, T, q=q, real_fraction=frac, replicates=400, seed=2)
    for j, t in enumerate(T):
        assert_mc(cut[j], tt.expected_test_error(p, t, q=q, real_fraction=frac), f"cut k={k}, T={t}")


def test_plateau_is_the_cutoff_mass():
    p = tt.zipf_probs(1.5, 3000)
    q = tt.cut_tail(p, 15)
    err = tt.simulate_test_error(p, np.array([50_000]), q=q, replicates=5, seed=3)
    # the head of 15 ranks is seen with certainty up to (1 - q_15)^50000 < 1e-100: exactly the cut-off mass
    assert np.allclose(err, tt.cutoff_mass(p, 15), rtol=1e-12)


def test_published_exponents_and_their_asymptotics():
    e = tt.published_exponents(2.5)
    assert e["c"] == pytest.approx(0.6) and e["plateau"] == pytest.approx(1.5)
    # the cut-off mass of a Zipf law decays like k^-(beta - 1): slope over k in [100, 1000]
    beta = 2.5
    p = tt.zipf_probs(beta, 400_000)
    ks = np.array([100, 200, 400, 1000])
    slope = tt.loglog_slope(ks, tt.cutoff_mass(p, ks))
    assert slope == pytest.approx(-(beta - 1), abs=0.02)
    # the exact clean error decays like T^-c over T in [10^3, 10^5] (beta = 3: c = 2/3)
    p3 = tt.zipf_probs(3.0, 20_000)
    Ts = np.array([1e3, 3e3, 1e4, 3e4, 1e5])
    assert tt.loglog_slope(Ts, tt.expected_test_error(p3, Ts.astype(int))) == pytest.approx(-2 / 3, abs=0.02)


def test_loglog_slope_exact_power():
    x = np.array([1.0, 10.0, 100.0])
    assert tt.loglog_slope(x, 3 * x**-0.7) == pytest.approx(-0.7)
    cols = np.stack([x**-1.0, x**-2.0], axis=1)
    assert np.allclose(tt.loglog_slope(x, cols), [-1.0, -2.0])


def test_determinism():
    p = tt.zipf_probs(2.0, 100)
    T = np.array([10, 100])
    a = tt.simulate_test_error(p, T, replicates=3, seed=7)
    assert np.array_equal(a, tt.simulate_test_error(p, T, replicates=3, seed=7))
    assert not np.array_equal(a, tt.simulate_test_error(p, T, replicates=3, seed=8))


def test_bad_input():
    with pytest.raises(ValueError, match="beta"):
        tt.zipf_probs(1.0, 10)
    with pytest.raises(ValueError, match="support"):
        tt.zipf_probs(2.0, 0)
    p = tt.zipf_probs(2.0, 10)
    with pytest.raises(ValueError, match="k"):
        tt.cut_tail(p, 11)
    with pytest.raises(ValueError, match="real_fraction"):
        tt.expected_test_error(p, 5, q=p, real_fraction=1.5)
    with pytest.raises(ValueError, match="T must"):
        tt.expected_test_error(p, -1)
    with pytest.raises(ValueError, match="q must have the shape"):
        tt.simulate_test_error(p, [5], q=tt.zipf_probs(2.0, 5))
    with pytest.raises(ValueError, match="p"):
        tt.expected_test_error([0.5, 0.6], 3)
    with pytest.raises(ValueError, match="replicates"):
        tt.simulate_test_error(p, [5], replicates=0)
