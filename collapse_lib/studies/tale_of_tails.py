"""A tale of tails: Zipf data, a learner that memorises what it saw, and a cut tail.

The setting of Dohmatob, Feng, Yang, Charton and Kempe (ICML 2024, "A Tale of Tails:
Model Collapse as a Change of Scaling Laws"), after Hutter's memorisation model: inputs
are ranks ``i = 1, 2, ...`` with Zipf probabilities ``p_i`` proportional to
``i^-beta`` (``beta > 1``); each input has one correct answer; a learner trained on
``T`` examples answers correctly exactly the inputs it has seen. Its test error is the
probability mass of the inputs it has not seen.

Training data are drawn from the real Zipf law, from an "AI" law whose tail was cut at
rank ``k`` (the head renormalised), or a mix: ``round(pi T)`` real draws and the rest
from the cut law.

Exact expectations (the book's derivation, from independence of the draws): with
``T_r`` real draws and ``T_s`` draws from a law ``q``,

    E[test error] = sum_i p_i (1 - p_i)^T_r (1 - q_i)^T_s.

For a cut tail and large ``T`` this tends to the cut-off mass ``sum_{i>k} p_i``, the
plateau; the paper's rates are the asymptotic forms of these sums (see
:func:`published_exponents`).

Introduced in chapter 16, "A tale of tails".
"""

from __future__ import annotations

import numpy as np

from .._validate import (check_budget, check_finite_array, check_fraction, check_int, check_int_array,
                         check_probabilities, check_real)

__all__ = ["SOURCE", "published_exponents", "zipf_probs", "cut_tail", "cutoff_mass", "expected_test_error",
           "simulate_test_error", "loglog_slope"]

#: where the quoted rates come from
SOURCE = ("Dohmatob, Feng, Yang, Charton, Kempe, 'A Tale of Tails: Model Collapse as a Change of "
          "Scaling Laws', ICML 2024 (arXiv:2402.07043), the memorisation (Hutter) model with Zipf inputs")


def published_exponents(beta):
    """The exponents Dohmatob et al. (2024) give for the memorisation model, as functions of ``beta``.

    - ``"c"``: clean data, ``E_test`` of order ``T^-c`` with ``c = 1 - 1/beta``
      (Hutter's scaling law);
    - ``"plateau"``: training data whose tail was cut at rank ``k``,
      ``E_test`` of order ``T^-c + k^-(beta c)``, so the error stops falling at a level of
      order ``k^-(beta - 1)`` (``beta c = beta - 1``), reached near ``T = k^beta``;
    - mixing a share ``pi`` of real data back in, the decline resumes, at rate
      ``(pi T)^-c``, once ``pi T`` is of order ``k^beta`` (the delay ``1/pi``).

    These are rates up to constant factors (``≍``), quoted from :data:`SOURCE`.

    Parameters
    ----------
    beta : float > 1

    Returns
    -------
    dict with ``"c"`` and ``"plateau"`` (floats).

    Introduced in chapter 16, "A tale of tails".
    """
    beta = check_real("beta", beta)
    if beta <= 1:
        raise ValueError(f"beta must be a finite number > 1, got {beta}")
    return {"c": 1.0 - 1.0 / beta, "plateau": beta - 1.0}


def zipf_probs(beta, support):
    """Zipf probabilities ``p_i = i^-beta / sum_j j^-beta`` for ranks ``i = 1 .. support``.

    Parameters
    ----------
    beta : float > 1
        Tail exponent.
    support : int >= 1
        Number of ranks (the law is truncated there and renormalised).

    Returns
    -------
    ndarray of shape (support,)

    Introduced in chapter 16, "A tale of tails".
    """
    beta = check_real("beta", beta)
    if beta <= 1:
        raise ValueError(f"beta must be a finite number > 1, got {beta}")
    support = check_int("support", support, minimum=1)
    check_budget("support", support)
    w = np.arange(1, support + 1, dtype=float) ** -beta
    return w / w.sum()


def cut_tail(p, k):
    """The law ``p`` with its tail cut at rank ``k``: ``p_i / sum_{j<=k} p_j`` for ``i <= k``, else 0.

    Introduced in chapter 16, "A tale of tails".
    """
    p = check_probabilities("p", p, ndim=(1,))
    k = check_int("k", k, minimum=1, maximum=p.size)
    q = np.zeros_like(p)
    q[:k] = p[:k] / p[:k].sum()
    return q


def cutoff_mass(p, k):
    """``sum_{i>k} p_i``: the mass a learner trained on a tail cut at ``k`` can never see (the plateau).

    ``k`` may be an array of ranks.

    Introduced in chapter 16, "A tale of tails".
    """
    p = check_probabilities("p", p, ndim=(1,))
    k = check_int_array("k", k, minimum=0, maximum=p.size)
    tail = np.concatenate([np.cumsum(p[::-1])[::-1], [0.0]])   # tail[j] = sum_{i>=j} p (0-based)
    return tail[k.astype(int)] if k.ndim else float(tail[int(k)])


def _counts(T, real_fraction, q):
    T = check_int_array("T", T, minimum=0)
    if q is None:
        return T, np.zeros_like(T)
    real = np.floor(real_fraction * T + 0.5).astype(np.int64)   # the nearest integer, a half rounds up
    return real, T - real


