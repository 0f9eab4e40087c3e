"""What drift does to a vocabulary: surviving ranks, the rank-frequency tail, held-out text.

Refitting a categorical model on its own samples is Wright-Fisher drift
(:class:`~collapse_lib.CategoricalFit`); the measurements here say what drift
does to a Zipf-shaped vocabulary such as real English
(:func:`collapse_lib.english_words`): which ranks survive, how the
rank-frequency curve loses its tail, how much held-out real text the model can
no longer explain, and how perplexity on it climbs. :data:`NATURE_OPT125M`
quotes the perplexities of the Nature paper's language-model experiment.

Chapter 5 reaches this module as ``cl.words`` (``from collapse_lib import
words as W``), which also holds :func:`~collapse_lib.english_words`.

Introduced in chapter 5, "Tokens and words".
"""

from __future__ import annotations

import numpy as np

from .._validate import _numeric_array, check_finite_array, check_fraction, check_int
from ..worlds.words import english_words  # noqa: F401  (chapter 5's namespace cl.words holds the world too)

__all__ = [
    "NATURE_OPT125M",
    "rank_survival", "survival_by_rank_bin", "rank_frequency", "fit_zipf_exponent",
    "expected_survivors", "oov_rate", "held_out_perplexity",
]

#: Numbers reported by Shumailov et al. (2024, Nature) for their language-model
#: experiment (OPT-125m fine-tuned on wikitext2, generation after generation),
#: quoted as the book's literature notes state them; the book cites them and
#: does not re-run the experiment. ``"rise_no_original"`` is the range of the
#: perplexity increase over generations when no original data is kept;
#: ``"kept_original_fraction"`` is the share of original data kept in their
#: second setting, where degradation was minor.
NATURE_OPT125M = {
    "model": "OPT-125m",
    "dataset": "wikitext2",
    "zero_shot_perplexity": 115,
    "gen0_perplexity": 34,
    "rise_no_original": (20, 28),
    "kept_original_fraction": 0.10,
}


def _probs(model):
    try:
        probs = np.asarray(model.probs if hasattr(model, "probs") else _numeric_array("model", model), dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"model must be a Categorical or an array of probabilities, got {type(model).__name__}") from None
    if probs.ndim not in (1, 2):
        raise ValueError(f"model probabilities must have shape (K,) or (R, K), got {probs.shape}")
    if not np.all(np.isfinite(probs)) or np.any((probs < 0) | (probs > 1)):
        raise ValueError("model probabilities must be finite and in [0, 1] (no NaN)")
    return probs


def rank_survival(model):
    """Share of replicates in which each rank still has probability > 0.

    Parameters
    ----------
    model : Categorical (batched or not) or array of probabilities ``(R, K)``

    Returns
    -------
    ndarray of shape (K,)
        Entry ``i`` is the fraction of replicates where category ``i`` survives
        (0 or 1 for a single model).

    Introduced in chapter 5, "Tokens and words".
    """
    probs = _probs(model)
    alive = probs > 0
    return alive.astype(float) if alive.ndim == 1 else alive.mean(axis=0)


def survival_by_rank_bin(model, edges):
    """Mean survival over rank bins ``[edges[j], edges[j+1])`` (ranks start at 1).

    Parameters
    ----------
    model : Categorical or array ``(R, K)``
    edges : array_like of int, increasing, from >= 1 to <= K + 1

    Returns
    -------
    ndarray of shape (len(edges) - 1,)
        Fraction of (replicate, word) pairs in each bin that survive.

    Introduced in chapter 5, "Tokens and words".
    """
    surv = rank_survival(model)
    edges = np.asarray(edges)
    if edges.ndim != 1 or len(edges) < 2 or edges.dtype.kind not in "iu":
        raise ValueError("edges must be a 1-D integer array of at least two rank boundaries")
    if np.any(np.diff(edges) <= 0) or edges[0] < 1 or edges[-1] > len(surv) + 1:
        raise ValueError(f"edges must increase strictly from >= 1 to <= K + 1 = {len(surv) + 1}")
    return np.array([surv[a - 1:b - 1].mean() for a, b in zip(edges[:-1], edges[1:])])


def expected_survivors(probs, n):
    """Expected number of categories seen at least once in ``n`` draws: ``sum_i 1 - (1 - p_i)^n``.

    A model fitted by counting ``n`` draws keeps exactly the categories it
    saw, so this is the expected vocabulary of the first fitted model
    (``run.models[0]``).

    Parameters
    ----------
    probs : array_like of shape (K,)
        Probabilities summing to 1 (e.g. ``world.probs``).
    n : int >= 0
        Number of draws.

    Introduced in chapter 5, "Tokens and words".
    """
    p = np.asarray(_numeric_array("probs", probs), dtype=float)
    if p.ndim != 1 or np.any(p < 0) or np.any(p > 1) or not np.isfinite(p).all():
        raise ValueError("probs must be a 1-D array of probabilities in [0, 1]")
    n = check_int("n", n, minimum=0)
    certain = p >= 1.0
    seen = -np.expm1(n * np.log1p(-np.where(certain, 0.0, p)))
    return float(np.sum(np.where(certain, float(n > 0), seen)))


