"""Data schemes: composition of each generation's training data, validation, determinism."""

import numpy as np
import pytest

import collapse_lib as cl

R = 4


def marker_draws(value):
    """A draw function returning constant ``value`` rows, counting its calls."""
    calls = []

    def draw(k):
        calls.append(k)
        return np.full((R, k), float(value))

    draw.calls = calls
    return draw


def compose(scheme, n, generations):
    """Run a scheme on marker data: real = 1, synthetic = 0, generation-0 real = 2."""
    state = {"rng": np.random.default_rng(0)}
    data = [scheme.initial(np.full((R, n), 2.0), state)]
    syn, real = marker_draws(0), marker_draws(1)
    for t in range(1, generations + 1):
        data.append(scheme.next_data(t, n, syn, real, state))
    return data, syn.calls, real.calls


def test_replace_and_anchor_sizes():
    data, syn, real = compose(cl.Replace(), 10, 3)
    assert all(d.shape == (R, 10) for d in data) and syn == [10, 10, 10] and real == []
    data, syn, real = compose(cl.Anchor(0.1), 10, 2)
    assert syn == [9, 9] and real == [1, 1]
    assert np.all(data[1][:, :9] == 0) and np.all(data[1][:, 9:] == 1)


def test_accumulate_pool_grows():
    data, syn, _ = compose(cl.Accumulate(), 5, 3)
    assert [d.shape[1] for d in data] == [5, 10, 15, 20]
    assert np.all(data[3][:, :5] == 2) and np.all(data[3][:, 5:] == 0)


def test_accumulate_subsample_fixed_size_uniform_subset():
    n = 50
    rows = 4000
    scheme = cl.AccumulateSubsample()
    state = {"rng": np.random.default_rng(3)}
    scheme.initial(np.full((rows, n), 2.0), state)

    def syn(k):
        return np.zeros((rows, k))

    data = scheme.next_data(1, n, syn, None, state)
    assert data.shape == (rows, n)
    assert state["pool"].shape == (rows, 2 * n)
    # number of generation-0 real points in the subset: hypergeometric(2n, n real, n drawn)
    k_real = (data == 2).sum(axis=1)
    mean = n * n / (2 * n)
    var = n * 0.5 * 0.5 * (2 * n - n) / (2 * n - 1)
    se = np.sqrt(var / rows)
    assert abs(k_real.mean() - mean) < 4 * se  # tol = 4 * SE of the mean
    assert abs(k_real.var(ddof=1) - var) < 0.1 * var  # SE of a variance ~ var*sqrt(2/rows) = 0.022 var
    # subsets differ between rows (it is random per replicate)
    assert len(np.unique(k_real)) > 5
    # later generations: still n points, pool keeps growing
    data = scheme.next_data(2, n, syn, None, state)
    assert data.shape == (rows, n) and state["pool"].shape == (rows, 3 * n)


def test_fixed_real_reuses_the_same_points():
    data, syn, real = compose(cl.FixedReal(0.2), 10, 3)
    assert syn == [8, 8, 8] and real == []
    for d in data[1:]:
        assert d.shape == (R, 10)
        assert np.all(d[:, :8] == 0) and np.all(d[:, 8:] == 2)


def test_fixed_real_through_simulate_keeps_identical_real_points():
    n, frac = 20, 0.25
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=n, generations=5,
                      scheme=cl.FixedReal(frac), replicates=6, seed=2,
                      data_metrics={"last5": lambda d: d[:, -5:].sum(axis=1),
                                    "first5": lambda d: d[:, :5].sum(axis=1),
                                    "size": lambda d: np.full(d.shape[0], d.shape[1])})
    last5, first5 = run.data_metrics["last5"], run.data_metrics["first5"]
    # n - int(n * 0.75) = 5 fixed points: the first five of generation 0, reused last afterwards
    assert np.all(last5[1:] == first5[0])
    assert np.all(first5[1:] != first5[0])  # the synthetic part is new each generation
    assert np.all(run.data_metrics["size"] == n)


def test_augment_adds_ratio_of_synthetic():
    data, syn, real = compose(cl.Augment(0.5), 10, 2)
    assert syn == [5, 5] and real == []
    assert data[1].shape == (R, 15) and np.all(data[1][:, :10] == 2) and np.all(data[1][:, 10:] == 0)
    data, syn, _ = compose(cl.Augment(0.0), 10, 2)
    assert syn == [] and np.all(data[2] == 2)


def test_augment_zero_refits_the_same_sample():
    run = cl.simulate(cl.Normal(1.0, 2.0), cl.NormalFit(), n=30, generations=4,
                      scheme=cl.Augment(0.0), replicates=5, seed=1)
    for m in run.models[1:]:
        np.testing.assert_array_equal(m.mean, run.models[0].mean)
        np.testing.assert_array_equal(m.var, run.models[0].var)