def expected_test_error(p, T, q=None, real_fraction=0.0):
    """Exact expected test error of the memorising learner after ``T`` training draws.

    Parameters
    ----------
    p : array_like
        The real law (test inputs are drawn from it).
    T : int or array of int >= 0
        Training draws.
    q : array_like, optional
        The law of the synthetic draws (e.g. :func:`cut_tail`). None: all draws real.
    real_fraction : float in [0, 1]
        With ``q``: ``round(real_fraction * T)`` draws are real, the rest from ``q``.

    Returns
    -------
    float or ndarray shaped like ``T``
        ``sum_i p_i (1 - p_i)^T_real (1 - q_i)^T_synthetic``.

    Introduced in chapter 16, "A tale of tails".
    """
    p = check_probabilities("p", p, ndim=(1,))
    if q is not None:
        q = check_probabilities("q", q, ndim=(1,))
        if q.shape != p.shape:
            raise ValueError(f"q must have the shape of p {p.shape}, got {q.shape}")
    real_fraction = check_fraction("real_fraction", real_fraction)
    t_real, t_syn = _counts(T, real_fraction, q)
    flat_r, flat_s = np.atleast_1d(t_real).ravel(), np.atleast_1d(t_syn).ravel()
    lp = np.log1p(-np.minimum(p, 1.0 - 1e-300))
    lq = np.log1p(-np.minimum(q, 1.0 - 1e-300)) if q is not None else np.zeros_like(p)
    out = np.empty(flat_r.size)
    for j, (a, b) in enumerate(zip(flat_r, flat_s)):
        expo = a * lp + (b * lq if b else 0.0)
        # (1 - p_i)^0 = 1 even where p_i = 1
        out[j] = float(np.sum(p * np.exp(expo)))
    return out.reshape(np.shape(T)) if np.ndim(T) else float(out[0])


def _draw(cdf, size, rng):
    idx = np.searchsorted(cdf, rng.random(size), side="right")
    return np.minimum(idx, cdf.size - 1)


def _first_seen(draws):
    """The ranks drawn at least once and the index of each one's first draw."""
    return np.unique(draws, return_index=True)


def simulate_test_error(p, T, q=None, real_fraction=0.0, replicates=10, seed=None):
    """Train the memorising learner on random draws and measure its test error exactly.

    For each replicate one stream of ``max(T_real)`` real draws and one of
    ``max(T_synthetic)`` draws from ``q`` are made; the learner at size ``T`` has seen
    the first ``T_real`` and ``T_synthetic`` of them (nested training sets, as a
    learning curve is measured). Its test error is the exact mass under ``p`` of the
    ranks it has not seen (no test sample needed).

    Parameters
    ----------
    p, T, q, real_fraction
        As in :func:`expected_test_error`.
    replicates : int >= 1
        Independent learning curves.
    seed : int or None
        Seed of the one :func:`numpy.random.default_rng` behind every draw.

    Returns
    -------
    ndarray of shape ``(len(T), replicates)``

    Introduced in chapter 16, "A tale of tails".
    """
    p = check_probabilities("p", p, ndim=(1,))
    if q is not None:
        q = check_probabilities("q", q, ndim=(1,))
        if q.shape != p.shape:
            raise ValueError(f"q must have the shape of p {p.shape}, got {q.shape}")
    real_fraction = check_fraction("real_fraction", real_fraction)
    replicates = check_int("replicates", replicates, minimum=1)
    T = check_finite_array("T", T, ndim=(1,))
    t_real, t_syn = _counts(T, real_fraction, q)
    n_real, n_syn = int(t_real.max()), int(t_syn.max())
    check_budget("max(T)", n_real + n_syn)
    check_budget("replicates * T", replicates * T.size)
    seed = None if seed is None else check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    cdf_p = np.cumsum(p)
    cdf_q = np.cumsum(q) if q is not None else None
    support = p.size
    out = np.empty((T.size, replicates))
    for r in range(replicates):
        first_r = np.full(support, np.iinfo(np.int64).max)
        first_s = np.full(support, np.iinfo(np.int64).max)
        if n_real:
            ranks, first = _first_seen(_draw(cdf_p, n_real, rng))
            first_r[ranks] = first
        if n_syn:
            ranks, first = _first_seen(_draw(cdf_q, n_syn, rng))
            first_s[ranks] = first
        touched = np.flatnonzero((first_r < n_real) | (first_s < n_syn))
        fr, fs, pt = first_r[touched], first_s[touched], p[touched]
        for j in range(T.size):
            seen = (fr < t_real[j]) | (fs < t_syn[j])
            out[j, r] = 1.0 - float(np.sum(pt[seen]))
    return np.maximum(out, 0.0)


def loglog_slope(x, y):
    """Least-squares slope of ``log y`` against ``log x`` (the exponent of a power law).

    ``y`` may have a trailing replicate axis: one slope per column.

    Introduced in chapter 16, "A tale of tails".
    """
    x = check_finite_array("x", x, ndim=(1,))
    y = check_finite_array("y", y, ndim=(1, 2))
    if y.shape[0] != x.size:
        raise ValueError(f"y must have one row per value of x ({x.size}), got shape {y.shape}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive for a log-log slope")
    lx = np.log(x) - np.log(x).mean()
    ly = np.log(y)
    ly = ly - ly.mean(axis=0)
    return (lx @ ly) / (lx @ lx)
