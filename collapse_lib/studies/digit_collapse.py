"""Collapse you can look at: a digit model refitted on its own samples, and what it loses.

:func:`simulate_digits` refits a Gaussian mixture of PCA codes
(:class:`~collapse_lib.GaussianMixtureFit` with a k-means start, warm-started
from the previous generation's model) generation after generation on its own samples of the real digits
(:class:`~collapse_lib.worlds.digits.DigitWorld`), optionally with fresh real
digits; the classifier fitted once on the real digits then counts which
classes thin out and vanish (:func:`class_shares`) and how varied each class's
examples remain (:func:`class_spread`).

Chapter 6 reaches this module as ``cl.digits`` (``from collapse_lib import
digits as D``), which also holds the world's names (``D.load_digit_world``,
``D.digit_mosaic``); the model is the library's own ``cl.GaussianMixtureFit``.

Introduced in chapter 6, "Collapse you can see".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import check_bool, check_budget, check_int
from ..schemes import Anchor, Replace
from ..worlds.digits import N_CLASSES, DigitWorld, digit_mosaic, load_digit_world  # noqa: F401  (cl.digits)

__all__ = ["DigitRun", "simulate_digits", "class_shares", "class_spread"]


@dataclass
class DigitRun:
    """Result of :func:`simulate_digits` (chapter 6, "Collapse you can see").

    Attributes
    ----------
    models : list of MultivariateNormalMixture
        ``models[t]`` (a batch of ``R`` mixtures) was fitted on generation ``t``'s training data.
    samples : ndarray, shape (generations + 1, R, n_eval, d)
        ``n_eval`` codes drawn from each generation's model, for measurement.
    world, n, scheme, replicates, seed
        The arguments of the run.
    """

    models: list
    samples: np.ndarray
    world: DigitWorld
    n: int
    scheme: object
    replicates: int
    seed: object = None
    extras: dict = field(default_factory=dict)

    def shares(self):
        """Share of each digit class among the generated samples: ``(G + 1, R, 10)``."""
        return class_shares(self.world, self.samples)

    def heterozygosity(self):
        """Class heterozygosity ``1 - sum_c s_c^2`` of each model, unbiased: ``(G + 1, R)``.

        Estimated from the ``n_eval`` classified samples per model: the plug-in
        ``1 - sum_c s_hat_c^2`` is low by a factor ``1 - 1/n_eval`` on average,
        which is corrected, so the estimate can be set against the
        Wright-Fisher expectation of chapter 5.
        """
        m = self.samples.shape[2]
        if m < 2:
            raise ValueError("heterozygosity needs n_eval >= 2 samples per model")
        return (1.0 - np.sum(self.shares() ** 2, axis=-1)) * m / (m - 1)

    def spread(self):
        """Per-class spread of the generated samples: ``(G + 1, R, 10)`` (see :func:`class_spread`)."""
        return class_spread(self.world, self.samples)


def _split(scheme, n):
    if scheme is None or isinstance(scheme, Replace):
        return n, 0
    if isinstance(scheme, Anchor):
        return scheme.split(n)
    raise TypeError(f"scheme must be cl.Replace() or cl.Anchor(fraction), got {scheme!r}")


def simulate_digits(world, family, n, generations, scheme=None, replicates=3, seed=None, n_eval=500,
                    warm_start=False):
    """Refit a digit model on its own samples, generation after generation.

    The same recursion as :func:`collapse_lib.simulate`, for vector samples:
    generation 0 fits ``family`` to ``n`` real digits (drawn with replacement);
    generation ``t`` fits it to samples of ``models[t - 1]``, with a share of
    fresh real digits if ``scheme`` is ``cl.Anchor(fraction)``.

    Parameters
    ----------
    world : DigitWorld
    family : GaussianMixtureFit (or any object with ``fit(data, rng=...)``)
        Fitted to every generation's codes, shape ``(R, n, d)``, with the
        run's generator as ``rng`` (it draws a k-means start,
        ``init="kmeans"``).
    n : int >= family.n_components
        Training digits per generation.
    generations : int >= 0
    scheme : cl.Replace or cl.Anchor, optional
        How training data is composed (default: replace, no real data after generation 0).
    replicates : int >= 1
        Independent runs, fitted together as one batch.
    seed : int or None
        Seed of the one generator behind every draw and every EM initialisation.
    n_eval : int >= 1
        Codes drawn from each model for measurement (not used for training).
    warm_start : bool
        If True, generation ``t``'s EM starts from ``models[t - 1]``
        (``family.fit(data, rng=..., init=previous model)``), as a pipeline
        that retrains its last model does; generation 0 uses the family's own
        start. The result is still EM's fit to the new data, reached in fewer
        steps.

    Returns
    -------
    DigitRun

    Introduced in chapter 6, "Collapse you can see".
    """
    _check_world(world)
    n = check_int("n", n, minimum=max(1, getattr(family, "n_components", 1)))
    generations = check_int("generations", generations, minimum=0)
    replicates = check_int("replicates", replicates, minimum=1)
    n_eval = check_int("n_eval", n_eval, minimum=1)
    seed = None if seed is None else check_int("seed", seed, minimum=0)
    if not callable(getattr(family, "fit", None)):
        raise TypeError(f"family must be a model family with fit(data, rng=...) (e.g. cl.GaussianMixtureFit), "
                        f"got {type(family).__name__}")
    warm_start = check_bool("warm_start", warm_start)
    check_budget("replicates * n", replicates * n * world.dim)
    check_budget("generations * replicates * n_eval", (generations + 1) * replicates * n_eval * world.dim)
    n_syn, n_real = _split(scheme, n)
    rng = np.random.default_rng(seed)

    def real(k):
        return world.sample(replicates * k, rng).reshape(replicates, k, world.dim)

    model = family.fit(real(n), rng=rng)
    models, samples = [model], [model.sample(n_eval, rng)]
    for _ in range(generations):
        parts = []
        if n_syn:
            parts.append(model.sample(n_syn, rng))
        if n_real:
            parts.append(real(n_real))
        data = np.concatenate(parts, axis=1)
        model = family.fit(data, rng=rng, init=model) if warm_start else family.fit(data, rng=rng)
        models.append(model)
        samples.append(model.sample(n_eval, rng))
    return DigitRun(models=models, samples=np.stack(samples), world=world, n=n, scheme=scheme,
                    replicates=replicates, seed=seed)


def _check_world(world):
    if not isinstance(world, DigitWorld):
        raise TypeError(f"world must be a DigitWorld (from load_digit_world), got {type(world).__name__}")


def _check_codes(world, codes):
    try:
        codes = np.asarray(codes, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"codes must be an array of PCA codes, shape (..., m, {world.dim})") from None
    if codes.ndim < 2 or codes.shape[-1] != world.dim:
        raise ValueError(f"codes must have shape (..., m, {world.dim}), got {codes.shape}")
    return codes


def class_shares(world, codes):
    """Share of codes the real-digit classifier assigns to each digit.

    Parameters
    ----------
    world : DigitWorld
    codes : array_like, shape (..., m, d)

    Returns
    -------
    ndarray, shape (..., 10)

    Introduced in chapter 6, "Collapse you can see".
    """
    _check_world(world)
    labels = world.classify(_check_codes(world, codes))
    onehot = labels[..., None] == np.arange(N_CLASSES)
    return onehot.mean(axis=-2)


def class_spread(world, codes):
    """Per-class spread: root-mean-square distance of a class's samples to their centroid.

    Distances are measured in the PCA space (the same as pixel distances of
    the reconstructed images, in intensity units). A class with fewer than
    two samples has spread 0: a vanished class has no variety left.

    Parameters
    ----------
    world : DigitWorld
    codes : array_like, shape (..., m, d)

    Returns
    -------
    ndarray, shape (..., 10)

    Introduced in chapter 6, "Collapse you can see".
    """
    _check_world(world)
    codes = _check_codes(world, codes)
    labels = world.classify(codes)
    onehot = (labels[..., None] == np.arange(N_CLASSES)).astype(float)  # (..., m, 10)
    counts = onehot.sum(axis=-2)  # (..., 10)
    safe = np.maximum(counts, 1.0)
    sums = np.einsum("...mc,...md->...cd", onehot, codes)
    centroids = sums / safe[..., None]
    sq = np.einsum("...mc,...md->...c", onehot, codes**2)
    within = sq / safe - np.sum(centroids**2, axis=-1)
    return np.where(counts >= 2, np.sqrt(np.maximum(within, 0.0)), 0.0)
