"""collapse_lib.theory: every closed form against collapse_lib.simulate.

Index convention: ``run.models[t]`` has gone through ``t + 1`` fits, so it is
compared with the theory function evaluated at ``fits = t + 1``.

Tolerances: each Monte Carlo mean is compared with its closed form within
``TOL_SE = 4.5`` standard errors, the SE computed from the replicates
themselves (``values.std(ddof=1) / sqrt(R)``). With the fixed seeds below the
tests are deterministic; a wrong formula (e.g. an off-by-one in the number of
fits) is far outside these tolerances, as noted next to each check.
"""

import numpy as np
import pytest
from scipy import special, stats

import collapse_lib as cl
from collapse_lib import theory as th

TOL_SE = 4.5


def assert_mc(values, expected, what=""):
    """Mean of ``values`` equals ``expected`` within TOL_SE standard errors."""
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / np.sqrt(values.size)
    diff = values.mean() - expected
    assert abs(diff) <= TOL_SE * se, f"{what}: mean {values.mean():.6g} vs theory {expected:.6g} (se {se:.3g})"


# --------------------------------------------------------------------------- Normal refit

MU0, SIGMA0, M, GENS, R = 2.0, 1.5, 20, 60, 20000
CHECK_T = (0, 1, 5, 19, 59)


@pytest.fixture(scope="module", params=[0, 1], ids=["mle", "unbiased"])
def normal_run(request):
    ddof = request.param
    run = cl.simulate(cl.Normal(MU0, SIGMA0), cl.NormalFit(ddof=ddof), n=M, generations=GENS,
                      replicates=R, seed=11 + ddof)
    return ddof, run


def test_log_variance_random_walk(normal_run):
    ddof, run = normal_run
    for t in CHECK_T:
        logv = np.log(run.models[t].var)
        mean, var = th.normal_log_var(t + 1, M, ddof, SIGMA0)
        # An off-by-one in fits shifts the mean by |drift| (0.05-0.1 here), > 10 SE.
        assert_mc(logv, mean, f"ln var, ddof={ddof}, t={t}")
        # Variance of ln var: SE of a sample variance ~ sqrt(2/R) var (near-normal values).
        assert abs(logv.var(ddof=1) - var) <= TOL_SE * np.sqrt(2.0 / R) * var * 1.2


def test_expected_std_and_mle_variance(normal_run):
    ddof, run = normal_run
    for t in CHECK_T:
        assert_mc(run.models[t].std, th.normal_expected_std(t + 1, M, ddof, SIGMA0), f"std t={t}")
        if ddof == 0 or t <= 5:  # E[var] under ddof=1 has a huge variance at large t
            assert_mc(run.models[t].var, th.normal_expected_var(t + 1, M, ddof, SIGMA0), f"var t={t}")


def test_mean_random_walk_and_w2(normal_run):
    ddof, run = normal_run
    for t in CHECK_T:
        m = run.models[t]
        assert_mc((m.mean - MU0) ** 2, th.normal_mean_var(t + 1, M, ddof, SIGMA0), f"Var(mu) t={t}")
        w2 = (m.mean - MU0) ** 2 + (m.std - SIGMA0) ** 2
        assert_mc(w2, th.normal_expected_w2sq(t + 1, M, ddof, SIGMA0), f"W2^2 t={t}")


def test_fits_zero_is_the_world_and_arrays_broadcast():
    assert th.normal_expected_var(0, 10, 0, 2.0) == 4.0
    assert th.normal_mean_var(0, 10, 1) == 0.0
    assert th.normal_expected_w2sq(0, 10, 1) == 0.0
    ks = np.arange(5)
    np.testing.assert_allclose(th.normal_expected_var(ks, 10, 0), 0.9**ks)
    assert isinstance(th.normal_expected_var(3, 10), float)
    assert th.normal_expected_var(ks, 10).shape == (5,)


def test_unbiased_variance_is_a_martingale_and_w2_diverges():
    assert th.normal_expected_var(10_000, 50, ddof=1) == 1.0
    w = th.normal_expected_w2sq(np.array([10, 100, 1000, 10_000, 100_000]), 100, ddof=1)
    assert np.all(np.diff(w) > 0) and w[-1] > 900  # ~ fits/M + 2: unbounded
    # short horizon: 3/2 fits/M
    assert th.normal_expected_w2sq(5, 10_000, ddof=1) == pytest.approx(1.5 * 5 / 10_000, rel=1e-3)
    # MLE: bounded by and tending to 2 sigma0^2
    w0 = th.normal_expected_w2sq(np.array([10, 1000, 100_000]), 100, ddof=0, sigma0=2.0)
    assert np.all(w0 <= 8.0 + 1e-12) and w0[-1] == pytest.approx(8.0, rel=1e-6)


