"""Closed forms for the recursions that have them, each checked against :func:`simulate`.

Counting convention (read this first)
-------------------------------------
Every function here counts **fits**, not generations. In :func:`collapse_lib.simulate`
``run.models[0]`` is already fitted once (on the real sample), so ``run.models[t]``
has gone through ``fits = t + 1`` fits. A Normal refit therefore compares
``run.models[t]`` with ``normal_expected_var(t + 1, M, ...)``; ``fits = 0`` is the
world itself (variance ``sigma0**2``, mean error 0).

``M`` is the number of training samples per fit (``n`` in :func:`simulate`), and
``ddof`` the variance estimator (0: maximum likelihood, numpy's default and the
Nature paper's released code; 1: unbiased, the paper's Theorem 3.1).

Functions accept a scalar or an array of non-negative integer ``fits`` and return
a float or an array of the same shape.

Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked"; the
categorical, tail and Zipf results are used in chapters 3 and 5, the accumulate
and anchor results in chapter 7.
"""

from __future__ import annotations


import numpy as np
from scipy import special

from ._validate import _numeric_array, check_budget, check_fraction, check_int, check_positive, check_real

__all__ = [
    # Normal refit (chapter 4)
    "normal_var_factor", "normal_expected_var", "normal_log_var_drift", "normal_log_var",
    "c4", "normal_expected_std", "normal_mean_var", "normal_expected_w2sq",
    "normal_collapse_time",
    # categorical / Wright-Fisher (chapters 3 and 5)
    "wright_fisher_heterozygosity", "fixation_probability", "loss_probability",
    # tails (chapter 3)
    "prob_absent",
    # accumulate and anchor (chapter 7)
    "accumulate_normal_mean_error", "accumulate_mean_bound", "ols_reused_design_error",
    "anchored_normal_moments", "anchored_normal_fixed_point",
    # Zipf tail cut (chapter 5)
    "zipf_probs", "zipf_cut_rank", "zipf_tail_mass", "expected_unseen_mass",
    # regression (chapter 14)
    "ols_one_fit_error", "regression_replace_error", "marchenko_pastur_stieltjes",
    "ridge_downstream_error",
    # scaling laws under a cut tail (chapter 16)
    "zipf_training_probs", "memorizer_error", "hutter_error_asymptote", "zipf_mixing_escape",
]


# --------------------------------------------------------------------------- checks

def _fits(value, name="fits"):
    """Non-negative integer(s): returns (int ndarray, was_scalar)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a non-negative integer or an array of them, got bool")
    arr = np.asarray(value)
    if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be a non-negative integer or an array of them, got {arr.dtype} {value!r}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 (a number of fits), got a negative value")
    return arr.astype(np.int64), arr.ndim == 0


def _out(values, scalar):
    values = np.asarray(values, dtype=float)
    return float(values) if scalar else values


def _m(M, name="M"):
    return check_int(name, M, minimum=2)


def _ddof(ddof):
    return check_int("ddof", ddof, minimum=0, maximum=1)


# Above this sample size c4 and the log-variance drift use their asymptotic series: the
# closed forms through gammaln / digamma subtract two numbers of size ~M ln M or ~ln M to
# get a result of size ~1/M, and lose all precision by M ~ 1e14. Below it they keep
# their old (bit-identical) evaluation, accurate to ~1e-11 relative or better.
_SERIES_M = 10**5

# ln Gamma(x + 1/2) - ln Gamma(x) - ln(x)/2 = sum_j _C4_SERIES[j] / x^(2j+1)  (Stirling,
# coefficients from Bernoulli polynomials; the next term is O(x^-13)).
_C4_SERIES = (-1 / 8, 1 / 192, -1 / 640, 17 / 14336, -31 / 18432, 691 / 180224)
# psi(x) - ln x = -1/(2x) - sum_j B_2j / (2j x^2j)
_PSI_SERIES = (-1 / 12, 1 / 120, -1 / 252, 1 / 240, -1 / 132)


def _odd_series(coeffs, x):
    inv = 1.0 / x
    inv2 = inv * inv
    total = 0.0
    for c in reversed(coeffs):
        total = total * inv2 + c
    return total * inv


def _even_series(coeffs, x):
    inv2 = 1.0 / (x * x)
    total = 0.0
    for c in reversed(coeffs):
        total = total * inv2 + c
    return total * inv2


def _times_square(values, scale, scalar):
    """``values * scale**2`` without overflow warnings (inf where it overflows, 0 stays 0)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.where(values == 0, 0.0, values * scale * scale)
    return _out(out, scalar)


# Above this a parameter's square may overflow: such calls compute at scale 1 and rescale.
_BIG = 1e150


def _not_huge(name, value):
    """Refuse |value| > 1e150 where a closed form squares it and cannot rescale."""
    if abs(value) > _BIG:
        raise ValueError(f"{name} must be at most {_BIG:g} in size (its square must stay finite), got {value}")
    return value


# --------------------------------------------------------------------------- Normal refit

def normal_var_factor(M, ddof=0):
    """Expected one-fit variance factor ``E[sigma2_next / sigma2] = (M - 1) / (M - ddof)``.

    Refitting a Normal on ``M`` of its own samples gives exactly
    ``sigma2_next = sigma2 * chi2(M - 1) / (M - ddof)``.

    Parameters
    ----------
    M : int >= 2
        Samples per fit.
    ddof : {0, 1}
        0 for the maximum-likelihood variance, 1 for the unbiased one.

    Returns
    -------
    float
        ``(M - 1) / M`` for MLE, exactly 1 for the unbiased estimator.

    Notes
    -----
    Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked".
    """
    M, ddof = _m(M), _ddof(ddof)
    return (M - 1) / (M - ddof)


