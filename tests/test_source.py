"""The source chapter's procedure (collapse_lib.studies.source), run exactly, and its analysis.

Statistical checks run the procedure over many seeds and compare with the exact
expectations of :func:`expected_moments`; tolerances are 5 standard errors of the
Monte Carlo mean, the SE computed from the runs themselves (`tol = 5 * se`), so a
correct implementation fails with probability below 1e-6 per check.
"""

import numpy as np
import pytest
from scipy import special

from collapse_lib import source as src


def test_same_seed_gives_bit_identical_records_and_different_seeds_differ():
    a = src.source_experiment(seed=0)
    b = src.source_experiment(seed=0)
    c = src.source_experiment(seed=1)
    for key in ("data_tail", "mean", "std", "model_tail"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    assert not np.array_equal(a.mean, c.mean)
    anchored = src.source_experiment(anchor=0.1, seed=0)
    np.testing.assert_array_equal(anchored.std, src.source_experiment(anchor=0.1, seed=0).std)


def test_follows_the_stated_draw_order_with_one_generator():
    # Re-implement the stated procedure independently, draw by draw, and compare bitwise.
    n, gens, a = 400, 5, 0.25
    rng = np.random.default_rng(7)

    def real(k):
        core = int(0.97 * k)
        return np.concatenate([rng.normal(0.0, 1.0, core), rng.normal(8.0, 1.0, k - core)])

    data, tails, stds = real(n), [], []
    for _ in range(gens):
        tails.append(np.mean(data > 5.0))
        mu, sd = np.mean(data), np.std(data)
        stds.append(sd)
        gen = rng.normal(mu, sd, n)
        keep = int(n * (1 - a))
        data = np.concatenate([gen[:keep], real(n - keep)])
    run = src.source_experiment(n=n, generations=gens, anchor=a, seed=7)
    np.testing.assert_array_equal(run.data_tail, tails)
    np.testing.assert_array_equal(run.std, stds)


def test_first_record_is_the_real_samples_tail_fraction():
    for n in (5000, 333):
        run = src.source_experiment(n=n, seed=3)
        x = src.source_real_sample(n, np.random.default_rng(3))
        assert run.data_tail[0] == np.mean(x > 5.0)
        # and it is fitted by np.mean / np.std (ddof=0) on that same sample
        assert run.mean[0] == np.mean(x)
        assert run.std[0] == np.std(x)
        assert run.model_tail[0] == pytest.approx(special.ndtr(-(5.0 - np.mean(x)) / np.std(x)), rel=1e-12)


def test_real_sample_has_the_sources_fixed_counts():
    x = src.source_real_sample(1000, np.random.default_rng(0))
    assert x.shape == (1000,)
    # 970 core points first, then 30 tail points: the tail block sits far above the core
    assert np.all(x[:970] < 6.0) and np.mean(x[970:]) > 6.5
    assert src.source_real_sample(0, np.random.default_rng(0)).shape == (0,)


@pytest.mark.parametrize("n,anchor,n_syn,n_real", [
    (5000, 0.1, 4500, 500), (1000, 0.25, 750, 250), (1000, 0.33, 669, 331),  # 1000 * 0.67 is 669.99... in floating point
    (7, 0.5, 3, 4), (100, 0.0, 100, 0), (100, 1.0, 0, 100),
])
def test_anchor_split_sizes(n, anchor, n_syn, n_real):
    run = src.source_experiment(n=n, generations=2, anchor=anchor, seed=0)
    assert (run.n_synthetic, run.n_real) == (n_syn, n_real)
    assert run.n_synthetic == int(n * (1 - anchor))


def test_no_anchor_has_no_real_points_and_anchor_zero_is_the_same_run():
    plain = src.source_experiment(n=300, generations=4, seed=2)
    zero = src.source_experiment(n=300, generations=4, anchor=0.0, seed=2)
    assert (plain.n_synthetic, plain.n_real) == (300, 0)
    np.testing.assert_array_equal(plain.std, zero.std)


def test_full_anchor_trains_on_real_data_only():
    run = src.source_experiment(n=1000, generations=4, anchor=1.0, seed=4)
    # every generation is a fresh stratified real sample: exactly 30 tail points, nearly all above 5
    assert np.all(run.data_tail >= 0.025) and np.all(run.data_tail <= 0.030)


def test_rows_match_arrays():
    run = src.source_experiment(generations=3)
    rows = run.rows()
    assert [r["generation"] for r in rows] == [0, 1, 2]
    assert rows[2]["std"] == run.std[2]


def test_claimed_numbers_are_the_quoted_lists():
    assert len(src.SOURCE_CLAIMED_NO_ANCHOR) == len(src.SOURCE_CLAIMED_ANCHOR_10) == 8
    assert src.SOURCE_CLAIMED_NO_ANCHOR[:3] == (0.030, 0.001, 0.000)
    assert src.SOURCE_CLAIMED_ANCHOR_10[1] == 0.012


def test_moment_matched_tail_is_exact():
    mm = src.moment_matched_tail(5.0)
    assert mm["mean"] == pytest.approx(0.24)
    assert mm["var"] == pytest.approx(0.97 * 1 + 0.03 * 65 - 0.24**2)
    assert mm["model_tail"] == pytest.approx(special.ndtr(-(5 - 0.24) / np.sqrt(2.8624)), rel=1e-12)
    assert mm["world_tail"] == pytest.approx(0.97 * special.ndtr(-5) + 0.03 * special.ndtr(3), rel=1e-12)
    # one step of functional error removes most of the tail
    assert mm["model_tail"] < mm["world_tail"] / 10


def _many_runs(n, gens, anchor, seeds):
    runs = [src.source_experiment(n=n, generations=gens, anchor=anchor, seed=s) for s in seeds]
    return np.array([r.mean for r in runs]), np.array([r.std for r in runs]) ** 2


@pytest.mark.parametrize("anchor", [None, 0.3])
def test_expected_moments_match_the_procedure_over_many_seeds(anchor):
    n, gens, reps = 40, 6, 4000
    means, variances = _many_runs(n, gens, anchor, range(reps))
    exp = src.expected_moments(n=n, generations=gens, anchor=anchor)
    se_var = variances.std(axis=0, ddof=1) / np.sqrt(reps)
    se_mean = means.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(variances.mean(axis=0) - exp["var"]) < 5 * se_var)  # tol = 5 * se
    assert np.all(np.abs(means.mean(axis=0) - exp["mean"]) < 5 * se_mean)
    # the variance of the fitted mean across seeds: compare on the log scale, relative SE
    # of a sample variance is about sqrt(2/(reps-1)) for a near-normal statistic
    rel = np.abs(means.var(axis=0, ddof=1) / exp["var_of_mean"] - 1)
    assert np.all(rel < 5 * np.sqrt(2 / (reps - 1)) * 1.5)  # 1.5: allowance for excess kurtosis