def test_drift_and_collapse_time_scale_with_M():
    for Mx in (100, 1000, 10_000):
        assert th.normal_log_var_drift(Mx, 0) == pytest.approx(-2 / Mx, rel=2e-2)
        assert th.normal_log_var_drift(Mx, 1) == pytest.approx(-1 / (Mx - 1), rel=2e-2)
        assert th.normal_collapse_time(Mx, 0) == pytest.approx(Mx / 2, rel=2e-2)
        assert th.normal_collapse_time(Mx, 1) == pytest.approx(Mx - 1, rel=2e-2)
    # exact drift = E[ln(chi2(M-1)/(M-ddof))], checked by quadrature
    for Mx, ddof in ((5, 0), (5, 1), (40, 0)):
        q = stats.chi2(Mx - 1).expect(lambda x: np.log(x / (Mx - ddof)))
        assert th.normal_log_var_drift(Mx, ddof) == pytest.approx(q, abs=1e-8)
    assert th.normal_collapse_time(100, 0, factor=np.e**2) == pytest.approx(2 * th.normal_collapse_time(100, 0))


def test_collapse_time_matches_median_in_simulation():
    Mx = 30
    tc = int(round(th.normal_collapse_time(Mx, 0, factor=np.e**2)))  # variance down by e^2
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(0), n=Mx, generations=tc - 1,
                      replicates=20000, seed=3, record_every=tc)
    logv = np.log(run.models[-1].var)
    mean, var = th.normal_log_var(tc, Mx, 0)
    assert_mc(logv, mean)
    assert mean == pytest.approx(-2.0, abs=abs(th.normal_log_var_drift(Mx, 0)))
    # the median of sigma^2 sits near exp(E ln sigma^2): within a few SE of the median
    se_median = np.sqrt(np.pi / 2) * np.sqrt(var) / np.sqrt(logv.size)
    assert abs(np.median(logv) - mean) <= TOL_SE * se_median + 0.02


def test_c4_against_gamma_and_simulation():
    for Mx in (2, 3, 10, 57):
        direct = np.sqrt(2 / (Mx - 1)) * special.gamma(Mx / 2) / special.gamma((Mx - 1) / 2)
        assert th.c4(Mx) == pytest.approx(direct, rel=1e-12)
    assert th.c4(10**7) == pytest.approx(1.0, abs=1e-7)
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(1), n=5, generations=0, replicates=40000, seed=4)
    assert_mc(run.models[0].std, th.c4(5))


# --------------------------------------------------------------------------- Wright-Fisher

def test_heterozygosity_decay_against_simulation():
    world = cl.Categorical([0.5, 0.3, 0.15, 0.05])
    n, reps = 30, 20000
    run = cl.simulate(world, cl.CategoricalFit(), n=n, generations=40, replicates=reps, seed=7)
    for t in (0, 3, 10, 40):
        assert_mc(run.models[t].heterozygosity,
                  th.wright_fisher_heterozygosity(t + 1, n, world.heterozygosity), f"H t={t}")


def test_fixation_and_loss_probabilities():
    q = np.array([0.6, 0.3, 0.1])
    run = cl.simulate(cl.Categorical(q), cl.CategoricalFit(), n=10, generations=300,
                      replicates=20000, seed=8, record_every=300)
    final = run.models[-1].probs
    assert np.all(final.max(axis=1) == 1.0)  # every replicate absorbed (expected time ~ 4n)
    for i in range(3):
        fixed = (final[:, i] == 1.0).astype(float)
        assert_mc(fixed, th.fixation_probability(q[i]), f"fixation of category {i}")
        assert_mc(1 - fixed, th.loss_probability(q[i]), f"loss of category {i}")
    np.testing.assert_allclose(th.loss_probability(q), 1 - q)


# --------------------------------------------------------------------------- tails and Zipf

