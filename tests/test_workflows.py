"""Tests of the workflow studies: comparisons, sweeps, one-shot distillation, provenance, fallible verifiers.

They live in collapse_lib.studies (scheme_comparison, sweeps, distillation, provenance,
fallible_verifiers, and the tail metrics of tails) and are called here as chapters 7-9 call
them, through their top-level names ``cl.<name>``.

Statistical checks use fixed seeds and tolerances of 4 or 5 standard errors of the
estimate, derived in each test from the replicates themselves or from a closed form.
"""

import numpy as np
import pytest

import collapse_lib as cl

WORLD = dict(weights=[0.97, 0.03], means=[0.0, 8.0], stds=[1.0, 1.0])


def world():
    return cl.NormalMixture(**WORLD)


# ----------------------------------------------------------------------------- metrics

def test_tail_ratio_is_one_for_the_world_and_zero_without_tail():
    w = world()
    ratio = cl.tail_ratio(w, 5.0)
    assert float(ratio(w)) == pytest.approx(1.0, rel=1e-12)
    core = cl.Normal(0.0, 1.0)
    assert float(ratio(core)) == pytest.approx(cl.Normal(0.0, 1.0).tail_mass(5.0) / w.tail_mass(5.0))
    lost = cl.tail_lost(w, 5.0, below=0.1)
    assert float(lost(core)) == 1.0 and float(lost(w)) == 0.0


def test_metric_arguments_are_validated():
    with pytest.raises(ValueError, match="below"):
        cl.tail_lost(world(), 5.0, below=1.5)
    with pytest.raises(ValueError, match="below"):
        cl.tail_lost(world(), 5.0, below=0.0)
    with pytest.raises(TypeError, match="threshold"):
        cl.tail_ratio(world(), "5")
    with pytest.raises(ValueError, match="tail mass"):
        cl.tail_ratio(cl.Normal._from_params(0.0, 0.0), 5.0)


# ---------------------------------------------------------------------- scheme comparison

def test_compare_schemes_shares_generation_zero_and_is_deterministic():
    schemes = {"replace": cl.Replace(), "fresh": cl.Anchor(0.2), "accumulate": cl.Accumulate()}
    a = cl.compare_schemes(world(), cl.NormalFit(), schemes, n=200, generations=3, replicates=50, seed=3)
    b = cl.compare_schemes(world(), cl.NormalFit(), schemes, n=200, generations=3, replicates=50, seed=3)
    assert list(a) == list(schemes)
    m0 = [run.models[0].mean for run in a.values()]
    np.testing.assert_array_equal(m0[0], m0[1])
    np.testing.assert_array_equal(m0[0], m0[2])
    for name in schemes:
        np.testing.assert_array_equal(a[name].models[-1].var, b[name].models[-1].var)
    with pytest.raises(TypeError, match="schemes"):
        cl.compare_schemes(world(), cl.NormalFit(), {}, n=10, generations=1)


def test_sweep_shapes_rows_and_endpoints():
    metric = lambda m: m.mean  # noqa: E731
    sweep = cl.sweep_fraction(cl.Normal(0.0, 1.0), cl.NormalFit(), {"fresh": cl.Anchor}, [0.0, 1.0],
                              metric, n=50, generations=4, replicates=30, seed=1)
    assert sweep.values.shape == (1, 2, 30)
    assert sweep.mean.shape == sweep.se.shape == (1, 2)
    rows = sweep.rows()
    assert len(rows) == 2 and rows[1]["scheme"] == "fresh" and rows[1]["fraction"] == 1.0
    mean, se = sweep.get("fresh")
    assert mean.shape == se.shape == (2,)
    # fraction 1: the last model is fitted on 50 fresh real points: Var(mean) = 1/50.
    v = sweep.values[0, 1]
    se_var = np.sqrt(2.0 / 29) * (1 / 50)  # SE of a sample variance of 30 normal values
    assert abs(v.var(ddof=1) - 1 / 50) < 5 * se_var
    with pytest.raises(ValueError, match="fractions"):
        cl.sweep_fraction(cl.Normal(0.0, 1.0), cl.NormalFit(), {"fresh": cl.Anchor}, [1.2],
                          metric, n=10, generations=1)
    with pytest.raises(TypeError, match="metric"):
        cl.sweep_fraction(cl.Normal(0.0, 1.0), cl.NormalFit(), {"fresh": cl.Anchor}, [0.5],
                          None, n=10, generations=1)


