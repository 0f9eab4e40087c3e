"""Chapter 17's closed forms for a normal fit retrained on kept real data, against simulation."""

import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib.studies import stability as st

R = 20_000


@pytest.mark.parametrize("scheme, n0, r, m, ddof", [
    (cl.Augment(1.0), 30, 30, 30, 0),
    (cl.Augment(3.0), 10, 10, 30, 1),
    (cl.FixedReal(0.3), 20, 6, 14, 0),
    (cl.FixedReal(0.8), 25, 20, 5, 1),
    (cl.Replace(), 20, 0, 20, 0),
])
def test_expected_moments_match_simulation(scheme, n0, r, m, ddof):
    T = 20
    run = cl.simulate(cl.Normal(1.0, 2.0), cl.NormalFit(ddof=ddof), n=n0, generations=T,
                      scheme=scheme, replicates=R, seed=17 + n0 + r)
    var, err = st.expected_moments(n0, r, m, T, ddof=ddof)
    for t in (1, 4, T):
        model = run.models[t]
        v = model.var / 4.0
        e = (model.mean - 1.0) ** 2 / 4.0
        # tolerance: 4.5 standard errors of the Monte Carlo mean (15 checks per arm, fixed seed)
        assert abs(v.mean() - var[t]) < 4.5 * v.std(ddof=1) / np.sqrt(R)
        assert abs(e.mean() - err[t]) < 4.5 * e.std(ddof=1) / np.sqrt(R)


def test_start_and_limits():
    var, err = st.expected_moments(40, 40, 0, 3)
    # no synthetic data: every generation refits the same 40 points
    np.testing.assert_allclose(var, 39 / 40)
    np.testing.assert_allclose(err, 1 / 40)
    # replace: E[var] falls by (m - 1) / m per generation, the mean error grows
    var, err = st.expected_moments(10, 0, 10, 5)
    np.testing.assert_allclose(var, (9 / 10) ** np.arange(1, 7))
    assert np.all(np.diff(err) > 0)


@pytest.mark.parametrize("r, m, ddof", [(30, 30, 0), (5, 45, 1), (2, 98, 0)])
def test_stationary_is_the_long_run(r, m, ddof):
    var, err = st.expected_moments(max(r, 2), r, m, 4000, ddof=ddof)
    v, e = st.stationary_moments(r, m, ddof=ddof)
    assert v == pytest.approx(var[-1], rel=1e-6)
    assert e == pytest.approx(err[-1], rel=1e-6)
    assert 0 < v < 1.0 + ddof


def test_bertrand_factor_and_shares():
    assert st.bertrand_factor(0.5) == 0.5
    assert st.bertrand_factor(0.5, lipschitz=2.0, epsilon=0.1, alpha=0.4) == pytest.approx(0.75)
    assert st.share_to_ratio(0.5) == pytest.approx(1.0)
    assert st.ratio_to_share(st.share_to_ratio(0.8)) == pytest.approx(0.8)
    with pytest.raises(ValueError, match="share"):
        st.share_to_ratio(1.0)
    with pytest.raises(ValueError, match="ratio"):
        st.bertrand_factor(-1.0)
    with pytest.raises(ValueError, match="alpha"):
        st.bertrand_factor(1.0, alpha=0.0)
    with pytest.raises(ValueError, match="n_real"):
        st.expected_moments(10, 11, 5, 3)
    with pytest.raises(ValueError, match="n_real"):
        st.stationary_moments(0, 10)


def test_mixture_parameter_error():
    a = cl.NormalMixture([0.5, 0.5], [-1.0, 1.0], [1.0, 1.0])
    b = cl.NormalMixture([0.4, 0.6], [-1.0, 2.0], [1.0, 1.0])
    assert st.mixture_parameter_error(a, a) == 0.0
    assert st.mixture_parameter_error(b, a) == pytest.approx(np.sqrt(0.02 + 1.0))
    with pytest.raises(ValueError, match="components"):
        st.mixture_parameter_error(a, cl.NormalMixture([1.0], [0.0], [1.0]))