def normal_expected_var(fits, M, ddof=0, sigma0=1.0):
    """``E[sigma^2]`` after ``fits`` recursive Normal fits: ``sigma0^2 ((M-1)/(M-ddof))^fits``.

    Parameters
    ----------
    fits : int or array of int >= 0
        Number of fits (``run.models[t]`` has had ``t + 1``).
    M : int >= 2
        Samples per fit.
    ddof : {0, 1}
        Variance estimator.
    sigma0 : float > 0
        Standard deviation of the world (a Normal world, or any world's std for
        the first fit: only its variance enters).

    Returns
    -------
    float or ndarray

    Notes
    -----
    Unbiased (``ddof=1``): constant, a martingale, even though ``sigma^2 -> 0``
    almost surely. Its sample mean over replicates has a huge variance at large
    ``fits``; test it through :func:`normal_log_var` or :func:`normal_expected_std`.
    Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked".
    """
    k, scalar = _fits(fits)
    sigma0 = check_positive("sigma0", sigma0)
    if sigma0 > _BIG:
        return _times_square(normal_expected_var(k, M, ddof, 1.0), sigma0, scalar)
    r = normal_var_factor(M, ddof)
    with np.errstate(under="ignore"):
        return _out(sigma0**2 * np.float64(r) ** k, scalar)


def normal_log_var_drift(M, ddof=0):
    """Mean change of ``ln sigma^2`` per fit: ``psi((M-1)/2) + ln 2 - ln(M - ddof)``.

    ``ln sigma^2`` is a random walk with independent steps
    ``ln(chi2(M-1)/(M-ddof))``; this is their exact mean. It is negative for both
    estimators (about ``-2/M`` for MLE, ``-1/(M-1)`` unbiased), which is why the
    variance collapses almost surely.

    Parameters
    ----------
    M : int >= 2
    ddof : {0, 1}

    Returns
    -------
    float

    Notes
    -----
    Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked".
    """
    M, ddof = _m(M), _ddof(ddof)
    if M >= _SERIES_M:
        # psi(x) + ln 2 - ln(M - ddof) with 2x = M - 1: the series for psi(x) - ln x plus
        # ln((M - 1)/(M - ddof)), each term small, so no cancellation.
        x = (M - 1) / 2
        return float(-0.5 / x + _even_series(_PSI_SERIES, x) + np.log1p((ddof - 1) / (M - ddof)))
    return float(special.digamma((M - 1) / 2) + np.log(2.0) - np.log(M - ddof))


def normal_log_var(fits, M, ddof=0, sigma0=1.0):
    """Exact mean and variance of ``ln sigma^2`` after ``fits`` fits.

    Returns
    -------
    mean, variance : float or ndarray
        ``ln sigma0^2 + fits * drift`` and ``fits * polygamma(1, (M-1)/2)``.
        ``exp(mean)`` is close to the median of ``sigma^2`` (the random walk is
        nearly Gaussian after a few fits).

    Notes
    -----
    Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked".
    """
    k, scalar = _fits(fits)
    sigma0 = check_positive("sigma0", sigma0)
    M = _m(M)
    drift = normal_log_var_drift(M, ddof)
    step_var = float(special.polygamma(1, (M - 1) / 2))
    return _out(2 * np.log(sigma0) + k * drift, scalar), _out(k * step_var, scalar)


def c4(M):
    """Bias constant of the sample standard deviation: ``E[s] = c4(M) sigma`` (ddof=1).

    ``c4(M) = sqrt(2/(M-1)) Gamma(M/2) / Gamma((M-1)/2)``, computed with log-gamma
    so that it stays finite for large ``M``; from ``M = 1e5`` on through the
    asymptotic (Stirling) series of ``ln c4``, so that it stays below 1 and
    accurate to rounding for every ``M``.

    Notes
    -----
    Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked".
    """
    M = _m(M)
    if M >= _SERIES_M:
        return float(np.exp(_odd_series(_C4_SERIES, (M - 1) / 2)))
    return float(np.sqrt(2.0 / (M - 1)) * np.exp(special.gammaln(M / 2) - special.gammaln((M - 1) / 2)))


def normal_expected_std(fits, M, ddof=0, sigma0=1.0):
    """``E[sigma]`` after ``fits`` fits: ``sigma0 (c4(M) sqrt((M-1)/(M-ddof)))^fits``.

    Decays geometrically under both estimators (for ``ddof=1`` at rate
    ``c4(M) < 1``): the typical standard deviation shrinks even when the
    expected variance does not.

    Notes
    -----
    Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked".
    """
    k, scalar = _fits(fits)
    sigma0 = check_positive("sigma0", sigma0)
    rate = c4(M) * np.sqrt(normal_var_factor(M, ddof))
    with np.errstate(under="ignore"):
        return _out(sigma0 * np.float64(rate) ** k, scalar)


def normal_mean_var(fits, M, ddof=0, sigma0=1.0):
    """``Var(mu)`` after ``fits`` fits: ``sum_{s < fits} E[sigma_s^2] / M``.

    The fitted mean is a random walk whose step variance is the current
    variance over ``M``. For MLE it tends to ``sigma0^2`` (the geometric sum);
    for the unbiased estimator it grows linearly, ``fits * sigma0^2 / M``.

    Notes
    -----
    Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked".
    """
    k, scalar = _fits(fits)
    sigma0 = check_positive("sigma0", sigma0)
    M, ddof = _m(M), _ddof(ddof)
    if sigma0 > _BIG:
        return _times_square(normal_mean_var(k, M, ddof, 1.0), sigma0, scalar)
    r = normal_var_factor(M, ddof)
    if ddof == 1:
        total = k.astype(float)
    else:  # geometric sum of r^s, s = 0..k-1, with 1 - r = 1/M
        with np.errstate(under="ignore"):
            total = (1.0 - np.float64(r) ** k) * M
    return _out(sigma0**2 * total / M, scalar)