def test_error_trajectory_accumulate_stays_below_pi2_over_6_and_replace_grows():
    # Gaussian mean, M samples per generation: generation 0 error is sigma^2 / M. Under
    # accumulation the error of generation t is about (sigma^2 / M) sum_{k<=t+1} 1/k^2 <
    # (pi^2 / 6) sigma^2 / M; under replacement about (t + 1) sigma^2 / M (Gerstgrasser et al.).
    m, g, r = 40, 8, 6000
    runs = cl.compare_schemes(cl.Normal(0.0, 1.0), cl.NormalFit(ddof=1),
                              {"replace": cl.Replace(), "accumulate": cl.Accumulate()},
                              n=m, generations=g, replicates=r, seed=11)
    acc = cl.error_trajectory(runs["accumulate"], "mean", 0.0)
    rep = cl.error_trajectory(runs["replace"], "mean", 0.0)
    base = 1.0 / m
    assert abs(acc["mse"][0] - base) < 5 * acc["se"][0]
    expected_acc = base * np.cumsum(1.0 / np.arange(1, g + 2) ** 2)
    assert np.all(np.abs(acc["mse"] - expected_acc) < 5 * acc["se"])
    assert np.all(acc["mse"] < np.pi**2 / 6 * base + 5 * acc["se"])
    assert abs(rep["mse"][g] - (g + 1) * base) < 5 * rep["se"][g]


# ----------------------------------------------------------------------------- distillation

def test_distill_once_mean_error_matches_closed_form():
    # Student mean = pooled mean of n_syn teacher draws and n_real real draws, teacher fitted
    # (unbiased) on T real draws: E[(mu_s - mu)^2] = sigma^2 (1/N + (n_syn/N)^2 / T), N = n_syn + n_real.
    r, t_n, n_real, n_syn = 20000, 400, 20, 60
    d = cl.distill_once(cl.Normal(0.0, 2.0), cl.NormalFit(ddof=1), n_real=n_real, n_synthetic=n_syn,
                        teacher_n=t_n, replicates=r, seed=5)
    assert d.student.mean.shape == (r,) and d.teacher.mean.shape == (r,)
    assert d.synthetic_share == pytest.approx(0.75)
    n = n_real + n_syn
    expected = 4.0 * (1.0 / n + (n_syn / n) ** 2 / t_n)
    sq = d.student.mean ** 2
    assert abs(sq.mean() - expected) < 5 * sq.std(ddof=1) / np.sqrt(r)


def test_distill_once_given_teacher_and_determinism():
    teacher = cl.Normal(3.0, 1.0)  # a biased teacher: the student inherits the bias in proportion
    d = cl.distill_once(cl.Normal(0.0, 1.0), cl.NormalFit(), n_real=100, n_synthetic=300, teacher=teacher,
                        replicates=4000, seed=2)
    se = np.sqrt(1.0 / 400 / 4000)
    assert abs(d.student.mean.mean() - 3.0 * 0.75) < 5 * se
    again = cl.distill_once(cl.Normal(0.0, 1.0), cl.NormalFit(), n_real=100, n_synthetic=300,
                            teacher=teacher, replicates=4000, seed=2)
    np.testing.assert_array_equal(d.student.mean, again.student.mean)
    assert d.teacher_n is None


