"""simulate(stop=...): replicates stop once collapsed, record when, and cost nothing afterwards."""

import numpy as np
import pytest

import collapse_lib as cl


def one_left(model):
    return model.surviving == 1


def test_stopped_at_has_the_law_of_the_first_collapse_of_an_unstopped_run():
    """Wright-Fisher with K = 3 categories: the generation of fixation, with and without stop=."""
    world = cl.Categorical([0.5, 0.3, 0.2])
    n, reps = 15, 4000
    stopped = cl.simulate(world, cl.CategoricalFit(), n=n, generations=10_000, replicates=reps, seed=1,
                          keep=[], stop=one_left)
    assert np.all(stopped.stopped_at >= 0)
    full = cl.simulate(world, cl.CategoricalFit(), n=n, generations=int(stopped.stopped_at.max()) + 50,
                       replicates=reps, seed=2, keep=[], metrics=["surviving"])
    # first generation with one survivor, from the full trajectories (fixation is absorbing)
    hit = full.metrics["surviving"] == 1
    assert hit[-1].all()
    first = hit.argmax(axis=0)
    a, b = stopped.stopped_at.astype(float), first.astype(float)
    se = np.sqrt(a.var(ddof=1) / reps + b.var(ddof=1) / reps)
    assert abs(a.mean() - b.mean()) < 4 * se  # two independent samples of the same law: 4 SE
    assert stopped.generations[-1] == stopped.stopped_at.max()


def test_stopped_replicates_are_frozen_and_recorded():
    run = cl.simulate(cl.Categorical([0.25] * 4), cl.CategoricalFit(), n=8, generations=500, replicates=30, seed=3,
                      metrics=["surviving", "entropy"], stop=one_left)
    surv = run.metrics["surviving"]
    for r, t in enumerate(run.stopped_at):
        assert np.all(surv[t:, r] == 1) and (t == 0 or surv[t - 1, r] > 1)
        assert np.all(run.metrics["entropy"][t:, r] == 0.0)
        # the stored model of a stopped replicate stays the one it stopped with
        np.testing.assert_array_equal(run.models[-1].probs[r], run.model(int(t)).probs[r])
    assert len(run.models) == len(run.generations) == run.stopped_at.max() + 1


class CountingFit(cl.NormalFit):
    """NormalFit that records how many replicates each fit receives."""

    def __init__(self):
        super().__init__(ddof=0)
        self.sizes = []

    def _fit(self, data):
        self.sizes.append(data.shape[0])
        return super()._fit(data)


@pytest.mark.parametrize("scheme", [cl.Replace(), cl.Anchor(0.2), cl.Accumulate(), cl.AccumulateSubsample(),
                                    cl.FixedReal(0.2)], ids=repr)
def test_stopped_replicates_cost_nothing_on_the_points_path(scheme):
    fam = CountingFit()
    run = cl.simulate(cl.Normal(0.0, 1.0), fam, n=6, generations=300, scheme=scheme, replicates=40, seed=4,
                      stop=lambda m: m.var < 0.3, keep=[], metrics=["var"])
    done = run.stopped_at >= 0
    assert done.any()
    # the fit of generation t sees only the replicates that had not stopped before t
    for t, size in enumerate(fam.sizes):
        assert size == np.sum((run.stopped_at < 0) | (run.stopped_at >= t))
    v = run.metrics["var"]
    for r in np.flatnonzero(done):
        t = run.stopped_at[r]
        assert v[t, r] < 0.3 and np.all(v[t:, r] == v[t, r])


def test_stop_on_the_exact_paths_and_determinism():
    kw = dict(n=10, generations=2000, replicates=50, stop=lambda m: m.var < 0.05)
    a = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), seed=5, **kw)
    b = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), seed=5, **kw)
    assert a.method == "exact"
    np.testing.assert_array_equal(a.stopped_at, b.stopped_at)
    np.testing.assert_array_equal(a.models[-1].var, b.models[-1].var)
    mv = cl.MultivariateNormal(np.zeros(3), np.eye(3))
    run = cl.simulate(mv, cl.MultivariateNormalFit(), n=8, generations=3000, replicates=20, seed=6,
                      stop=lambda m: m.trace < 0.01, scheme=cl.Anchor(0.0))
    assert run.method == "exact" and np.all(run.stopped_at > 0)
    assert run.models[-1].cov.shape == (20, 3, 3)
    np.testing.assert_array_less(run.models[-1].trace, 0.01)


def test_without_stop_nothing_changes():
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=10, generations=5, replicates=3, seed=0)
    assert run.stopped_at is None and len(run.models) == 6


@pytest.mark.parametrize("stop, exc, words", [
    ("var", TypeError, "stop"),
    (lambda m: np.ones(2, dtype=bool), ValueError, "one boolean per running replicate"),
    (lambda m: np.full(5, 0.5), ValueError, "boolean"),
])
def test_bad_stop_is_named(stop, exc, words):
    with pytest.raises(exc, match=words):
        cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=10, generations=5, replicates=5, seed=0, stop=stop)