def normal_expected_w2sq(fits, M, ddof=0, sigma0=1.0):
    """``E[W2^2(N(mu, sigma^2), N(mu0, sigma0^2))]`` after ``fits`` fits, exactly.

    ``W2^2 = (mu - mu0)^2 + (sigma - sigma0)^2`` between Normals, so the
    expectation is ``Var(mu) + E[sigma^2] - 2 sigma0 E[sigma] + sigma0^2``.

    Unbiased (``ddof=1``): ``sigma0^2 (fits/M + 2 - 2 c4(M)^fits)``, about
    ``1.5 fits/M sigma0^2`` while ``fits << M`` and growing without bound (the
    divergence of Shumailov et al. 2024, Theorem 3.1). MLE: bounded, tending to
    ``2 sigma0^2``. The divergence lives in rare paths: the median stays finite.

    Notes
    -----
    Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked".
    """
    k, scalar = _fits(fits)
    sigma0 = check_positive("sigma0", sigma0)
    M, ddof = _m(M), _ddof(ddof)
    if sigma0 > _BIG:
        return _times_square(normal_expected_w2sq(k, M, ddof, 1.0), sigma0, scalar)
    value = (np.asarray(normal_mean_var(k, M, ddof, sigma0))
             + np.asarray(normal_expected_var(k, M, ddof, sigma0))
             - 2 * sigma0 * np.asarray(normal_expected_std(k, M, ddof, sigma0))
             + sigma0**2)
    return _out(np.maximum(value, 0.0), scalar)


def normal_collapse_time(M, ddof=0, factor=np.e):
    """Typical number of fits for the variance to shrink by ``factor``.

    The fits after which ``exp(E[ln sigma^2])`` (close to the median variance)
    has fallen by ``factor``: ``ln(factor) / -drift``. With the default
    ``factor = e`` this is about ``M/2`` fits for MLE and ``M - 1`` unbiased:
    collapse time scales linearly with the sample size.

    Parameters
    ----------
    M : int >= 2
    ddof : {0, 1}
    factor : float > 1

    Returns
    -------
    float

    Notes
    -----
    Introduced in chapter 4, "Recursive Gaussian fitting, the theory checked".
    """
    factor = check_real("factor", factor)
    if factor <= 1:
        raise ValueError(f"factor must be > 1, got {factor}")
    return float(np.log(factor) / -normal_log_var_drift(M, ddof))


# --------------------------------------------------------------------------- Wright-Fisher

def wright_fisher_heterozygosity(fits, M, h0):
    """``E[1 - sum p_i^2]`` after ``fits`` categorical refits: ``(1 - 1/M)^fits h0``.

    Refitting category frequencies by counting ``M`` draws is neutral
    Wright-Fisher drift with population ``M``; ``h0`` is the world's
    heterozygosity (``Categorical.heterozygosity``).

    Parameters
    ----------
    fits : int or array of int >= 0
    M : int >= 1
        Draws per fit.
    h0 : float in [0, 1]

    Notes
    -----
    Introduced in chapter 5, "Tokens and words"; used in chapter 3.
    """
    k, scalar = _fits(fits)
    M = check_int("M", M, minimum=1)
    h0 = check_fraction("h0", h0)
    with np.errstate(under="ignore"):
        return _out(h0 * np.float64(1.0 - 1.0 / M) ** k, scalar)


def fixation_probability(q):
    """Probability that a category of current frequency ``q`` eventually takes over: ``q``.

    Under neutral Wright-Fisher drift (refitting by counting), each state's
    frequency is a martingale and the chain ends in a single category.

    Notes
    -----
    Introduced in chapter 5, "Tokens and words"; used in chapter 3.
    """
    q = _prob("q", q)
    return q if np.ndim(q) else float(q)


def loss_probability(q):
    """Probability that a category of frequency ``q`` is eventually lost: ``1 - q``.

    A lost category never returns (absorbing), Shumailov et al. (2024).

    Notes
    -----
    Introduced in chapter 5, "Tokens and words"; used in chapter 3.
    """
    q = _prob("q", q)
    out = 1.0 - q
    return out if np.ndim(out) else float(out)