def test_distill_once_validates():
    w = cl.Normal(0.0, 1.0)
    with pytest.raises(ValueError, match="exactly one"):
        cl.distill_once(w, cl.NormalFit(), n_real=10, n_synthetic=10)
    with pytest.raises(ValueError, match="exactly one"):
        cl.distill_once(w, cl.NormalFit(), n_real=10, n_synthetic=10, teacher=w, teacher_n=10)
    with pytest.raises(ValueError, match="n_real"):
        cl.distill_once(w, cl.NormalFit(), n_real=-1, n_synthetic=10, teacher_n=10)
    with pytest.raises(ValueError, match=r"n_real \+ n_synthetic"):
        cl.distill_once(w, cl.NormalFit(), n_real=0, n_synthetic=0, teacher_n=10)
    with pytest.raises(ValueError, match="teacher must be"):
        cl.distill_once(w, cl.NormalFit(), n_real=5, n_synthetic=5, teacher=cl.Normal([0.0, 1.0], [1.0, 1.0]),
                        replicates=3)
    with pytest.raises(ValueError, match="seed"):
        cl.distill_once(w, cl.NormalFit(), n_real=5, n_synthetic=5, teacher_n=10, seed=-1)


# ----------------------------------------------------------------------------- provenance

def _labelled(scheme, t, n, r=3):
    """Call next_data with synthetic samples = 1 and real samples = 0: the mean is the synthetic share."""
    state = {}
    scheme.initial(np.zeros((r, n)), state)
    return scheme.next_data(t, n, lambda k: np.ones((r, k)), lambda k: np.zeros((r, k)), state)


def test_provenance_cap_keeps_all_real_and_caps_synthetic():
    cap = cl.ProvenanceCap([0.1, 0.5, 0.9], cap=0.2)
    # share 0.1 < cap: nothing dropped
    d1 = _labelled(cap, 1, 1000)
    assert d1.shape == (3, 1000) and d1.mean() == pytest.approx(0.1)
    # share 0.9: 100 real, at most 25 synthetic (25 / 125 = 0.2)
    d3 = _labelled(cap, 3, 1000)
    assert d3.shape == (3, 125) and d3.mean() == pytest.approx(0.2)
    # never above the cap, whatever the share
    for share in np.linspace(0.0, 0.99, 12):
        d = _labelled(cl.ProvenanceCap(lambda t, s=share: s, cap=0.3), 1, 500)
        assert d.mean() <= 0.3 + 1e-12
        assert (d == 0).sum(axis=1)[0] == 500 - int(np.floor(500 * share + 0.5))


def test_provenance_cap_with_imperfect_labels_lets_synthetic_in():
    d = _labelled(cl.ProvenanceCap([0.9], cap=0.0, detect=0.8), 1, 1000)
    # 900 synthetic, 20% mislabelled as real: 180 synthetic + 80 real labelled real; cap 0 keeps only those
    assert d.shape == (3, 260) and d.sum(axis=1)[0] == 180
    with pytest.raises(ValueError, match="detect"):
        cl.ProvenanceCap([0.5], cap=0.1, detect=0.3)
    with pytest.raises(ValueError, match="cap"):
        cl.ProvenanceCap([0.5], cap=1.0)


def test_provenance_cap_all_synthetic_keeps_previous_data_and_runs_in_simulate():
    d = _labelled(cl.ProvenanceCap([1.0], cap=0.5), 1, 100)
    assert d.shape == (3, 100) and d.sum() == 0  # generation-0 data kept
    run = cl.simulate(world(), cl.NormalFit(), n=400, generations=5,
                      scheme=cl.ProvenanceCap(cl.SyntheticShare.linear(0.2, 0.95, 5), cap=0.1),
                      replicates=20, seed=0, data_metrics={"size": lambda x: np.full(x.shape[0], x.shape[1])})
    sizes = run.data_metrics["size"][:, 0]
    assert sizes[0] == 400 and sizes[-1] == 20 + 2  # 20 real, floor(0.1 * 20 / 0.9) = 2 synthetic
    with pytest.raises(ValueError, match="schedule"):
        cl.simulate(world(), cl.NormalFit(), n=10, generations=5,
                    scheme=cl.ProvenanceCap([0.1, 0.2], cap=0.1))


