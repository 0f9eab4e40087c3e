"""Handwritten digits as the world: collapse you can look at.

The world is scikit-learn's ``load_digits()`` (1,797 real 8x8 images of the
digits 0-9, shipped with scikit-learn, so nothing is downloaded). Images are
handled in a fixed PCA space fitted once on the real digits; the model family is
a Gaussian mixture in that space (scikit-learn's :class:`~sklearn.mixture.GaussianMixture`),
refitted generation after generation on its own samples. A classifier fitted
once on the real digits says which digit each generated image looks like, so
that one can count which classes thin out and vanish, and how varied the
generated examples of each class remain.

Layout of data: a batch of ``R`` replicates of ``m`` codes in a PCA space of
dimension ``d`` is an array of shape ``(R, m, d)``. (The core
:func:`collapse_lib.simulate` handles one-dimensional samples ``(R, m)``;
:func:`simulate_digits` runs the same recursion for vector samples.)

Introduced in chapter 6, "Collapse you can see".
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from ._validate import check_int, check_rng
from .schemes import Anchor, Replace

__all__ = [
    "DigitWorld", "load_digit_world", "DigitMixture", "DigitMixtureFit",
    "DigitRun", "simulate_digits", "class_shares", "class_spread", "digit_mosaic",
]

#: Number of digit classes.
N_CLASSES = 10
#: Pixel intensities of ``load_digits`` run from 0 to this value.
MAX_INTENSITY = 16.0


@dataclass(frozen=True, eq=False)
class DigitWorld:
    """The real digits, their PCA space and a classifier fitted on them.

    Build it with :func:`load_digit_world`. Sampling draws real digits with
    replacement and returns their PCA codes. Introduced in chapter 6, "Collapse
    you can see".

    Attributes
    ----------
    images : ndarray, shape (1797, 64)
        Real images, intensities in [0, 16].
    labels : ndarray of int, shape (1797,)
        True digit of each image.
    codes : ndarray, shape (1797, d)
        The images in the PCA space.
    pca : sklearn.decomposition.PCA
        Fitted once on the real images (deterministic, full SVD).
    classifier : sklearn.linear_model.LogisticRegression
        Fitted once on the real images scaled to [0, 1] (deterministic lbfgs).
    classifier_accuracy : float
        Its accuracy on the real images it was fitted on.
    """

    images: np.ndarray
    labels: np.ndarray
    codes: np.ndarray
    pca: object
    classifier: object
    classifier_accuracy: float

    @property
    def dim(self):
        """Dimension ``d`` of the PCA space."""
        return self.codes.shape[1]

    def sample(self, size, rng):
        """Draw ``size`` real digits with replacement; return their codes ``(size, d)``."""
        size = check_int("size", size, minimum=0)
        check_rng(rng)
        return self.codes[rng.integers(0, len(self.codes), size)]

    def decode(self, codes):
        """Images ``(..., 64)`` from codes ``(..., d)``, intensities clipped to [0, 16]."""
        codes = np.asarray(codes, dtype=float)
        flat = codes.reshape(-1, self.dim)
        images = np.clip(self.pca.inverse_transform(flat), 0.0, MAX_INTENSITY)
        return images.reshape(codes.shape[:-1] + (64,))

    def classify(self, codes):
        """Digit (0-9) the real-digit classifier sees in each code; shape ``codes.shape[:-1]``."""
        codes = np.asarray(codes, dtype=float)
        images = self.decode(codes).reshape(-1, 64)
        with threadpool_limits(1):
            labels = self.classifier.predict(images / MAX_INTENSITY)
        return labels.reshape(codes.shape[:-1])


@functools.lru_cache(maxsize=4)
def load_digit_world(n_components=20):
    """Load the real digits as a :class:`DigitWorld` (offline, deterministic, cached).

    Parameters
    ----------
    n_components : int in [1, 64]
        Dimension of the PCA space the models live in. Twenty components keep
        most of the variance and give recognisable reconstructions.

    Returns
    -------
    DigitWorld

    Introduced in chapter 6, "Collapse you can see".
    """
    n_components = check_int("n_components", n_components, minimum=1, maximum=64)
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression

    images, labels = load_digits(return_X_y=True)
    images = images.astype(float)
    with threadpool_limits(1):
        pca = PCA(n_components=n_components, svd_solver="full").fit(images)
        classifier = LogisticRegression(max_iter=5000).fit(images / MAX_INTENSITY, labels)
        accuracy = float(classifier.score(images / MAX_INTENSITY, labels))
    return DigitWorld(images=images, labels=labels.astype(int), codes=pca.transform(images),
                      pca=pca, classifier=classifier, classifier_accuracy=accuracy)


class DigitMixture:
    """A batch of ``R`` Gaussian mixtures in the PCA space (one per replicate).

    Sampling is batched numpy driven by the caller's ``rng`` (scikit-learn's
    own ``sample`` is not used, so the run stays governed by one generator).
    Introduced in chapter 6, "Collapse you can see".

    Attributes
    ----------
    weights : ndarray (R, k)
    means : ndarray (R, k, d)
    chol : ndarray (R, k, d, d)
        Lower Cholesky factor of each component's covariance.
    """

    def __init__(self, weights, means, chol):
        self.weights = np.asarray(weights, float)
        self.means = np.asarray(means, float)
        self.chol = np.asarray(chol, float)
        self.batch_shape = self.weights.shape[:1]

    @property
    def replicates(self):
        """Number of replicates R."""
        return self.weights.shape[0]

    @property
    def total_variance(self):
        """Trace of each mixture's covariance, shape ``(R,)`` (exact)."""
        w = self.weights
        cov_trace = np.einsum("rkij,rkij->rk", self.chol, self.chol)
        mean = np.einsum("rk,rkd->rd", w, self.means)
        second = np.einsum("rk,rkd->r", w, self.means**2)
        return np.sum(w * cov_trace, axis=1) + second - np.sum(mean**2, axis=1)

    def sample(self, size, rng):
        """Draw ``size`` codes per replicate: shape ``(R, size, d)``."""
        size = check_int("size", size, minimum=0)
        check_rng(rng)
        r, k, d = self.means.shape
        cdf = np.cumsum(self.weights, axis=1)
        cdf /= cdf[:, -1:]
        u = rng.random((r, size))
        comp = np.minimum(np.sum(u[:, :, None] >= cdf[:, None, :], axis=2), k - 1)
        z = rng.standard_normal((r, size, d))
        rows = np.arange(r)[:, None]
        return self.means[rows, comp] + np.einsum("rnij,rnj->rni", self.chol[rows, comp], z)

    def __repr__(self):
        return f"DigitMixture(batch of {self.replicates}, k={self.weights.shape[1]}, d={self.means.shape[2]})"