def _prob(name, p):
    if isinstance(p, bool):
        raise TypeError(f"{name} must be a probability in [0, 1], got bool")
    try:
        arr = np.asarray(_numeric_array(name, p), dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a probability in [0, 1], got {p!r}") from None
    if not np.all(np.isfinite(arr)) or np.any((arr < 0) | (arr > 1)):
        raise ValueError(f"{name} must be in [0, 1], got {p!r}")
    return arr


# --------------------------------------------------------------------------- tails

def prob_absent(p, n):
    """Probability that an event of probability ``p`` is absent from ``n`` draws: ``(1-p)^n``.

    Parameters
    ----------
    p : float or array in [0, 1]
    n : int or array of int >= 0

    Examples
    --------
    >>> round(prob_absent(0.001, 10_000), 6)
    4.5e-05

    Notes
    -----
    Introduced in chapter 3, "Why tails go first".
    """
    p = _prob("p", p)
    k, scalar = _fits(n, "n")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(k == 0, 1.0, np.exp(k * np.log1p(-p)))
    return _out(out, scalar and np.ndim(p) == 0)


# --------------------------------------------------------------------------- accumulate

def accumulate_normal_mean_error(fits, M, ddof=0, sigma0=1.0):
    """Exact ``E[(mu - mu0)^2]`` under the accumulate scheme after ``fits`` fits.

    With :class:`collapse_lib.Accumulate`, fit ``j`` (1-based) sees a pool of
    ``j M`` samples, so the pooled mean moves by ``sigma_{j-1} Z / (j sqrt(M))``:
    ``E[(mu - mu0)^2] = sum_{j=1}^{fits} E[sigma_{j-1}^2] / (j^2 M)``, where the
    expected pooled variance follows an exact linear recursion. The sum stays
    below :func:`accumulate_mean_bound` ``= (pi^2/6) sigma0^2 / M`` for every
    ``fits``, whereas replacing the data gives :func:`normal_mean_var`.

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show".
    Gerstgrasser et al. (2024).
    """
    k, scalar = _fits(fits)
    sigma0 = check_positive("sigma0", sigma0)
    M, ddof = _m(M), _ddof(ddof)
    if sigma0 > _BIG:
        return _times_square(accumulate_normal_mean_error(k, M, ddof, 1.0), sigma0, scalar)
    kmax = int(k.max()) if k.size else 0
    check_budget("fits", kmax + 1)
    # ev[j] = E[sigma^2] of the model after j fits (ev[0] = world variance)
    err = np.zeros(kmax + 1)
    ev = sigma0**2
    total = 0.0
    for j in range(1, kmax + 1):
        total += ev / (j * j * M)
        err[j] = total
        if j == 1:
            ev = sigma0**2 * (M - 1) / (M - ddof)
        else:
            n_old = (j - 1) * M  # pool size before this fit
            ev = ev * ((n_old - ddof) + (M - 1) + n_old / (n_old + M)) / (n_old + M - ddof)
    return _out(err[k], scalar)


def accumulate_mean_bound(M, sigma0=1.0):
    """Upper bound ``(pi^2 / 6) sigma0^2 / M`` on the accumulate scheme's mean error.

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show".
    """
    M = check_int("M", M, minimum=1)
    sigma0 = check_positive("sigma0", sigma0)
    if sigma0 > _BIG:
        return _times_square(accumulate_mean_bound(M, 1.0), sigma0, True)
    return float(np.pi**2 / 6 * sigma0**2 / M)


def ols_reused_design_error(iterations, base, scheme="replace"):
    """Parameter error of OLS retrained on its own labels with the design reused.

    Each iteration relabels a fixed design ``X`` with the previous fit plus
    fresh noise and refits. With ``base`` the one-fit error
    (``sigma^2 tr((X'X)^-1)`` in squared parameter norm):

    - ``"replace"`` (train on the newest labels only): ``iterations * base``;
    - ``"accumulate"`` (train on all labels so far): ``base * sum_{i<=iterations} 1/i^2``,
      below ``(pi^2/6) base``.

    Parameters
    ----------
    iterations : int or array of int >= 0
        Number of fits (1 = fitted on the real labels only).
    base : float > 0
    scheme : {"replace", "accumulate"}

    Notes
    -----
    Introduced in chapter 7; Gerstgrasser et al. (2024).
    """
    k, scalar = _fits(iterations, "iterations")
    base = check_positive("base", base)
    if scheme == "replace":
        return _out(base * k, scalar)
    if scheme == "accumulate":
        kmax = int(k.max()) if k.size else 0
        partial = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, kmax + 1) ** 2)])
        return _out(base * partial[k], scalar)
    raise ValueError(f"scheme must be 'replace' or 'accumulate', got {scheme!r}")


# --------------------------------------------------------------------------- anchor

def anchored_normal_moments(fits, M, fraction, world_mean=0.0, world_var=1.0, ddof=0):
    """Exact ``E[sigma^2]`` and ``E[(mu - m)^2]`` of a Normal refit under an anchor.

    Each fit after the first trains on ``M`` points: the first
    ``int(M (1 - fraction))`` sampled from the previous fit, the rest fresh
    from a world with mean ``m`` and variance ``v`` (as :class:`collapse_lib.Anchor`
    composes them); the first fit sees ``M`` real points. Only the world's first
    two moments enter, so any world (e.g. the core-and-tail mixture) works.
    Both expectations follow an exact linear recursion.

    Parameters
    ----------
    fits : int or array of int >= 0
    M : int >= 2
    fraction : float in [0, 1]
        Share of fresh real data.
    world_mean, world_var : float
        Mean ``m`` and variance ``v > 0`` of the world.
    ddof : {0, 1}

    Returns
    -------
    expected_var, expected_offset2 : float or ndarray

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show";
    the fixed point is :func:`anchored_normal_fixed_point`.
    """
    k, scalar = _fits(fits)
    M, ddof = _m(M), _ddof(ddof)
    fraction = check_fraction("fraction", fraction)
    check_real("world_mean", world_mean)
    v = check_positive("world_var", world_var)
    kmax = int(k.max()) if k.size else 0
    ev = np.empty(kmax + 1)
    ed = np.empty(kmax + 1)
    ev[0], ed[0] = v, 0.0
    step = _anchor_step(M, fraction, v, ddof)[0]
    for j in range(1, kmax + 1):
        if j == 1:
            ev[1] = v * (M - 1) / (M - ddof)
            ed[1] = v / M
        else:
            ev[j], ed[j] = step(ev[j - 1], ed[j - 1])
    return _out(ev[k], scalar), _out(ed[k], scalar)


