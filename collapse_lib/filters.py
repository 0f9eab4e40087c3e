"""Filters: what is done to generated samples before they are trained on.

A filter draws ``k`` synthetic samples per replicate from a model, possibly
drawing more and keeping some. :class:`NoFilter` uses the model's output as it
is, the regime of the collapse results.

Introduced in chapter 2; measured in chapter 8, "Filtering, measured".
"""

from __future__ import annotations

__all__ = ["Filter", "NoFilter"]


class Filter:
    """Base class of filters on generated samples."""

    def draw(self, model, k, rng, world):  # pragma: no cover - interface
        """Return ``k`` filtered samples per replicate, shape ``(R, k)``."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class NoFilter(Filter):
    """Keep every generated sample (output used as-is)."""

    def draw(self, model, k, rng, world):
        return model.sample(k, rng)