def test_prob_absent_against_simulation():
    p, n = 0.01, 150
    run = cl.simulate(cl.Categorical([p, 1 - p]), cl.CategoricalFit(), n=n, generations=0,
                      replicates=40000, seed=9)
    absent = (run.models[0].probs[:, 0] == 0).astype(float)
    assert_mc(absent, th.prob_absent(p, n))
    assert th.prob_absent(0.001, 10_000) == pytest.approx(0.999**10_000, rel=1e-10)
    assert th.prob_absent(1.0, 0) == 1.0 and th.prob_absent(1.0, 5) == 0.0 and th.prob_absent(0.0, 5) == 1.0
    assert th.prob_absent([0.1, 0.2], 3).shape == (2,)


def test_expected_unseen_mass_against_simulation():
    probs = th.zipf_probs(200, 1.1)
    T = 300
    run = cl.simulate(cl.Categorical(probs), cl.CategoricalFit(), n=T, generations=0,
                      replicates=20000, seed=10)
    lost = ((run.models[0].probs == 0) * probs).sum(axis=1)
    assert_mc(lost, th.expected_unseen_mass(probs, T))


def test_zipf_cut_and_tail_mass():
    beta = 1.5
    k = th.zipf_cut_rank(1e6, beta)
    assert th.zipf_cut_rank(1e6 * 2**beta, beta) == pytest.approx(2 * k)
    assert 1e6 * k**-beta / special.zeta(beta) == pytest.approx(1.0)  # expected count one at the cut
    # infinite-vocabulary tail mass agrees with a long finite sum
    K = 2_000_000
    p = th.zipf_probs(K, 2.0)
    assert th.zipf_tail_mass(10, 2.0) == pytest.approx(p[10:].sum(), rel=1e-5)
    assert th.zipf_tail_mass(10, 2.0, K=K) == pytest.approx(p[10:].sum(), rel=1e-9)
    assert th.zipf_tail_mass(0, 1.0, K=50) == 1.0 and th.zipf_tail_mass(50, 1.0, K=50) == 0.0
    assert th.zipf_cut_rank(1e12, 1.0, K=100) == 100
    np.testing.assert_allclose(th.zipf_probs(5, 1.0), (1 / np.arange(1, 6)) / (1 / np.arange(1, 6)).sum())


# --------------------------------------------------------------------------- accumulate

@pytest.mark.parametrize("ddof", [0, 1])
def test_accumulate_mean_error_against_simulation(ddof):
    n, gens = 20, 15
    run = cl.simulate(cl.Normal(0.0, 2.0), cl.NormalFit(ddof), n=n, generations=gens,
                      scheme=cl.Accumulate(), replicates=20000, seed=12 + ddof)
    bound = th.accumulate_mean_bound(n, 2.0)
    for t in (0, 1, 4, 15):
        expected = th.accumulate_normal_mean_error(t + 1, n, ddof, 2.0)
        assert expected < bound
        assert_mc(run.models[t].mean ** 2, expected, f"accumulate t={t}")
    # replace is far worse by generation 15 (linear vs bounded)
    assert th.normal_mean_var(16, n, 1, 2.0) > 5 * bound


def test_accumulate_with_known_variance_is_the_basel_sum():
    # ddof=1 on a large pool barely shrinks the variance: close to sum 1/i^2
    k = np.arange(1, 50)
    exact = th.accumulate_normal_mean_error(k, 10_000, 1)
    basel = np.cumsum(1 / k**2) / 10_000
    np.testing.assert_allclose(exact, basel, rtol=1e-3)


@pytest.mark.parametrize("scheme", ["replace", "accumulate"])
def test_ols_reused_design_against_simulation(scheme):
    rng = np.random.default_rng(13)
    T, d, noise, reps, iters = 12, 3, 0.7, 20000, 8
    X = rng.standard_normal((T, d))
    xtx_inv = np.linalg.inv(X.T @ X)
    base = noise**2 * np.trace(xtx_inv)
    proj = xtx_inv @ X.T  # (d, T)
    w_star = np.array([1.0, -2.0, 0.5])
    w = np.tile(w_star, (reps, 1))
    label_sum = np.zeros((reps, T))
    errs = []
    for i in range(1, iters + 1):
        y = w @ X.T + noise * rng.standard_normal((reps, T))  # labels from the current model
        if scheme == "replace":
            w = y @ proj.T
        else:  # OLS on i stacked copies of X = OLS on the mean label
            label_sum += y
            w = (label_sum / i) @ proj.T
        errs.append(((w - w_star) ** 2).sum(axis=1))
    for i in (1, 2, 8):
        assert_mc(errs[i - 1], th.ols_reused_design_error(i, base, scheme), f"{scheme} i={i}")
    assert th.ols_reused_design_error(10**6, 1.0, "accumulate") < np.pi**2 / 6