def test_distill_once_from_self_adds_error_never_information():
    # Teacher fitted on the student's own n_r real points (unbiased), n_s of its samples added:
    # mu_s - mu = (mu_hat - mu) + (n_s / N)(ybar - mu_hat), so E[(mu_s - mu)^2] = sigma^2 (1/n_r + n_s / N^2).
    r, n_r, n_s = 20000, 30, 90
    d = cl.distill_once(cl.Normal(0.0, 1.0), cl.NormalFit(ddof=1), n_real=n_r, n_synthetic=n_s,
                        teacher="self", replicates=r, seed=8)
    n = n_r + n_s
    expected = 1.0 / n_r + n_s / n**2
    sq = d.student.mean ** 2
    assert abs(sq.mean() - expected) < 5 * sq.std(ddof=1) / np.sqrt(r)
    with pytest.raises(ValueError, match="self"):
        cl.distill_once(cl.Normal(0.0, 1.0), cl.NormalFit(), n_real=5, n_synthetic=5, teacher="other")


# ----------------------------------------------------------------------------- filters, composed

def test_filter_blend_counts_and_parts():
    blend = cl.FilterBlend([(cl.NoFilter(), 0.3), (cl.QualityFilter(0.5), 0.7)])
    assert blend.counts(10) == [3, 7] and blend.counts(0) == [0, 0] and sum(blend.counts(333)) == 333
    model = cl.Normal(np.zeros(4000), np.ones(4000))
    x = blend.draw(model, 100, np.random.default_rng(0), None)
    assert x.shape == (4000, 100)
    # The quality part keeps about the central half (|z| < 0.674: E|z| = 0.333 there); the
    # unfiltered part is a plain normal sample (E|z| = sqrt(2 / pi), sd of |z| = sqrt(1 - 2 / pi)).
    raw = np.abs(x[:, :30])
    assert abs(raw.mean() - np.sqrt(2 / np.pi)) < 5 * np.sqrt(1 - 2 / np.pi) / np.sqrt(raw.size)
    assert np.abs(x[:, 30:]).mean() < 0.4
    assert np.abs(x[:, 30:]).max() < 1.2
    with pytest.raises(ValueError, match="sum to 1"):
        cl.FilterBlend([(cl.NoFilter(), 0.3)])
    with pytest.raises(TypeError, match="pairs"):
        cl.FilterBlend([cl.NoFilter()])


def test_fallible_verifier_endpoints():
    w = world()
    model = cl.NormalMixture._from_params(np.tile([0.99, 0.01], (2000, 1)), np.tile([0.0, 8.0], (2000, 1)),
                                          np.ones((2000, 2)))
    rng = np.random.default_rng(1)
    perfect = cl.fallible_verifier(1.0).draw(model, 200, rng, w)
    typical = cl.fallible_verifier(0.0).draw(model, 200, rng, w)
    # A quality filter keeping 90% of a 1%-tail model cuts the bump entirely.
    assert (typical > 5).mean() == 0.0
    # The perfect verifier (pool 4) restores the tail toward the world's 3% (capped at 4 x 1%).
    p = (perfect > 5).mean()
    assert abs(p - w.tail_mass(5.0)) < 5 * np.sqrt(0.03 / perfect.size) + 0.003


def test_find_crossing_and_bootstrap():
    assert cl.find_crossing([0, 1, 2], [1.0, 0.5, -1.0], 0.0) == pytest.approx(4 / 3)
    assert cl.find_crossing([0, 1], [1.0, 2.0], 0.0) is None
    assert cl.find_crossing([0, 1], [0.0, 2.0], 0.0) == 0.0
    with pytest.raises(ValueError, match="increasing"):
        cl.find_crossing([1, 0], [0.0, 1.0], 0.5)
    rng = np.random.default_rng(3)
    x = np.linspace(0, 1, 6)
    # curve mean 1 - 2x, crossing the baseline 0 at x = 0.5
    values = (1 - 2 * x)[:, None] + rng.normal(0, 0.2, (6, 400))
    out = cl.bootstrap_crossing(x, values, rng.normal(0, 0.2, 400), n_boot=300, seed=1)
    assert out["lo"] <= 0.5 <= out["hi"] and out["crossed"] == 1.0
    assert abs(out["crossing"] - 0.5) < 0.05


