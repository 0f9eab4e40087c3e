"""Data schemes: how each generation's training data is composed.

Generation 0 trains on a real sample of size ``n``. For every later generation
``t`` a scheme combines draws from the previous model (``synthetic(k)``), fresh
draws from the world (``real(k)``) and whatever it keeps in its ``state``. Both
callables return arrays of shape ``(R, k)``, one row per replicate.

Introduced in chapter 2, "A simulation you can run"; compared in chapter 7.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_fraction

__all__ = ["Scheme", "Replace", "Anchor", "Accumulate"]


class Scheme:
    """Base class of data schemes."""

    def initial(self, real_data, state):
        """Training data of generation 0 (default: the real sample itself)."""
        return real_data

    def next_data(self, t, n, synthetic, real, state):  # pragma: no cover - interface
        """Training data of generation ``t >= 1`` as an array ``(R, m)``."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Replace(Scheme):
    """Train each generation only on ``n`` samples of the previous model.

    The fully recursive, unanchored loop of Shumailov et al. (2024): no real
    data enters after generation 0.
    """

    def next_data(self, t, n, synthetic, real, state):
        return synthetic(n)


class Anchor(Scheme):
    """Mix a fixed fraction of fresh real data into every generation.

    Parameters
    ----------
    fraction : float in [0, 1]
        Share of fresh real samples. Following the source chapter's procedure,
        the first ``int(n * (1 - fraction))`` samples are synthetic and the
        remaining ``n - int(n * (1 - fraction))`` are fresh draws from the world.
        ``Anchor(0)`` is :class:`Replace`; ``Anchor(1)`` trains on real data only.

    Notes
    -----
    The Nature paper's language-model runs keep "10% of the original data";
    Bertrand et al. (2024) study the same mixing.
    """

    def __init__(self, fraction):
        self.fraction = check_fraction("fraction", fraction)

    def split(self, n):
        """Return ``(n_synthetic, n_real)`` for ``n`` training samples."""
        n_syn = int(n * (1.0 - self.fraction))
        return n_syn, n - n_syn

    def next_data(self, t, n, synthetic, real, state):
        n_syn, n_real = self.split(n)
        parts = []
        if n_syn:
            parts.append(synthetic(n_syn))
        if n_real:
            parts.append(real(n_real))
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=-1)

    def __repr__(self):
        return f"Anchor({self.fraction:g})"


class Accumulate(Scheme):
    """Keep every sample seen so far and add ``n`` new synthetic ones each generation.

    Gerstgrasser et al. (2024): accumulating real and synthetic data, instead
    of replacing, keeps the error bounded. Generation ``t`` trains on
    ``(t + 1) * n`` samples, the real sample of generation 0 among them.
    """

    def initial(self, real_data, state):
        state["pool"] = real_data
        return real_data

    def next_data(self, t, n, synthetic, real, state):
        state["pool"] = np.concatenate([state["pool"], synthetic(n)], axis=-1)
        return state["pool"]