def _anchor_step(M, fraction, v, ddof):
    n1 = int(M * (1.0 - fraction))  # synthetic
    n2 = M - n1  # real
    # E[SS] for fixed counts: (M-1)/M (n1 s^2 + n2 v) + n1 n2 / M (mu - m)^2
    def step(es, ed):
        ss = (M - 1) / M * (n1 * es + n2 * v) + n1 * n2 / M * ed
        new_es = ss / (M - ddof)
        new_ed = (n1 / M) ** 2 * ed + (n1 * es + n2 * v) / M**2
        return new_es, new_ed
    return step, n1, n2


def anchored_normal_fixed_point(M, fraction, world_var=1.0, ddof=0):
    """Limits of ``E[sigma^2]`` and ``E[(mu - m)^2]`` under a fresh-data anchor.

    Solves the fixed point of :func:`anchored_normal_moments`. Two effects
    compete: each fit shrinks the synthetic share's variance by the factor
    ``(M - 1)/(M - ddof)``, while the fitted mean wanders away from the world's
    (``E[(mu - m)^2]`` settles near ``v / (M a (2 - a))``) and that offset
    between the synthetic and the real part widens the pooled data again.
    For MLE and large ``M`` the result is about ``v (1 - 1/(M a (2 - a)))``:
    an anchor holds the variance a little below the world's instead of
    letting it reach 0.

    Parameters
    ----------
    M : int >= 2
    fraction : float in (0, 1]
        Share of fresh real data (0 has no fixed point above 0).
    world_var : float > 0
    ddof : {0, 1}

    Returns
    -------
    expected_var, expected_offset2 : float

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show"; used in an
    exercise of chapter 1.
    """
    M, ddof = _m(M), _ddof(ddof)
    fraction = check_fraction("fraction", fraction)
    v = check_positive("world_var", world_var)
    # Both moments are proportional to the world's variance: solve at v = 1 and rescale, so
    # that the result is exactly linear in v (solving at v directly loses precision from
    # v ~ 1e8 and fails near 1e16).
    step, n1, n2 = _anchor_step(M, fraction, 1.0, ddof)
    if n2 == 0:
        raise ValueError(f"fraction must give at least one real sample per fit (fraction * M >= 1), got fraction={fraction}, M={M}")
    # linear map x -> A x + b, x = (es, ed)
    b = np.array(step(0.0, 0.0))
    A = np.column_stack([np.array(step(1.0, 0.0)) - b, np.array(step(0.0, 1.0)) - b])
    x = np.linalg.solve(np.eye(2) - A, b)
    if v == 1.0:
        return float(x[0]), float(x[1])
    with np.errstate(over="ignore"):
        return float(x[0] * v), float(x[1] * v)


# --------------------------------------------------------------------------- Zipf

def zipf_probs(K, beta):
    """Zipf probabilities ``p_i`` proportional to ``i^-beta`` over ranks ``1..K``.

    Parameters
    ----------
    K : int >= 1
        Vocabulary size.
    beta : float > 0
        Exponent (about 1 for word frequencies).

    Returns
    -------
    ndarray of shape (K,)

    Notes
    -----
    Introduced in chapter 5, "Tokens and words".
    """
    K = check_budget("K", check_int("K", K, minimum=1))
    beta = check_positive("beta", beta)
    w = np.arange(1, K + 1, dtype=float) ** -beta
    return w / w.sum()


def _zipf_norm(beta, K):
    if K is None:
        if beta <= 1:
            raise ValueError(f"beta must be > 1 for an infinite vocabulary (K=None), got {beta}")
        return float(special.zeta(beta))
    K = check_budget("K", check_int("K", K, minimum=1))
    return float(np.sum(np.arange(1, K + 1, dtype=float) ** -beta))


def zipf_cut_rank(T, beta, K=None):
    """Rank at which ``T`` draws from a Zipf(beta) law cut its tail.

    The rank ``k`` whose expected count ``T p_k`` is one:
    ``k = (T / Z)^(1/beta)`` with ``Z`` the normaliser (``zeta(beta)`` for an
    infinite vocabulary). Ranks far beyond it are mostly absent from the
    sample, so a model fitted on it loses them: the cut grows only like
    ``T^(1/beta)`` (Dohmatob et al. 2024).

    Parameters
    ----------
    T : float > 0
        Number of draws.
    beta : float > 0 (> 1 when ``K`` is None)
    K : int, optional
        Vocabulary size; the result is capped at ``K``.

    Returns
    -------
    float

    Notes
    -----
    Introduced in chapter 5, "Tokens and words".
    """
    T = check_positive("T", T)
    beta = check_positive("beta", beta)
    z = _zipf_norm(beta, K)
    try:
        k = (T / z) ** (1.0 / beta)
    except OverflowError:  # the rank is beyond any float: K caps it, else it is infinite
        k = np.inf
    return float(min(k, K)) if K is not None else float(k)