# --------------------------------------------------------------------------- anchor

@pytest.mark.parametrize("ddof", [0, 1])
def test_anchored_moments_against_simulation(ddof):
    world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    n, frac, gens = 50, 0.2, 40
    run = cl.simulate(world, cl.NormalFit(ddof), n=n, generations=gens, scheme=cl.Anchor(frac),
                      replicates=20000, seed=14 + ddof)
    for t in (0, 1, 3, 10, 40):
        ev, ed = th.anchored_normal_moments(t + 1, n, frac, world.mean, world.var, ddof)
        assert_mc(run.models[t].var, ev, f"anchored var t={t}")
        assert_mc((run.models[t].mean - world.mean) ** 2, ed, f"anchored offset t={t}")
    fv, fd = th.anchored_normal_fixed_point(n, frac, world.var, ddof)
    ev, ed = th.anchored_normal_moments(2000, n, frac, world.mean, world.var, ddof)
    assert (ev, ed) == (pytest.approx(fv, rel=1e-9), pytest.approx(fd, rel=1e-9))


def test_anchored_fixed_point_limits():
    v = 3.0
    # MLE, large M: variance v (1 - 1/(M a (2 - a))), mean offset v / (M a (2 - a))
    fv, fd = th.anchored_normal_fixed_point(1000, 0.1, v, 0)
    assert fv == pytest.approx(v * (1 - 1 / (1000 * 0.1 * 1.9)), rel=1e-3)
    assert fd == pytest.approx(v / (1000 * 0.1 * 1.9), rel=1e-2)
    assert th.anchored_normal_fixed_point(100, 1.0, v, 1) == (pytest.approx(v), pytest.approx(v / 100))
    ev, _ = th.anchored_normal_moments(np.arange(4), 100, 0.0, 0.0, v, 0)  # no anchor = plain refit
    np.testing.assert_allclose(ev, th.normal_expected_var(np.arange(4), 100, 0, np.sqrt(v)))


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("call, exc, word", [
    (lambda: th.normal_expected_var(3, 1), ValueError, "M"),
    (lambda: th.normal_expected_var(-1, 10), ValueError, "fits"),
    (lambda: th.normal_expected_var(1.5, 10), TypeError, "fits"),
    (lambda: th.normal_expected_var(True, 10), TypeError, "fits"),
    (lambda: th.normal_expected_var(3, 10, ddof=2), ValueError, "ddof"),
    (lambda: th.normal_expected_var(3, 10, sigma0=0.0), ValueError, "sigma0"),
    (lambda: th.normal_expected_std(3, 10.0), TypeError, "M"),
    (lambda: th.normal_collapse_time(10, factor=1.0), ValueError, "factor"),
    (lambda: th.prob_absent(1.2, 3), ValueError, "p"),
    (lambda: th.prob_absent(np.nan, 3), ValueError, "p"),
    (lambda: th.prob_absent(0.1, -3), ValueError, "n"),
    (lambda: th.fixation_probability(-0.1), ValueError, "q"),
    (lambda: th.wright_fisher_heterozygosity(3, 10, 1.5), ValueError, "h0"),
    (lambda: th.anchored_normal_moments(3, 10, 1.5), ValueError, "fraction"),
    (lambda: th.anchored_normal_fixed_point(10, 0.0), ValueError, "fraction"),
    (lambda: th.anchored_normal_moments(3, 10, 0.5, world_var=0.0), ValueError, "world_var"),
    (lambda: th.ols_reused_design_error(3, 1.0, "anchor"), ValueError, "scheme"),
    (lambda: th.zipf_cut_rank(100, 1.0), ValueError, "beta"),
    (lambda: th.zipf_probs(0, 1.0), ValueError, "K"),
    (lambda: th.expected_unseen_mass([0.5, 0.6], 3), ValueError, "probs"),
])
def test_bad_input_names_the_parameter(call, exc, word):
    with pytest.raises(exc, match=word):
        call()