class DigitMixtureFit:
    """Family: a Gaussian mixture fitted by EM (scikit-learn) to each replicate's codes.

    Parameters
    ----------
    n_components : int >= 1
        Mixture components (ten, one per digit, is a natural first choice;
        EM does not know the labels).
    covariance_type : {"full", "diag"}
        Covariance of each component.
    reg_covar : float > 0
        Added to the covariance diagonals (scikit-learn's regulariser).

    Notes
    -----
    ``fit`` loops over the replicates in Python (scikit-learn fits one mixture
    at a time); runs in the book use a handful of replicates. Each fit is
    seeded from the caller's ``rng``, so results are reproducible. Fits run
    on one thread (``threadpoolctl``): on a small shared machine, BLAS and
    OpenMP thread pools oversubscribe and slow tiny fits by an order of
    magnitude. EM's
    convergence warnings are silenced: a mixture refitted on its own samples
    may legitimately end with near-empty components.

    Introduced in chapter 6, "Collapse you can see".
    """

    def __init__(self, n_components=10, covariance_type="full", reg_covar=1e-6, max_iter=100):
        self.n_components = check_int("n_components", n_components, minimum=1)
        if covariance_type not in ("full", "diag"):
            raise ValueError(f"covariance_type must be 'full' or 'diag', got {covariance_type!r}")
        self.covariance_type = covariance_type
        if not (isinstance(reg_covar, (int, float)) and reg_covar > 0):
            raise ValueError(f"reg_covar must be a number > 0, got {reg_covar!r}")
        self.reg_covar = float(reg_covar)
        self.max_iter = check_int("max_iter", max_iter, minimum=1)

    def fit(self, data, rng):
        """Fit one mixture per replicate to ``data`` of shape ``(R, m, d)``.

        Returns a :class:`DigitMixture`.
        """
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.mixture import GaussianMixture

        check_rng(rng)
        data = np.asarray(data, dtype=float)
        if data.ndim != 3:
            raise ValueError(f"data must have shape (R, m, d), got shape {data.shape}")
        if data.shape[1] < self.n_components:
            raise ValueError(f"data must hold at least n_components={self.n_components} samples per replicate, got {data.shape[1]}")
        if not np.all(np.isfinite(data)):
            raise ValueError("data must not contain NaN or inf")
        r, _, d = data.shape
        k = self.n_components
        weights, means, chol = np.empty((r, k)), np.empty((r, k, d)), np.zeros((r, k, d, d))
        seeds = rng.integers(0, 2**31 - 1, size=r)
        for i in range(r):
            gm = GaussianMixture(k, covariance_type=self.covariance_type, reg_covar=self.reg_covar,
                                 max_iter=self.max_iter, random_state=int(seeds[i]))
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore", ConvergenceWarning)
                gm.fit(data[i])
            weights[i] = gm.weights_
            means[i] = gm.means_
            if self.covariance_type == "full":
                chol[i] = np.linalg.cholesky(gm.covariances_)
            else:
                chol[i] = np.sqrt(gm.covariances_)[:, :, None] * np.eye(d)
        return DigitMixture(weights, means, chol)

    def __repr__(self):
        return f"DigitMixtureFit(n_components={self.n_components}, covariance_type={self.covariance_type!r})"


