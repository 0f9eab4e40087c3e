"""Collapse or thrive: three workflows and the real/synthetic mix, scored by held-out loss.

Kazdan et al. (2024, "Collapse or Thrive?") compare three ways of using data
when every generation's model is trained on what earlier models generated:

- ``"replace"``: each model trains on the ``n`` newest synthetic points only;
- ``"accumulate"``: each model trains on every point so far, the real sample of
  generation 0 included (the training set grows by ``n`` per generation: more data,
  not the same budget);
- ``"accumulate-subsample"``: the pool grows as under accumulate, but each model
  trains on ``n`` points drawn from it without replacement (the budget of replace).

Two one-dimensional task settings are run here, both on the world ``N(0, 1)``: a
Gaussian fitted by maximum likelihood (``cl.NormalFit(ddof=0)``) and a Gaussian
kernel density estimate with Silverman's bandwidth (``cl.KDEFit("silverman")``).
The test loss is the mean negative log-likelihood of held-out real points
(:func:`collapse_lib.metrics.heldout_nll`), a fresh held-out set per replicate so
that replicates are independent.

:func:`mix_losses` measures the second question: a model trained on ``total``
points of which a share ``r`` is real and the rest synthetic, drawn from a generator
fitted on its own real sample.

Closed forms (maximum-likelihood Gaussian, world ``N(mu, sigma^2)``; the loss does
not depend on ``mu`` or ``sigma`` beyond the constant ``ln sigma``, so ``N(0, 1)``
loses nothing):

- replace, after ``k`` fits: ``E[NLL] = ln(2 pi)/2 + (k/2)(psi((n-1)/2) + ln 2 - ln n)
  + a^k / 2 + a (a^k - 1) / (2 n (a - 1))`` with ``a = n / (n - 3)``
  (:func:`expected_nll_replace`);
- accumulate: the pooled scatter ``S_t`` obeys ``E[S_{t+1}] = E[S_t] (1 + (n-1)/N_t
  + 1/N_{t+1})`` with ``N_t = (t+1) n`` and ``E[S_0] = (n-1) sigma^2``; the fitted
  variance is ``S_t / N_t`` (:func:`expected_var_accumulate`).

Introduced in chapter 18, "Collapse or thrive, in full".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma

from .._validate import (check_budget, check_choice, check_finite_array, check_fraction_array, check_int,
                         check_int_array, check_positive)
from ..distributions import Normal
from ..families import NormalFit
from ..metrics import heldout_nll
from ..models import KDEFit
from ..schemes import Accumulate, AccumulateSubsample, Replace
from ..simulate import simulate

__all__ = ["WorkflowRun", "workflow_losses", "mix_losses", "added_losses", "expected_nll_replace",
           "expected_var_accumulate", "MODELS", "SCHEMES", "KAZDAN_FINDINGS"]

#: the two task settings of this module
MODELS = ("gaussian", "kde")
#: the three workflows, in the order the chapter compares them
SCHEMES = ("replace", "accumulate", "accumulate-subsample")

#: Kazdan et al.'s reported findings, in their words (arXiv:2410.16713v4, abstract).
#: They are experimental statements, made for all three of their task settings
#: (multivariate Gaussian estimation, kernel density estimation, language-model
#: fine-tuning); no number is attached to them in the abstract.
KAZDAN_FINDINGS = {
    "replace": ("the training-workflow of replacing all real data by successive generations of "
                "purely synthetic data indeed suffers model collapse in all task-settings studied"),
    "accumulate": ("although the proportion of real data eventually becomes zero, models remain "
                   "stable and their test losses do not diverge under this training-workflow"),
    "accumulate-subsample": ("we observe slow and gradual rather than explosive degradation of "
                             "test loss performance across generations"),
    "mix": "the context-dependent value of synthetic data",
}


def _family(model):
    model = check_choice("model", model, MODELS)
    return NormalFit(ddof=0) if model == "gaussian" else KDEFit("silverman")


def _scheme(scheme):
    scheme = check_choice("scheme", scheme, SCHEMES)
    return {"replace": Replace, "accumulate": Accumulate,
            "accumulate-subsample": AccumulateSubsample}[scheme]()


@dataclass
class WorkflowRun:
    """What :func:`workflow_losses` measured.

    Attributes
    ----------
    nll : ndarray of shape (generations + 1, replicates)
        Held-out negative log-likelihood (nats per point) of each generation's model.
    var : ndarray of shape (generations + 1, replicates)
        The fitted model's variance (for the KDE: data variance plus ``h**2``).
    train_size : ndarray of int, shape (generations + 1,)
        Points each generation trained on (grows under accumulate only).
    model, scheme : str
    n, replicates, heldout : int

    Introduced in chapter 18, "Collapse or thrive, in full".
    """

    nll: np.ndarray
    var: np.ndarray
    train_size: np.ndarray
    model: str = "gaussian"
    scheme: str = "replace"
    n: int = 0
    replicates: int = 0
    heldout: int = 0

    @property
    def generations(self):
        """Generation index of each row (``0 .. generations``)."""
        return np.arange(self.nll.shape[0])


def workflow_losses(model, n, generations, scheme="replace", replicates=100, heldout=200, seed=None):
    """Run one workflow for a Gaussian or a KDE and record the held-out loss per generation.

    Parameters
    ----------
    model : {"gaussian", "kde"}
        Maximum-likelihood normal, or Gaussian KDE with Silverman's bandwidth.
    n : int >= 4
        Real points of generation 0 and synthetic points drawn per generation (the
        training budget of replace and accumulate-subsample).
    generations : int >= 0
        Generations after generation 0.
    scheme : {"replace", "accumulate", "accumulate-subsample"}
    replicates : int >= 2
    heldout : int >= 1
        Held-out real points per replicate (a fresh set for each replicate).
    seed : int or None

    Returns
    -------
    WorkflowRun

    Introduced in chapter 18, "Collapse or thrive, in full".

    Examples
    --------
    >>> run = workflow_losses("gaussian", 20, 3, "accumulate", replicates=5, seed=0)
    >>> run.nll.shape, run.train_size.tolist()
    ((4, 5), [20, 40, 60, 80])
    """
    family = _family(model)
    n = check_int("n", n, minimum=4)
    generations = check_int("generations", generations, minimum=0)
    replicates = check_int("replicates", replicates, minimum=2)
    heldout = check_int("heldout", heldout, minimum=1)
    sch = _scheme(scheme)
    grows = scheme == "accumulate"
    largest = n * (generations + 1) if grows else n
    seed = None if seed is None else check_int("seed", seed, minimum=0)
    check_budget("replicates * heldout", replicates * heldout)
    check_budget("generations * replicates", (generations + 1) * replicates)
    check_budget("replicates * n (largest training set)", replicates * largest)
    if model == "kde":
        check_budget("replicates * heldout * largest training set", replicates * heldout * largest)
    rng = np.random.default_rng(seed)
    test = rng.standard_normal((replicates, heldout))
    run = simulate(Normal(0.0, 1.0), family, n, generations, scheme=sch, replicates=replicates,
                   seed=int(rng.integers(2**62)), keep=[],
                   metrics={"nll": lambda m: heldout_nll(m, test), "var": lambda m: np.asarray(m.var)})
    sizes = n * (np.arange(generations + 1) + 1) if grows else np.full(generations + 1, n)
    return WorkflowRun(nll=np.asarray(run.metrics["nll"], float), var=np.asarray(run.metrics["var"], float),
                       train_size=sizes, model=model, scheme=scheme, n=n, replicates=replicates,
                       heldout=heldout)


def mix_losses(model, total, real_fractions, replicates=100, heldout=200, source=None, seed=None):
    """Held-out loss of a model trained on ``total`` points, a share of them real, the rest synthetic.

    For each share ``r``: ``m = round(r * total)`` fresh real points, and ``total - m``
    synthetic points drawn from a generator fitted (same family) on its own real
    sample of ``source`` points, independent of the fresh ones; the model is fitted on
    the union and scored on held-out real points. ``r = 1`` is all real, ``r = 0`` all
    synthetic. The same generator, real draws and held-out set serve every share of a
    replicate (paired comparisons across shares).

    Parameters
    ----------
    model : {"gaussian", "kde"}
    total : int >= 4
        Training points of the final model (fixed across shares).
    real_fractions : sequence of float in [0, 1]
        Shares of real data; each must leave at least 2 real points or none.
    replicates : int >= 2
    heldout : int >= 1
    source : int >= 4, optional
        Real points behind the generator (default ``total``: the earlier model had
        the same budget).
    seed : int or None

    Returns
    -------
    ndarray of shape (len(real_fractions), replicates)

    Introduced in chapter 18, "Collapse or thrive, in full".

    Examples
    --------
    >>> mix_losses("gaussian", 20, [0.0, 1.0], replicates=3, seed=0).shape
    (2, 3)
    """
    family = _family(model)
    total = check_int("total", total, minimum=4)
    replicates = check_int("replicates", replicates, minimum=2)
    heldout = check_int("heldout", heldout, minimum=1)
    source = total if source is None else check_int("source", source, minimum=4)
    fracs = check_fraction_array("real_fractions", real_fractions)
    if fracs.ndim > 1:
        raise ValueError(f"real_fractions must be a number or a 1-D sequence, got shape {fracs.shape}")
    fracs = [float(f) for f in np.atleast_1d(fracs)]
    counts = [int(np.floor(f * total + 0.5)) for f in fracs]
    for f, m in zip(fracs, counts):
        if m == 1:
            raise ValueError(f"real_fractions: share {f} leaves 1 real point of {total}; use 0 or >= 2")
    seed = None if seed is None else check_int("seed", seed, minimum=0)
    check_budget("replicates * heldout", replicates * heldout)
    check_budget("replicates * source", replicates * source)
    check_budget("replicates * total", replicates * total)
    if model == "kde":
        check_budget("replicates * heldout * total", replicates * heldout * total)
    rng = np.random.default_rng(seed)
    test = rng.standard_normal((replicates, heldout))
    generator = family.fit(rng.standard_normal((replicates, source)))
    synthetic = generator.sample(total, rng)
    real = rng.standard_normal((replicates, total))
    out = np.empty((len(fracs), replicates))
    for i, m in enumerate(counts):
        data = np.concatenate([real[:, :m], synthetic[:, :total - m]], axis=1)
        out[i] = heldout_nll(family.fit(data), test)
    return out


def expected_nll_replace(fits, n):
    """Exact expected held-out NLL of the maximum-likelihood Gaussian after ``fits`` fits under replace.

    World ``N(mu, sigma^2)``, reported for ``sigma = 1`` (add ``ln sigma`` otherwise).
    With ``v_k`` the fitted variance and ``m_k`` the fitted mean after ``k`` fits, the
    expected loss on a fresh real point is ``ln(2 pi)/2 + E[ln v_k]/2 + E[1/v_k]/2 +
    E[(m_k - mu)^2 / v_k]/2``. Each fit multiplies the variance by an independent
    ``chi2(n-1)/n``, independent of that fit's mean, so ``E[ln v_k] = k (psi((n-1)/2) +
    ln 2 - ln n)``, ``E[1/v_k] = a^k`` with ``a = n/(n-3)``, and the mean's random walk
    gives ``E[(m_k - mu)^2/v_k] = sum_{j=1..k} a^(k-j+1) / n``.

    Parameters
    ----------
    fits : int or array_like of int >= 1
        Number of fits (1 is generation 0, trained on real data).
    n : int >= 4
        Points per fit.

    Returns
    -------
    float or ndarray

    Introduced in chapter 18, "Collapse or thrive, in full".
    """
    n = check_int("n", n, minimum=4)
    k = check_int_array("fits", fits, minimum=1).astype(float)
    a = n / (n - 3.0)
    drift = digamma((n - 1) / 2.0) + np.log(2.0) - np.log(n)
    mean_term = a * (a**k - 1.0) / ((a - 1.0) * n)
    out = 0.5 * np.log(2 * np.pi) + 0.5 * k * drift + 0.5 * a**k + 0.5 * mean_term
    return float(out) if out.ndim == 0 else out


def expected_var_accumulate(generations, n, sigma2=1.0):
    """Exact ``E[fitted variance]`` of the maximum-likelihood Gaussian under accumulate.

    Generation ``t`` fits the pool of ``N_t = (t + 1) n`` points (the real sample and
    ``t`` synthetic blocks). Adding a block of ``n`` points drawn from the current fit
    ``N(m_t, v_t)`` adds its own scatter (mean ``(n - 1) v_t``) and the between-block
    term ``N_t n / N_{t+1} (b - m_t)^2`` (mean ``N_t v_t / N_{t+1}``), so
    ``E[S_{t+1}] = E[S_t] (1 + (n - 1)/N_t + 1/N_{t+1})``, ``E[S_0] = (n - 1) sigma^2``
    and ``E[v_t] = E[S_t] / N_t``. Generation 0 gives ``(n - 1)/n sigma^2``, as
    replace does; afterwards the factor per generation tends to one and the
    expectation settles instead of shrinking geometrically.

    Parameters
    ----------
    generations : int >= 0
        Last generation; the result has one entry per generation ``0 .. generations``.
    n : int >= 2
    sigma2 : float > 0

    Returns
    -------
    ndarray of shape (generations + 1,)

    Introduced in chapter 18, "Collapse or thrive, in full".
    """
    generations = check_int("generations", generations, minimum=0)
    n = check_int("n", n, minimum=2)
    sigma2 = check_positive("sigma2", sigma2)
    check_budget("generations", generations + 1)
    t = np.arange(generations + 1)
    size = (t + 1.0) * n
    factors = 1.0 + (n - 1.0) / size[:-1] + 1.0 / size[1:]
    scatter = (n - 1.0) * sigma2 * np.concatenate([[1.0], np.cumprod(factors)])
    return scatter / size


def added_losses(model, real, ratios, replicates=100, heldout=200, seed=None):
    """Held-out loss of a model trained on ``real`` real points plus ``ratio * real`` synthetic ones.

    The synthetic points are drawn from a model of the same family fitted on those
    same ``real`` points (the self-generating loop's next step: no outside
    knowledge enters), and the final model is fitted on real and synthetic points
    together. ``ratio = 0`` is the real data alone. Every ratio of a replicate reuses
    the same real points, generator draws and held-out set (paired comparisons).

    Parameters
    ----------
    model : {"gaussian", "kde"}
    real : int >= 4
        Real points (fixed across ratios).
    ratios : sequence of float >= 0
        Synthetic points per real point; ``round(ratio * real)`` are added.
    replicates : int >= 2
    heldout : int >= 1
    seed : int or None

    Returns
    -------
    ndarray of shape (len(ratios), replicates)

    Introduced in chapter 18, "Collapse or thrive, in full".

    Examples
    --------
    >>> added_losses("kde", 10, [0, 1, 4], replicates=3, seed=0).shape
    (3, 3)
    """
    family = _family(model)
    real = check_int("real", real, minimum=4)
    replicates = check_int("replicates", replicates, minimum=2)
    heldout = check_int("heldout", heldout, minimum=1)
    r = check_finite_array("ratios", ratios, ndim=(0, 1))
    if np.any(r < 0):
        raise ValueError("ratios must be >= 0")
    counts = [int(np.floor(v * real + 0.5)) for v in np.atleast_1d(r)]
    seed = None if seed is None else check_int("seed", seed, minimum=0)
    check_budget("replicates * heldout", replicates * heldout)
    check_budget("replicates * (real + largest of ratios * real)", replicates * (real + max(counts)))
    if model == "kde":
        check_budget("replicates * heldout * largest training set", replicates * heldout * (real + max(counts)))
    rng = np.random.default_rng(seed)
    test = rng.standard_normal((replicates, heldout))
    data = rng.standard_normal((replicates, real))
    synthetic = family.fit(data).sample(max(counts), rng) if max(counts) > 0 else data[:, :0]
    out = np.empty((len(counts), replicates))
    for i, s in enumerate(counts):
        out[i] = heldout_nll(family.fit(np.concatenate([data, synthetic[:, :s]], axis=1)), test)
    return out