def zipf_tail_mass(k, beta, K=None):
    """Probability mass beyond rank ``k``: ``sum_{i > k} p_i`` of a Zipf(beta) law.

    The error a tail cut at rank ``k`` cannot go below (Dohmatob et al. 2024).

    Parameters
    ----------
    k : int or array of int >= 0
    beta : float > 0 (> 1 when ``K`` is None)
    K : int, optional
        Vocabulary size (None: infinite, via the Hurwitz zeta function).

    Notes
    -----
    Introduced in chapter 5, "Tokens and words".
    """
    kk, scalar = _fits(k, "k")
    beta = check_positive("beta", beta)
    z = _zipf_norm(beta, K)
    if K is None:
        out = special.zeta(beta, kk + 1.0) / z
    else:
        w = np.arange(1, K + 1, dtype=float) ** -beta
        tail = np.concatenate([np.cumsum(w[::-1])[::-1], [0.0]])  # tail[k] = sum_{i > k} w_i
        out = tail[np.minimum(kk, K)] / z
    return _out(np.clip(out, 0.0, 1.0), scalar)


def expected_unseen_mass(probs, T):
    """``E[sum of p_i over categories absent from T draws] = sum_i p_i (1 - p_i)^T``.

    The mass a model that only knows what it saw loses in one fit.

    Parameters
    ----------
    probs : array_like of shape (K,)
        Probabilities summing to 1.
    T : int >= 0
        Draws.

    Notes
    -----
    Introduced in chapter 3, "Why tails go first"; used in chapter 5.
    """
    p = _prob("probs", probs)
    if p.ndim != 1 or not np.isclose(p.sum(), 1.0, rtol=0, atol=1e-8):
        raise ValueError("probs must be a 1-D array of probabilities summing to 1")
    T = check_int("T", T, minimum=0)
    return float(np.sum(p * np.asarray(prob_absent(p, T))))


# --------------------------------------------------------------------------- regression (chapter 14)

def _regression_dims(d, T, name="T"):
    d = check_int("d", d, minimum=1)
    T = check_int(name, T, minimum=1)
    if T < d + 2:
        raise ValueError(f"{name} must be >= d + 2 = {d + 2} (the expected OLS error is finite only then), got {T}")
    return d, T


def ols_one_fit_error(d, T, sigma=1.0):
    """Expected excess test error of one OLS fit with Gaussian design: ``sigma^2 d / (T - d - 1)``.

    With inputs ``x ~ N(0, Sigma)`` (any positive definite ``Sigma``), ``T`` rows and
    label noise ``sigma``, the OLS error ``(w - w0)' Sigma (w - w0)`` has expectation
    ``sigma^2 E tr(Sigma (X'X)^-1) = sigma^2 d / (T - d - 1)`` (the mean of an inverse
    Wishart matrix), for ``T >= d + 2``.

    Parameters
    ----------
    d : int >= 1
    T : int >= d + 2
    sigma : float > 0

    Notes
    -----
    Introduced in chapter 14, "Regression collapse, in its own setting".
    """
    d, T = _regression_dims(d, T)
    sigma = _not_huge("sigma", check_positive("sigma", sigma))
    return float(sigma**2 * d / (T - d - 1))


def regression_replace_error(n, d, T, sigma=1.0, T0=None, sigma0=None):
    """Dohmatob, Feng and Kempe (2024), unregularised case: ``sigma^2 d/(T-d-1) + n sigma0^2 d/(T0-d-1)``.

    The expected excess test error of an OLS model fitted on ``T`` examples labelled
    (noise ``sigma``) by the ``n``-th of a chain of OLS data generators, each fitted on
    ``T0`` fresh Gaussian inputs labelled by its predecessor with noise ``sigma0``
    (``n = 0``: labelled by the world). Linear in ``n``.

    In the book's chain of fits (:func:`collapse_lib.regression_recursion` with
    ``T0 = T`` and ``sigma0 = sigma``) the model after ``k`` fits has expected error
    ``regression_replace_error(k - 1, ...)`` ``= k * ols_one_fit_error(d, T, sigma)``.

    Parameters
    ----------
    n : int or array of int >= 0
        Number of synthetic generations before the final fit.
    d : int >= 1
    T : int >= d + 2
        Examples of the final fit.
    sigma : float > 0
        Label noise of the final fit's data.
    T0 : int >= d + 2, optional
        Examples per generator (default ``T``).
    sigma0 : float >= 0, optional
        Label noise of the generators (default ``sigma``).

    Notes
    -----
    Introduced in chapter 14, "Regression collapse, in its own setting".
    """
    k, scalar = _fits(n, "n")
    d, T = _regression_dims(d, T)
    T0 = T if T0 is None else _regression_dims(d, T0, "T0")[1]
    sigma = _not_huge("sigma", check_positive("sigma", sigma))
    sigma0 = sigma if sigma0 is None else _not_huge("sigma0", check_real("sigma0", sigma0))
    if sigma0 < 0:
        raise ValueError(f"sigma0 must be >= 0, got {sigma0}")
    return _out(sigma**2 * d / (T - d - 1) + k * sigma0**2 * d / (T0 - d - 1), scalar)


def marchenko_pastur_stieltjes(lam, ratio):
    """``m(lam) = E[1/(s + lam)]`` and ``m2(lam) = E[1/(s + lam)^2]`` under the Marchenko-Pastur law.

    ``s`` is an eigenvalue of ``X'X / T`` for a ``T x d`` matrix of independent
    standard normal entries in the limit ``d, T -> infinity`` with ``d / T -> ratio``
    (including the atom at 0 of mass ``1 - 1/ratio`` when ``ratio > 1``):
    ``m = (sqrt(b^2 + 4 ratio lam) - b) / (2 ratio lam)`` with ``b = 1 - ratio + lam``,
    and ``m2 = -dm/dlam``.

    Parameters
    ----------
    lam : float > 0
    ratio : float > 0
        ``d / T``.

    Returns
    -------
    m, m2 : float

    Notes
    -----
    Introduced in chapter 14, "Regression collapse, in its own setting" (the ridge
    formula of :func:`ridge_downstream_error`).
    """
    lam = check_positive("lam", lam)
    g = check_positive("ratio", ratio)
    b = 1.0 - g + lam
    root = np.sqrt(b * b + 4.0 * g * lam)
    m = (root - b) / (2.0 * g * lam)
    droot = (b + 2.0 * g) / root
    dm = ((droot - 1.0) * lam - (root - b)) / (2.0 * g * lam * lam)
    return float(m), float(-dm)