def test_synthetic_share_follows_schedule():
    schedule = [0.0, 0.3, 1.0]
    data, syn, real = compose(cl.SyntheticShare(schedule), 10, 3)
    assert syn == [3, 10] and real == [10, 7]
    assert np.all(data[2][:, :3] == 0) and np.all(data[2][:, 3:] == 1)
    data, syn, real = compose(cl.SyntheticShare(lambda t: 0.5), 10, 2)
    assert syn == [5, 5] and real == [5, 5]


def test_synthetic_share_linear():
    s = cl.SyntheticShare.linear(0.0, 1.0, generations=5)
    assert [s.share(t) for t in range(1, 6)] == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_synthetic_share_all_real_is_fresh_real_each_generation():
    # share 0: every generation is fitted on fresh real data, so the fitted variance
    # of generation t is sigma^2 chi2(n-1)/n whatever t: mean (n-1)/n sigma^2
    n, reps = 10, 20000
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=n, generations=6,
                      scheme=cl.SyntheticShare(np.zeros(6)), replicates=reps, seed=5)
    v = run.models[6].var
    se = np.sqrt(2 * (n - 1)) / n / np.sqrt(reps)  # sd of chi2(n-1)/n over sqrt(reps)
    assert abs(v.mean() - (n - 1) / n) < 4 * se  # tol = 4 * SE


@pytest.mark.parametrize("scheme", [
    cl.Replace(), cl.Anchor(0.1), cl.Accumulate(), cl.AccumulateSubsample(),
    cl.FixedReal(0.3), cl.Augment(1.0), cl.SyntheticShare([0.2, 0.5, 0.9]),
])
def test_determinism_and_no_nan(scheme):
    world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])

    def go(seed):
        return cl.simulate(world, cl.NormalFit(), n=40, generations=3, scheme=scheme,
                           replicates=7, seed=seed)

    a, b, c = go(11), go(11), go(12)
    for ma, mb in zip(a.models, b.models):
        np.testing.assert_array_equal(ma.mean, mb.mean)
        np.testing.assert_array_equal(ma.var, mb.var)
    assert not np.array_equal(a.models[3].var, c.models[3].var)
    assert np.all(np.isfinite(a.trajectory("var"))) and np.all(a.trajectory("var") >= 0)


@pytest.mark.parametrize("make, exc, words", [
    (lambda: cl.Anchor(1.5), ValueError, "fraction"),
    (lambda: cl.Anchor(float("nan")), ValueError, "fraction"),
    (lambda: cl.Anchor("0.1"), TypeError, "fraction"),
    (lambda: cl.FixedReal(-0.1), ValueError, "fraction"),
    (lambda: cl.FixedReal(None), TypeError, "fraction"),
    (lambda: cl.Augment(-1.0), ValueError, "ratio"),
    (lambda: cl.Augment(float("inf")), ValueError, "ratio"),
    (lambda: cl.Augment(True), TypeError, "ratio"),
    (lambda: cl.SyntheticShare([0.1, 1.2]), ValueError, "schedule"),
    (lambda: cl.SyntheticShare([0.1, float("nan")]), ValueError, "schedule"),
    (lambda: cl.SyntheticShare([]), ValueError, "schedule"),
    (lambda: cl.SyntheticShare([[0.1, 0.2]]), ValueError, "schedule"),
    (lambda: cl.SyntheticShare(["a"]), TypeError, "schedule"),
    (lambda: cl.SyntheticShare.linear(0.0, 2.0, 5), ValueError, "stop"),
    (lambda: cl.SyntheticShare.linear(0.0, 1.0, 0), ValueError, "generations"),
])
def test_bad_parameters_are_named(make, exc, words):
    with pytest.raises(exc, match=words):
        make()


def test_schedule_too_short_or_callable_out_of_range():
    world = cl.Normal(0.0, 1.0)
    with pytest.raises(ValueError, match="schedule must have at least generations=5"):
        cl.simulate(world, cl.NormalFit(), n=10, generations=5,
                    scheme=cl.SyntheticShare([0.5] * 4), replicates=2, seed=0)
    with pytest.raises(ValueError, match=r"schedule\(1\)"):
        cl.simulate(world, cl.NormalFit(), n=10, generations=2,
                    scheme=cl.SyntheticShare(lambda t: 1.5), replicates=2, seed=0)
    with pytest.raises(TypeError, match=r"schedule\(1\)"):
        cl.simulate(world, cl.NormalFit(), n=10, generations=2,
                    scheme=cl.SyntheticShare(lambda t: "half"), replicates=2, seed=0)
