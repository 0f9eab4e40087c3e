"""Handwritten digits as the world: real 8x8 images, a fixed PCA space and a classifier.

The world is scikit-learn's ``load_digits()`` (1,797 real 8x8 images of the
digits 0-9, shipped with scikit-learn, so nothing is downloaded). Images are
handled in a PCA space fitted once on the real digits, and a classifier fitted
once on them says which digit an image looks like. The model refitted on its
own samples is a :class:`collapse_lib.GaussianMixtureFit` of the codes; the
run and what it measures are in :mod:`collapse_lib.studies.digit_collapse`.

Introduced in chapter 6, "Collapse you can see".
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from .._validate import check_budget, check_finite_array, check_int, check_rng

__all__ = ["DigitWorld", "load_digit_world", "digit_mosaic"]

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
        check_budget("size", size * self.dim)
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
    # checked before the cache: a list or an array would otherwise fail as "unhashable"
    return _load_digit_world(check_int("n_components", n_components, minimum=1, maximum=64))


@functools.lru_cache(maxsize=4)
def _load_digit_world(n_components):
    """The cached work of :func:`load_digit_world` (``n_components`` already checked)."""
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

    A mosaic above the element budget (``collapse_lib._validate.set_element_budget``)
    is refused with a ValueError naming ``ncols`` or ``pad``, before allocating.

    Introduced in chapter 6, "Collapse you can see".
    """
    images = check_finite_array("images", images, ndim=(2, 3), min_size=0)
    if images.shape[1:] not in ((64,), (8, 8)):
        raise ValueError(f"images must have shape (m, 64) or (m, 8, 8), got {images.shape}")
    images = images.reshape(-1, 8, 8)
    ncols = check_int("ncols", ncols, minimum=1)
    pad = check_int("pad", pad, minimum=0)
    rows = max(1, -(-len(images) // ncols))
    step = 8 + pad
    check_budget("pad", step * step)                           # one padded cell
    check_budget("ncols (times 8 + pad)", ncols * step)        # one row of the mosaic
    check_budget("images, ncols and pad (the mosaic's pixels)", (rows * step - pad) * (ncols * step - pad))
    out = np.zeros((rows * step - pad, ncols * step - pad))
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        out[r * step:r * step + 8, c * step:c * step + 8] = img
    return out