def test_unanchored_expected_variance_shrinks_by_the_mle_factor():
    n = 5000
    exp = src.expected_moments(n=n, generations=8)
    np.testing.assert_allclose(exp["var"] / exp["var"][0], ((n - 1) / n) ** np.arange(8), rtol=1e-12)
    # generation 0: E[np.var] of the stratified real sample
    assert exp["var"][0] == pytest.approx((1 - 1 / n) * 1 + (0.97 * 0.24**2 + 0.03 * 7.76**2))


def test_anchored_fixed_point_is_the_limit_of_the_expected_trajectory():
    for n, a, strat in ((5000, 0.1, True), (200, 0.25, False), (50, 0.5, True)):
        fp = src.anchored_fixed_point(n=n, anchor=a, stratified=strat)
        traj = src.expected_moments(n=n, generations=400, anchor=a, stratified=strat)
        assert fp["var"] == pytest.approx(traj["var"][-1], rel=1e-10)
        assert fp["mean"] == pytest.approx(traj["mean"][-1], rel=1e-10)


def test_anchored_fixed_point_matches_the_simple_formula_closely():
    # s2 = c((1-a) s2 + a v) with c = (n-1)/n, i.e. s2 = c a v / (1 - c (1 - a)); the exact
    # version differs by O(1/(a n)) relative terms: chiefly the spread of the fitted mean
    # between the synthetic and the real block, which the simple formula leaves out.
    n, a = 5000, 0.1
    v, c = 2.8624, (n - 1) / n
    simple = c * a * v / (1 - c * (1 - a))
    fp = src.anchored_fixed_point(n=n, anchor=a)
    assert fp["var"] == pytest.approx(simple, rel=2 / (a * n))
    assert fp["var"] != pytest.approx(simple, rel=1e-6)  # the exact terms are really there
    assert fp["data_tail"] == pytest.approx(0.9 * fp["model_tail"] + 0.1 * fp["real_tail"], rel=1e-12)
    assert 0 < fp["real_share"] < 1
    assert fp["real_share"] == pytest.approx(0.1 * fp["real_tail"] / fp["data_tail"], rel=1e-12)