def ridge_downstream_error(n, d, T, lam, sigma=1.0, coef_norm2=1.0, T0=None, sigma0=None):
    """Excess test error of a ridge model trained after ``n`` generations of OLS data generators.

    The setting of Dohmatob, Feng and Kempe (2024) with isotropic inputs
    (``Sigma = I``): OLS generators on ``T0`` examples each (label noise ``sigma0``),
    then a ridge model ``(X'X + T lam I)^-1 X'y`` on ``T`` examples labelled by the
    ``n``-th generator with noise ``sigma``. The generators' error is exactly
    ``n sigma0^2 / (T0 - d - 1)`` per coordinate; the ridge terms are their
    Marchenko-Pastur limits (``d, T -> infinity``, ``d/T`` fixed), in terms of
    ``m = E[1/(s+lam)]`` and ``m2 = E[1/(s+lam)^2]``:

    - bias ``||w0||^2 lam^2 m2``;
    - variance ``sigma^2 (d/T) (m - lam m2)``;
    - synthetic-label term ``n sigma0^2 d/(T0 - d - 1) (1 - 2 lam m + lam^2 m2)``.

    The book's own derivation in the paper's setting; it has the form the paper
    states, ``E_test(w_pred_0) + n sigma0^2 rho``, with ``rho`` shrinking as ``lam`` grows.

    Parameters
    ----------
    n : int or array of int >= 0
    d : int >= 1
    T : int >= 1
        Examples of the ridge fit.
    lam : float > 0
        Ridge penalty (per unit of mean squared error).
    sigma : float > 0
    coef_norm2 : float >= 0
        ``||w0||^2``.
    T0 : int >= d + 2, optional
        Examples per generator (default ``T``, which then must be ``>= d + 2``).
    sigma0 : float >= 0, optional
        Generator label noise (default ``sigma``).

    Returns
    -------
    float or ndarray

    Notes
    -----
    At finite ``d`` the ridge terms differ from their limits by a relative amount of
    order ``1/d``; chapter 14 quotes the gap with its standard error.
    Introduced in chapter 14, "Regression collapse, in its own setting".
    """
    k, scalar = _fits(n, "n")
    d = check_int("d", d, minimum=1)
    T = check_int("T", T, minimum=1)
    T0 = _regression_dims(d, T if T0 is None else T0, "T0")[1]
    sigma = _not_huge("sigma", check_positive("sigma", sigma))
    sigma0 = sigma if sigma0 is None else _not_huge("sigma0", check_real("sigma0", sigma0))
    if sigma0 < 0:
        raise ValueError(f"sigma0 must be >= 0, got {sigma0}")
    _not_huge("lam", check_real("lam", lam))
    c = _not_huge("coef_norm2", check_real("coef_norm2", coef_norm2))
    if c < 0:
        raise ValueError(f"coef_norm2 must be >= 0, got {c}")
    g = d / T
    m, m2 = marchenko_pastur_stieltjes(lam, g)
    bias = c * lam**2 * m2
    variance = sigma**2 * g * (m - lam * m2)
    shrink = 1.0 - 2.0 * lam * m + lam**2 * m2
    return _out(bias + variance + k * sigma0**2 * d / (T0 - d - 1) * shrink, scalar)


# --------------------------------------------------------------------------- scaling laws (chapter 16)

def zipf_training_probs(K, beta, cut=None, real_fraction=1.0):
    """Per-draw probabilities of a training stream that mixes real Zipf data with a cut-tail copy.

    ``r = real_fraction * p + (1 - real_fraction) * q``, where ``p`` is Zipf(beta) over
    ranks ``1..K`` and ``q`` is ``p`` restricted to the ranks ``<= cut`` and renormalised
    (the data of a model whose tail was cut at rank ``cut``). Without a cut, ``r = p``.

    Parameters
    ----------
    K : int >= 1
    beta : float > 0
    cut : int in [1, K], optional
    real_fraction : float in [0, 1]
        Share of real draws (1: all real; 0: all from the cut copy).

    Returns
    -------
    ndarray of shape (K,)

    Notes
    -----
    Introduced in chapter 16, "A change of scaling laws".
    """
    p = zipf_probs(K, beta)
    pi = check_fraction("real_fraction", real_fraction)
    if cut is None:
        return p
    cut = check_int("cut", cut, minimum=1, maximum=K)
    q = np.zeros_like(p)
    q[:cut] = p[:cut] / p[:cut].sum()
    return pi * p + (1.0 - pi) * q


