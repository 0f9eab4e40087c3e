"""simulate at scale: large vocabularies, long runs, recording options, reporting.

Statistical checks use fixed seeds and tolerances of 5 standard errors computed
from the replicates themselves.
"""

import tracemalloc

import numpy as np
import pytest

import collapse_lib as cl


def zipf(k, a=1.1):
    p = 1.0 / np.arange(1, k + 1) ** a
    return p / p.sum()


def within_se(values, expected, k=5.0):
    values = np.asarray(values, float)
    se = values.std(ddof=1) / np.sqrt(values.size)
    return abs(values.mean() - expected) < k * se  # tol = 5 * SE


@pytest.mark.parametrize("method", ["exact", "points"])
def test_wright_fisher_heterozygosity_large_vocabulary(method):
    # models[0] is already one sample of n draws, so models[t] has t + 1 sampling steps:
    # E[H_t] = (1 - 1/n)^(t + 1) H_world
    k, n, gens, reps = 20_000, 200, 20, 300
    world = cl.Categorical(zipf(k))
    run = cl.simulate(world, cl.CategoricalFit(), n=n, generations=gens, replicates=reps, seed=42,
                      method=method, metrics=["heterozygosity"], keep=[])
    assert run.models == [] and run.method == method
    h = run.metrics["heterozygosity"]
    assert h.shape == (gens + 1, reps)
    for t in (0, 5, gens):
        assert within_se(h[t], (1 - 1 / n) ** (t + 1) * world.heterozygosity)


def test_wright_fisher_at_a_hundred_thousand_words_exact():
    k, n, gens, reps = 100_000, 1000, 30, 40
    world = cl.Categorical(zipf(k, 1.0))
    run = cl.simulate(world, cl.CategoricalFit(), n=n, generations=gens, replicates=reps, seed=3,
                      metrics={"H": lambda m: m.heterozygosity, "alive": "surviving"}, keep=[gens])
    assert run.method == "exact"
    h = run.metrics["H"]
    for t in (0, gens):
        assert within_se(h[t], (1 - 1 / n) ** (t + 1) * world.heterozygosity)
    # the kept model is dense (R, K), sums to one, and at most n words survive a sample of n draws
    last = run.model(gens)
    assert last.probs.shape == (reps, k)
    np.testing.assert_allclose(last.probs.sum(axis=1), 1.0)
    assert np.all(run.metrics["alive"] <= n) and np.all(np.diff(run.metrics["alive"], axis=0) <= 0)


def test_exact_and_points_agree_on_surviving_words():
    k, n, gens, reps = 2000, 300, 10, 400
    world = cl.Categorical(zipf(k))
    kw = dict(n=n, generations=gens, replicates=reps, metrics=["surviving", "heterozygosity"], keep=[])
    a = cl.simulate(world, cl.CategoricalFit(), method="exact", seed=1, **kw)
    b = cl.simulate(world, cl.CategoricalFit(), method="points", seed=2, **kw)
    for key in ("surviving", "heterozygosity"):
        for t in (0, gens):
            x, y = a.metrics[key][t], b.metrics[key][t]
            se = np.sqrt(x.var(ddof=1) / reps + y.var(ddof=1) / reps)
            assert abs(x.mean() - y.mean()) < 5 * se  # tol = 5 * SE of the difference


def test_anchor_with_a_large_vocabulary_keeps_words_alive():
    # fresh real draws re-seed lost words: an anchored run keeps more words than a replaced one
    k, n, gens, reps = 50_000, 2000, 20, 5
    world = cl.Categorical(zipf(k))
    kw = dict(n=n, generations=gens, replicates=reps, metrics=["surviving"], keep=[], seed=9)
    rep = cl.simulate(world, cl.CategoricalFit(), **kw)
    anc = cl.simulate(world, cl.CategoricalFit(), scheme=cl.Anchor(0.5), **kw)
    assert rep.method == anc.method == "exact"
    assert np.all(anc.metrics["surviving"][-1] > rep.metrics["surviving"][-1])