def test_anchored_fixed_point_matches_simulation():
    # Long anchored runs settle; average the last generations' fitted variance over seeds.
    n, a, reps = 60, 0.2, 3000
    _, variances = _many_runs(n, 25, a, range(reps))
    late = variances[:, -1]
    fp = src.anchored_fixed_point(n=n, anchor=a)
    assert abs(late.mean() - fp["var"]) < 5 * late.std(ddof=1) / np.sqrt(reps)  # tol = 5 * se


@pytest.mark.parametrize("kwargs,exc,word", [
    ({"n": 0}, ValueError, "n"), ({"n": 2.5}, TypeError, "n"), ({"generations": 0}, ValueError, "generations"),
    ({"anchor": 1.5}, ValueError, "anchor"), ({"anchor": -0.1}, ValueError, "anchor"),
    ({"anchor": float("nan")}, ValueError, "anchor"), ({"seed": -1}, ValueError, "seed"),
    ({"threshold": float("inf")}, ValueError, "threshold"), ({"anchor": "0.1"}, TypeError, "anchor"),
])
def test_bad_input_is_rejected_with_the_parameter_named(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        src.source_experiment(**kwargs)


def test_fixed_point_needs_a_real_point():
    with pytest.raises(ValueError, match="anchor"):
        src.anchored_fixed_point(n=5, anchor=1e-17)  # int(5 * (1 - 1e-17)) == 5: no real point
    with pytest.raises(ValueError, match="anchor"):
        src.anchored_fixed_point(anchor=0.0)


def test_tiny_n_is_legal_and_finite():
    run = src.source_experiment(n=1, generations=5, seed=0)
    assert np.all(run.std == 0) and np.all(np.isfinite(run.model_tail))


def test_print_probability_sums_binomial_counts_that_round_to_the_value():
    from scipy import stats
    n, p = 5000, 0.00245
    # 0.000 is printed for counts 0, 1, 2 (2/5000 = 0.0004); 0.001 for counts 3..7
    assert src.print_probability(0.0, n, p) == pytest.approx(stats.binom.cdf(2, n, p), rel=1e-12)
    assert src.print_probability(0.001, n, p) == pytest.approx(stats.binom.cdf(7, n, p) - stats.binom.cdf(2, n, p), rel=1e-12)
    total = sum(src.print_probability(v / 1000, n, p) for v in range(0, 1001))
    assert total == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(ValueError, match="tail"):
        src.print_probability(0.0, n, 1.5)


def test_implied_model_inverts_the_anchored_bookkeeping():
    fp = src.anchored_fixed_point(n=5000, anchor=0.1, stratified=False)
    back = src.implied_model(fp["data_tail"], n=5000, anchor=0.1)
    assert back["model_tail"] == pytest.approx(fp["model_tail"], rel=1e-9)
    assert back["std"] == pytest.approx(fp["std"], rel=1e-6)
    assert src.implied_model(0.0, anchor=0.1)["std"] is None  # below what the real block alone gives
    with pytest.raises(ValueError, match="anchor"):
        src.implied_model(0.01, anchor=1.0)


def test_procedure_replicates_stacks_seeded_runs():
    reps = src.procedure_replicates(n=200, generations=3, anchor=0.1, replicates=4, first_seed=5)
    assert reps["data_tail"].shape == (4, 3)
    np.testing.assert_array_equal(reps["std"][2], src.source_experiment(n=200, generations=3, anchor=0.1, seed=7).std)
    with pytest.raises(ValueError, match="replicates"):
        src.procedure_replicates(replicates=0)
