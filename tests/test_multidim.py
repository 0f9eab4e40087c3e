"""The recursion on d-dimensional points: a reader's scikit-learn model as the family.

simulate keeps points along axis 1, so data are (R, m, d) and every scheme
composes them the same way as one-dimensional (R, m) data.
"""

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

import collapse_lib as cl


class Blobs2D(cl.Distribution):
    """Two round 2-D blobs: 90% at the origin, 10% at (6, 6) (a rare mode)."""

    def sample(self, size, rng):
        rare = rng.random(size) < 0.1
        return rng.standard_normal((size, 2)) + 6.0 * rare[:, None]


@pytest.mark.parametrize("scheme", [cl.Replace(), cl.Anchor(0.5), cl.Accumulate(), cl.AccumulateSubsample(),
                                    cl.FixedReal(0.2)], ids=repr)
def test_simulate_runs_on_two_dimensional_points(scheme):
    family = cl.SklearnFamily(lambda: GaussianMixture(2, random_state=0))
    run = cl.simulate(Blobs2D(), family, n=120, generations=3, scheme=scheme, replicates=3, seed=1,
                      data_metrics={"rare": lambda d: (d[..., 0] > 3.0).mean(axis=1)})
    assert len(run.models) == 4
    x = run.models[3].sample(50, np.random.default_rng(0))
    assert x.shape == (3, 50, 2) and np.isfinite(x).all()
    rare = run.data_metrics["rare"]
    assert rare.shape == (4, 3)
    # Generation 0 is one real sample: its rare share is a binomial proportion around 0.1
    # (SE sqrt(0.09 / 360) = 0.016 over the three replicates pooled; 5 SE = 0.08).
    assert abs(rare[0].mean() - 0.1) < 0.08


def test_two_dimensional_runs_are_deterministic():
    family = cl.SklearnFamily(lambda: GaussianMixture(2, random_state=0))
    a = cl.simulate(Blobs2D(), family, n=60, generations=2, replicates=2, seed=5)
    b = cl.simulate(Blobs2D(), family, n=60, generations=2, replicates=2, seed=5)
    rng_a, rng_b = np.random.default_rng(9), np.random.default_rng(9)
    assert np.array_equal(a.models[2].sample(10, rng_a), b.models[2].sample(10, rng_b))