@dataclass
class DigitRun:
    """Result of :func:`simulate_digits` (chapter 6, "Collapse you can see").

    Attributes
    ----------
    models : list of DigitMixture
        ``models[t]`` was fitted on generation ``t``'s training data.
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

    def spread(self):
        """Per-class spread of the generated samples: ``(G + 1, R, 10)`` (see :func:`class_spread`)."""
        return class_spread(self.world, self.samples)


def _split(scheme, n):
    if scheme is None or isinstance(scheme, Replace):
        return n, 0
    if isinstance(scheme, Anchor):
        return scheme.split(n)
    raise TypeError(f"scheme must be cl.Replace() or cl.Anchor(fraction), got {scheme!r}")


def simulate_digits(world, family, n, generations, scheme=None, replicates=3, seed=None, n_eval=500):
    """Refit a digit model on its own samples, generation after generation.

    The same recursion as :func:`collapse_lib.simulate`, for vector samples:
    generation 0 fits ``family`` to ``n`` real digits (drawn with replacement);
    generation ``t`` fits it to samples of ``models[t - 1]``, with a share of
    fresh real digits if ``scheme`` is ``cl.Anchor(fraction)``.

    Parameters
    ----------
    world : DigitWorld
    family : DigitMixtureFit (or any object with ``fit(data, rng)``)
    n : int >= family.n_components
        Training digits per generation.
    generations : int >= 0
    scheme : cl.Replace or cl.Anchor, optional
        How training data is composed (default: replace, no real data after generation 0).
    replicates : int >= 1
        Independent runs (fitted one after the other; keep it small).
    seed : int or None
        Seed of the one generator behind every draw and every EM initialisation.
    n_eval : int >= 1
        Codes drawn from each model for measurement (not used for training).

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
    n_syn, n_real = _split(scheme, n)
    rng = np.random.default_rng(seed)

    def real(k):
        return world.sample(replicates * k, rng).reshape(replicates, k, world.dim)

    model = family.fit(real(n), rng)
    models, samples = [model], [model.sample(n_eval, rng)]
    for _ in range(generations):
        parts = []
        if n_syn:
            parts.append(model.sample(n_syn, rng))
        if n_real:
            parts.append(real(n_real))
        model = family.fit(np.concatenate(parts, axis=1), rng)
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


def digit_mosaic(images, ncols, pad=1):
    """Tile 8x8 images into one 2-D array for a single ``imshow``.

    Parameters
    ----------
    images : array_like, shape (m, 64) or (m, 8, 8)
        Intensities (0-16 for ``load_digits``).
    ncols : int >= 1
        Images per row; rows are filled left to right, empty cells stay 0.
    pad : int >= 0
        Blank pixels between images.

    Returns
    -------
    ndarray, shape (rows * (8 + pad) - pad, ncols * (8 + pad) - pad)

    Introduced in chapter 6, "Collapse you can see".
    """
    images = np.asarray(images, dtype=float).reshape(-1, 8, 8)
    ncols = check_int("ncols", ncols, minimum=1)
    pad = check_int("pad", pad, minimum=0)
    rows = max(1, -(-len(images) // ncols))
    step = 8 + pad
    out = np.zeros((rows * step - pad, ncols * step - pad))
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        out[r * step:r * step + 8, c * step:c * step + 8] = img
    return out
