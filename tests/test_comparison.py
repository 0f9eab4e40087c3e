"""cl.compare: difference, standard error, z and verdict against cases with known answers.

Seeds are fixed. Tolerances on an estimated standard error come from the standard error's
own sampling error: for n normal draws, the sample standard deviation has relative
standard error about 1/sqrt(2 (n - 1)); checks allow 5 of those.
"""

import math

import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib.comparison import Estimate

pytestmark = pytest.mark.filterwarnings("error")


def rel_se_of_sd(n):
    """Relative standard error of a sample standard deviation from n normal draws."""
    return 1.0 / math.sqrt(2.0 * (n - 1))


def test_independent_normals_known_means_and_se():
    rng = np.random.default_rng(0)
    n, sd, delta = 400, 1.0, 0.5
    a, b = rng.normal(0.0, sd, n), rng.normal(delta, sd, n)
    c = cl.compare(a, b, names=("low", "high"))
    true_se = sd * math.sqrt(2.0 / n)
    assert abs(c.se - true_se) < 5 * rel_se_of_sd(n) * true_se
    # the difference is within 4 true standard errors of the true one
    assert abs(c.difference - (-delta)) < 4 * true_se
    assert c.z < -3 and c.resolved and c.sign == -1
    assert c.verdict == "low below high"
    d = cl.compare(b, a, names=("high", "low"))
    assert d.verdict == "high above low"
    assert d.difference == pytest.approx(-c.difference) and d.se == pytest.approx(c.se)


def test_equal_means_are_indistinguishable_at_the_right_rate():
    # with equal means, z is about standard normal: |z| >= 3 happens with probability 0.0027
    # (slightly more at n = 50 because the SE is estimated). Over 3000 trials the count of
    # false orderings is binomial; allow mean + 4 binomial standard deviations, with the
    # t(98) tail probability as the mean.
    from scipy import stats
    rng = np.random.default_rng(1)
    trials, n = 3000, 50
    zs = np.array([cl.compare(rng.normal(size=n), rng.normal(size=n)).z for _ in range(trials)])
    p = 2 * stats.t.sf(3.0, df=2 * n - 2)
    false = np.sum(np.abs(zs) >= 3)
    assert false <= trials * p + 4 * math.sqrt(trials * p * (1 - p)) + 1
    # z is calibrated: its standard deviation is 1 (t(98) sd 1.01) within 5 of its own SEs
    assert abs(zs.std() - math.sqrt((2 * n - 2) / (2 * n - 4))) < 5 * rel_se_of_sd(trials)
    assert abs(zs.mean()) < 5 / math.sqrt(trials)


def test_paired_removes_shared_noise():
    # a_i = x_i + e_i, b_i = x_i + delta + f_i with a large shared x: paired SE is sqrt(2) se / sqrt(n)
    rng = np.random.default_rng(2)
    n, shared, noise, delta = 200, 5.0, 0.1, 0.05
    x = rng.normal(0.0, shared, n)
    a = x + rng.normal(0.0, noise, n)
    b = x + delta + rng.normal(0.0, noise, n)
    paired = cl.compare(a, b, paired=True)
    indep = cl.compare(a, b, paired=False)
    true_paired = noise * math.sqrt(2.0 / n)
    true_indep = math.sqrt(2 * (shared**2 + noise**2) / n)
    assert abs(paired.se - true_paired) < 5 * rel_se_of_sd(n) * true_paired
    assert abs(indep.se - true_indep) < 5 * rel_se_of_sd(n) * true_indep
    assert paired.difference == pytest.approx(indep.difference)
    assert abs(paired.difference + delta) < 4 * true_paired
    assert paired.verdict == "A below B"          # delta / true_paired = 5 SE
    assert indep.verdict == "indistinguishable at this replicate count"   # 0.05 / 0.5 = 0.1 SE


def test_estimates_combine_in_quadrature():
    c = cl.compare(Estimate(1.0, 0.1), Estimate(0.5, 0.1), names=("x", "y"))
    assert c.difference == pytest.approx(0.5)
    assert c.se == pytest.approx(math.sqrt(0.02))
    assert c.z == pytest.approx(0.5 / math.sqrt(0.02))
    assert c.verdict == "x above y"
    c2 = cl.compare(Estimate(1.0, 0.2), Estimate(0.5, 0.2))
    assert c2.verdict == "indistinguishable at this replicate count"    # 1.77 SE
    assert cl.compare(Estimate(1.0, 0.2), Estimate(0.5, 0.2), threshold=1.5).resolved


def test_estimate_of_matches_compare_arms():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1, 2, 30), rng.normal(0, 1, 40)
    c = cl.compare(a, b)
    d = cl.compare(Estimate.of(a), Estimate.of(b))
    assert c.difference == pytest.approx(d.difference) and c.se == pytest.approx(d.se)
    assert Estimate.of(a).n == 30 and c.n_a == 30 and c.n_b == 40


def test_exact_values_have_zero_se():
    c = cl.compare(Estimate(0.3, 0.0), Estimate(0.2, 0.0))
    assert c.z == math.inf and c.verdict == "A above B"
    same = cl.compare(np.ones(5), np.ones(5))
    assert same.z == 0.0 and not same.resolved
    paired_same_shift = cl.compare(np.arange(5.0), np.arange(5.0) + 1, paired=True)
    assert paired_same_shift.z == -math.inf and paired_same_shift.verdict == "A below B"


def test_str_is_one_readable_line():
    c = cl.compare(Estimate(0.13, 0.02), Estimate(0.23, 0.03), names=("verifier", "no filter"))
    s = str(c)
    assert "\n" not in s
    assert "verifier - no filter" in s and "indistinguishable" in s and "threshold 3 SE" in s
    assert c.ratio == pytest.approx(0.13 / 0.23)


@pytest.mark.parametrize("bad, match", [
    (dict(a=[1.0], b=[1.0, 2.0]), "at least 2 replicates"),
    (dict(a=[1.0, np.nan], b=[1.0, 2.0]), "NaN or inf"),
    (dict(a=np.ones((2, 2)), b=[1.0, 2.0]), "1-D"),
    (dict(a=[1.0, 2.0], b=[1.0, 2.0, 3.0], paired=True), "equal length"),
    (dict(a=[1.0, 2.0], b=[1.0, 2.0], threshold=0), "threshold must be > 0"),
])
def test_bad_input_raises_value_error(bad, match):
    with pytest.raises(ValueError, match=match):
        cl.compare(**bad)


def test_bad_types_raise_type_error():
    with pytest.raises(TypeError, match="names"):
        cl.compare([1.0, 2.0], [1.0, 2.0], names="AB")
    with pytest.raises(TypeError, match="both"):
        cl.compare(Estimate(1.0, 0.1), [1.0, 2.0])
    with pytest.raises(TypeError, match="paired"):
        cl.compare([1.0, 2.0], [1.0, 2.0], paired="yes")
    with pytest.raises(ValueError, match="se must be >= 0"):
        Estimate(1.0, -0.1)
    with pytest.raises(ValueError, match="finite"):
        Estimate(float("nan"), 0.1)
    with pytest.raises(ValueError, match="paired=True needs replicate arrays"):
        cl.compare(Estimate(1.0, 0.1), Estimate(1.0, 0.1), paired=True)