def memorizer_error(T, beta, K, cut=None, real_fraction=1.0, generator_draws=None, poisson=False):
    """Expected test error of a learner that knows exactly the categories it has seen.

    The learner of Hutter (2021) and Dohmatob et al. (2024, "A tale of tails"): test
    inputs are Zipf(beta) ranks ``i`` (probabilities ``p_i`` over ``1..K``), each with a
    fixed answer; the learner answers correctly what appeared in its ``T`` training
    draws and errs on the rest, so its test error is the real mass of the unseen ranks:
    ``E = sum_i p_i P(i unseen)``.

    - Training draws with per-draw probabilities ``r`` (:func:`zipf_training_probs`):
      ``P(i unseen) = (1 - r_i)^T``, or ``exp(-T r_i)`` when the number of draws is
      Poisson with mean ``T`` (``poisson=True``, the law ``memorizer_errors`` of the tale-of-tails study
      simulates).
    - ``generator_draws = T0``: the training data come from a *generator* that is the
      empirical distribution of ``T0`` real draws (a model that reproduces what it saw,
      with the frequencies it saw). Then, exactly,
      ``P(i unseen) = (1 - p_i (1 - (1 - 1/T0)^T))^T0`` (fixed ``T``) or
      ``(1 - p_i (1 - exp(-T/T0)))^T0`` (Poisson ``T``); ``cut`` and ``real_fraction``
      must then be left at their defaults.

    Parameters
    ----------
    T : float or array >= 0
        Training draws (may be non-integer with ``poisson=True``).
    beta : float > 0
    K : int >= 1
        Number of ranks (a finite world).
    cut : int, optional
    real_fraction : float in [0, 1]
    generator_draws : int >= 1, optional
    poisson : bool

    Returns
    -------
    float or ndarray

    Notes
    -----
    The cut-tail error cannot fall below ``zipf_tail_mass(cut, beta, K) * ...``: with
    ``real_fraction = 0`` it tends to exactly :func:`zipf_tail_mass` ``(cut, beta, K)``.
    Introduced in chapter 16, "A change of scaling laws".
    """
    Ts = np.asarray(T, dtype=float)
    if not np.all(np.isfinite(Ts)) or np.any(Ts < 0):
        raise ValueError("T must be finite and >= 0")
    if not poisson and np.any(Ts != np.round(Ts)):
        raise ValueError("T must be whole numbers of draws unless poisson=True")
    K = check_budget("K", check_int("K", K, minimum=1))
    beta = check_positive("beta", beta)
    p = zipf_probs(K, beta)
    flat = Ts.reshape(-1)
    out = np.empty(flat.size)
    if generator_draws is not None:
        if cut is not None or real_fraction != 1.0:
            raise ValueError("generator_draws replaces cut and real_fraction: leave them at None and 1.0")
        T0 = check_int("generator_draws", generator_draws, minimum=1)
        for j, t in enumerate(flat):
            hit = -np.expm1(-t / T0) if poisson else -np.expm1(t * np.log1p(-1.0 / T0)) if T0 > 1 else float(t > 0)
            out[j] = np.sum(p * np.exp(T0 * np.log1p(-p * hit)))
    else:
        r = zipf_training_probs(K, beta, cut, real_fraction)
        for j, t in enumerate(flat):
            if poisson:
                out[j] = np.sum(p * np.exp(-t * r))
            else:
                with np.errstate(divide="ignore"):
                    out[j] = np.sum(p * np.where(r >= 1.0, float(t == 0), np.exp(t * np.log1p(-np.minimum(r, 1.0)))))
    out = out.reshape(Ts.shape)
    return float(out) if out.ndim == 0 else out


def hutter_error_asymptote(T, beta):
    """Leading term of the memorizer's error on an infinite Zipf(beta) vocabulary (beta > 1).

    ``sum_i p_i exp(-T p_i) ~ Gamma(1 - 1/beta) / beta * zeta(beta)^(-1/beta) * T^(-(1 - 1/beta))``
    as ``T -> infinity`` (replace the sum by an integral over ranks). The exponent
    ``1 - 1/beta`` is Hutter's (2021) scaling law, the clean baseline of Dohmatob et al.
    (2024, "A tale of tails"); the constant is the book's own derivation.

    Parameters
    ----------
    T : float or array > 0
    beta : float > 1

    Notes
    -----
    Introduced in chapter 16, "A change of scaling laws".
    """
    beta = check_positive("beta", beta)
    if beta <= 1:
        raise ValueError(f"beta must be > 1 (a normalisable infinite Zipf law), got {beta}")
    Ts = np.asarray(T, dtype=float)
    if np.any(Ts <= 0) or not np.all(np.isfinite(Ts)):
        raise ValueError("T must be finite and > 0")
    c = 1.0 - 1.0 / beta
    const = special.gamma(c) / beta * special.zeta(beta) ** (-1.0 / beta)
    out = const * Ts ** (-c)
    return float(out) if np.ndim(out) == 0 else out


def zipf_mixing_escape(cut, beta, real_fraction):
    """Training size at which a real share lets a cut-tail learner leave its plateau.

    The real draws alone reach rank ``cut`` once ``real_fraction * T * p_cut`` is about
    one, i.e. at ``T ~ cut^beta zeta(beta) / real_fraction`` (infinite vocabulary): before
    that, almost nothing beyond the cut is seen and the error sits near the tail mass;
    after it, the error falls like the clean law with ``real_fraction * T`` draws. An
    order-of-magnitude scale, not an exact crossing point.

    Parameters
    ----------
    cut : int >= 1
    beta : float > 1
    real_fraction : float in (0, 1]

    Notes
    -----
    Introduced in chapter 16, "A change of scaling laws".
    """
    cut = check_int("cut", cut, minimum=1)
    beta = check_positive("beta", beta)
    if beta <= 1:
        raise ValueError(f"beta must be > 1, got {beta}")
    pi = check_fraction("real_fraction", real_fraction)
    if pi == 0:
        raise ValueError("real_fraction must be > 0 (with no real draws the plateau never ends)")
    return float(cut**beta * special.zeta(beta) / pi)