def test_keep_record_every_and_model_lookup():
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=10, generations=10, replicates=3, seed=0,
                      record_every=4, keep=[0, 3, 10], metrics={"v": "var", "m": lambda m: m.mean})
    assert run.generations.tolist() == [0, 4, 8, 10]
    assert run.model_generations.tolist() == [0, 3, 10] and len(run.models) == 3
    assert run.metrics["v"].shape == (4, 3)
    np.testing.assert_array_equal(run.metrics["v"][-1], run.model(10).var)
    np.testing.assert_array_equal(run.trajectory("v"), run.metrics["v"])
    assert run.trajectory("var").shape == (3, 3)  # evaluated on the kept models
    assert run.summary("var")["generation"].tolist() == [0, 3, 10]
    assert run.summary("v")["generation"].tolist() == [0, 4, 8, 10]
    with pytest.raises(ValueError, match="not kept"):
        run.model(4)
    with pytest.raises(ValueError, match="neither"):
        run.trajectory("no_such_thing")
    # default: every generation kept, models[t] is generation t
    full = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=10, generations=3, replicates=2, seed=0)
    assert full.model_generations.tolist() == [0, 1, 2, 3] and full.model(2) is full.models[2]


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(keep=[0, 11]), ValueError, "keep"),
    (dict(keep=[-1]), ValueError, "keep"),
    (dict(keep=[1.5]), TypeError, "keep"),
    (dict(keep=5), TypeError, "keep"),
    (dict(keep="all"), TypeError, "keep"),
    (dict(metrics=5), TypeError, "metrics"),
    (dict(metrics={"x": 3}), TypeError, "metrics"),
    (dict(metrics=[len, "var"]), TypeError, "metrics"),
    (dict(progress="yes"), TypeError, "progress"),
    (dict(seed=True), TypeError, "seed"),
])
def test_bad_recording_arguments(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=10, generations=10, replicates=2, **kwargs)


def test_categorical_family_smaller_than_world_is_rejected():
    with pytest.raises(ValueError, match="n_categories"):
        cl.simulate(cl.Categorical([0.25] * 4), cl.CategoricalFit(n_categories=3), n=10, generations=1,
                    method="points")


def test_categorical_family_larger_than_world_pads_with_zeros():
    for method in ("exact", "points"):
        run = cl.simulate(cl.Categorical([0.5, 0.5]), cl.CategoricalFit(n_categories=4), n=10, generations=2,
                          replicates=3, seed=0, method=method)
        assert run.models[2].probs.shape == (3, 4) and np.all(run.models[2].probs[:, 2:] == 0)


def peak_bytes(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_exact_memory_does_not_grow_with_generations_or_n():
    reps = 2000

    def go(n, gens, scheme):
        return lambda: cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=n, generations=gens, scheme=scheme,
                                   replicates=reps, seed=0, keep=[], metrics=["var"], record_every=gens)

    for scheme in (cl.Replace(), cl.Accumulate()):
        small = peak_bytes(go(100, 50, scheme))
        long = peak_bytes(go(100, 2000, scheme))
        large_n = peak_bytes(go(1_000_000, 50, scheme))
        # a handful of (replicates,) float arrays: the same with 40x the generations or 10^4 x the n
        assert long < 1.5 * small and large_n < 1.5 * small
        assert long < 40 * reps * 8


def test_progress_bar_only_when_asked(capsys):
    cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=10, generations=5, replicates=2, seed=0)
    assert capsys.readouterr().err == ""
    cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=10, generations=5, replicates=2, seed=0, progress=True)
    err = capsys.readouterr().err
    assert "generations" in err and "5/5" in err


def test_summary_is_ready_for_plotting():
    import matplotlib

    matplotlib.use("Agg")
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=20, generations=6, replicates=500, seed=1)
    s = run.summary("var")
    assert set(s) == {"generation", "mean", "median", "lo", "hi", "se"}
    assert all(len(v) == 7 for v in s.values())
    assert np.all(s["lo"] <= s["median"]) and np.all(s["median"] <= s["hi"])
    se = run.summary("var", band="se")
    np.testing.assert_allclose(se["hi"] - se["mean"], 1.96 * se["se"])
    values = run.trajectory("var")
    np.testing.assert_allclose(s["se"], values.std(axis=1, ddof=1) / np.sqrt(500))
    fig, ax = cl.plotting.figure()
    cl.plotting.summary_band(ax, s, label="variance")
    cl.plotting.finish(fig)
    for band, exc in [((0.9, 0.1), ValueError), ((0.1, 1.5), ValueError), ("iqr", ValueError), (0.5, TypeError)]:
        with pytest.raises(exc, match="band"):
            run.summary("var", band=band)
    one = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=20, generations=2, replicates=1, seed=1)
    assert np.all(one.summary("var")["se"] == 0)