def test_distill_once_pairs_real_data_across_teachers_and_budgets():
    w = cl.Normal(0.0, 1.0)
    base = cl.distill_once(w, cl.NormalFit(), n_real=40, n_synthetic=0, teacher="self", replicates=50, seed=4)
    other = cl.distill_once(w, cl.NormalFit(), n_real=40, n_synthetic=0, teacher=cl.Normal(5.0, 1.0),
                            replicates=50, seed=4)
    np.testing.assert_array_equal(base.student.mean, other.student.mean)
    # the self-teacher is the real-only fit itself
    np.testing.assert_array_equal(base.teacher.mean, base.student.mean)


def test_provenance_cap_archive_keeps_every_real_sample():
    scheme = cl.ProvenanceCap([0.5, 0.8], cap=0.2, archive=True)
    state = {}
    r = 2
    scheme.initial(np.zeros((r, 100)), state)
    ones, zeros = (lambda k: np.ones((r, k))), (lambda k: np.zeros((r, k)))
    d1 = scheme.next_data(1, 100, ones, zeros, state)
    # archive 100 + 50 real; synthetic allowed floor(0.2 * 150 / 0.8) = 37, crawled 50
    assert d1.shape == (r, 187) and d1.sum(axis=1)[0] == 37
    d2 = scheme.next_data(2, 100, ones, zeros, state)
    # archive 170 real; allowed floor(0.2 * 170 / 0.8) = 42, crawled 80
    assert d2.shape == (r, 212) and d2.sum(axis=1)[0] == 42
    assert repr(scheme) == "ProvenanceCap(cap=0.2, detect=1, archive=True)"
    with pytest.raises(TypeError, match="archive"):
        cl.ProvenanceCap([0.5], cap=0.2, archive="yes")


def test_keep_all_crawls_holds_the_archives_real_data_and_every_synthetic_sample():
    # synthetic samples are 1, real ones 0: counts are exact, no randomness involved
    shares = [0.1, 0.5, 0.9]
    keep = cl.studies.KeepAllCrawls(shares)
    arch = cl.ProvenanceCap(shares, cap=0.0, archive=True)   # cap 0: the archive's real data only
    sk, sa = {}, {}
    r, n = 3, 1000
    keep.initial(np.zeros((r, n)), sk)
    arch.initial(np.zeros((r, n)), sa)
    syn, real = (lambda k: np.ones((r, k))), (lambda k: np.zeros((r, k)))
    for t in (1, 2, 3):
        dk = keep.next_data(t, n, syn, real, sk)
        da = arch.next_data(t, n, syn, real, sa)
        assert dk.shape == (r, (t + 1) * n)                    # every crawl kept
        n_syn = sum(round(n * s) for s in shares[:t])
        assert dk.sum(axis=1)[0] == n_syn                      # every synthetic sample kept
        assert (dk == 0).sum(axis=1)[0] == da.shape[1]         # the same real data as the archive
        assert da.sum() == 0
    with pytest.raises(ValueError, match="schedule"):
        cl.simulate(world(), cl.NormalFit(), n=10, generations=5, scheme=cl.studies.KeepAllCrawls([0.1, 0.2]))


def test_keep_all_crawls_runs_in_simulate_with_growing_training_sets():
    run = cl.simulate(world(), cl.NormalFit(), n=50, generations=4,
                      scheme=cl.studies.KeepAllCrawls(cl.SyntheticShare.linear(0.2, 0.8, 4)),
                      replicates=6, seed=1, data_metrics={"size": lambda x: np.full(x.shape[0], x.shape[1])})
    assert list(run.data_metrics["size"][:, 0]) == [50, 100, 150, 200, 250]
    again = cl.simulate(world(), cl.NormalFit(), n=50, generations=4,
                        scheme=cl.studies.KeepAllCrawls(cl.SyntheticShare.linear(0.2, 0.8, 4)),
                        replicates=6, seed=1)
    assert np.array_equal(run.models[-1].mean, again.models[-1].mean)