def rank_frequency(model):
    """A model's rank-frequency curve: its non-zero probabilities, largest first.

    Parameters
    ----------
    model : Categorical (unbatched) or 1-D array of probabilities

    Returns
    -------
    ranks : ndarray of int, starting at 1
    freqs : ndarray of float, non-increasing

    Introduced in chapter 5, "Tokens and words".
    """
    probs = _probs(model)
    if probs.ndim != 1:
        raise ValueError("rank_frequency takes one model: pass model.probs[r] for replicate r")
    freqs = np.sort(probs[probs > 0])[::-1]
    return np.arange(1, len(freqs) + 1), freqs


def fit_zipf_exponent(freqs, lo=10, hi=None):
    """Least-squares slope ``beta`` of ``log f`` against ``log rank`` over ranks ``lo..hi``.

    A Zipf law ``f`` proportional to ``rank^-beta`` gives back ``beta``.

    Parameters
    ----------
    freqs : array_like, non-increasing, positive
    lo, hi : int
        Rank range used (1-based, inclusive); ``hi`` defaults to the last rank.

    Introduced in chapter 5, "Tokens and words".
    """
    freqs = check_finite_array("freqs", freqs, ndim=(1,))
    hi = len(freqs) if hi is None else hi
    lo = check_int("lo", lo, minimum=1)
    hi = check_int("hi", hi, minimum=lo + 1, maximum=len(freqs))
    if np.any(freqs[lo - 1:hi] <= 0):
        raise ValueError("freqs must be positive over the fitted rank range")
    ranks = np.arange(lo, hi + 1)
    slope = np.polyfit(np.log(ranks), np.log(freqs[lo - 1:hi]), 1)[0]
    return float(-slope)


def _held_out(held_out, k):
    ids = np.asarray(held_out)
    if ids.dtype.kind not in "iu":
        raise TypeError("held_out must be integer word ids (e.g. from world.sample)")
    if ids.ndim != 1 or ids.size == 0:
        raise ValueError(f"held_out must be a non-empty 1-D array of ids, got shape {ids.shape}")
    if np.any((ids < 0) | (ids >= k)):
        raise ValueError(f"held_out ids must be in [0, {k - 1}]")
    return ids


def oov_rate(model, held_out):
    """Share of held-out real tokens whose word the model has lost (probability 0).

    The out-of-vocabulary rate: the mass a tail cut takes away, measured on
    real text.

    Parameters
    ----------
    model : Categorical or array ``(K,)`` / ``(R, K)``
    held_out : 1-D array of int word ids (real text the model never trained on)

    Returns
    -------
    float, or ndarray of shape (R,)

    Introduced in chapter 5, "Tokens and words".
    """
    probs = _probs(model)
    ids = _held_out(held_out, probs.shape[-1])
    weights = np.bincount(ids, minlength=probs.shape[-1]) / ids.size  # share of each word in the text
    out = np.sum(np.where(probs == 0, weights, 0.0), axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def held_out_perplexity(model, held_out, smoothing=0.0):
    """Perplexity of held-out real text: ``exp(-mean log q(word))``.

    Parameters
    ----------
    model : Categorical or array ``(K,)`` / ``(R, K)``
    held_out : 1-D array of int word ids
    smoothing : float in [0, 1]
        Weight ``lam`` of a uniform floor: the model is scored as
        ``(1 - lam) q + lam / K`` (interpolation smoothing). With 0, a single
        held-out word the model has lost makes the perplexity infinite, which
        is returned as ``inf`` (a real answer, not an error).

    Returns
    -------
    float, or ndarray of shape (R,)

    Introduced in chapter 5, "Tokens and words".
    """
    probs = _probs(model)
    k = probs.shape[-1]
    ids = _held_out(held_out, k)
    lam = check_fraction("smoothing", smoothing)
    weights = np.bincount(ids, minlength=k) / ids.size  # share of each word in the text
    q = (1.0 - lam) * probs + lam / k
    with np.errstate(divide="ignore"):
        logq = np.log(q)
    # Words absent from the text contribute nothing (even when the model lost them).
    mean_log = np.sum(weights * np.where(weights > 0, logq, 0.0), axis=-1)
    out = np.exp(-mean_log)
    return float(out) if np.ndim(out) == 0 else out
