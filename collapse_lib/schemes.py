"""Data schemes: how each generation's training data is composed.

Generation 0 trains on a real sample of size ``n``. For every later generation
``t`` a scheme combines draws from the previous model (``synthetic(k)``), fresh
draws from the world (``real(k)``) and whatever it keeps in its ``state``. Both
callables return arrays of shape ``(R, k)``, one row per replicate (or
``(R, k, d)`` for a world of ``d``-dimensional points, e.g. with
:class:`collapse_lib.SklearnFamily`; points always lie along axis 1).
:func:`collapse_lib.simulate` puts its random generator in ``state["rng"]``
for schemes that make random choices of their own (such as subsampling).

Each scheme says which paper's workflow it reproduces:

- :class:`Replace`: Shumailov et al. (2024), fully recursive, no real data.
- :class:`Anchor`: fresh real data mixed in (Shumailov et al.'s "10% of the
  original data"; Bertrand et al. 2024).
- :class:`Accumulate`: Gerstgrasser et al. (2024), keep everything.
- :class:`AccumulateSubsample`: Kazdan et al. (2024), keep everything, train on
  a fixed-size random subset.
- :class:`FixedReal`: Alemohammad et al. (2024), a fixed real set reused, the
  rest synthetic (same size as the anchor).
- :class:`Augment`: Alemohammad et al. (2024), the whole fixed real set plus a
  ratio of synthetic data.
- :class:`SyntheticShare`: web drift, the synthetic share follows a schedule.

Introduced in chapter 2, "A simulation you can run"; compared in chapter 7,
"What the Nature work does and does not show"; :class:`SyntheticShare` drives
chapter 9, "Web drift".
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validate import check_finite_array, check_fraction, check_real, check_rng

__all__ = [
    "Scheme", "Replace", "Anchor", "Accumulate", "AccumulateSubsample",
    "FixedReal", "Augment", "SyntheticShare", "subset_indices",
]


def _round_half_up(x):
    return int(np.floor(x + 0.5))


def _nearest_count(n, fraction):
    """The integer nearest to ``n * fraction`` (halves round up), free of float truncation.

    ``n * fraction`` is first rounded to 9 decimals, so a product that floating
    point puts a hair below an integer or a half (``100 * 0.55`` is
    ``55.00000000000001``, ``10 * (1 - 0.9)`` is ``0.9999999999999998``) counts
    as that integer or half.
    """
    return int(np.floor(round(n * fraction, 9) + 0.5))


def _distinct_sorted(rng, rows, size, k):
    """``k`` distinct indices in ``[0, size)`` per row, uniform over k-subsets, sorted.

    For ``size > 4 k``: draws ``k`` indices per row with replacement, then
    redraws only the duplicates until every row holds ``k`` distinct values.
    The distinct values of an iid uniform stream, taken until ``k`` of them
    have appeared, form a uniformly random k-subset, and each round only
    consumes more of that stream, so the result has exactly the law of sampling
    without replacement; a round redraws at most an eighth of what it drew
    before, in expectation. For ``size <= 4 k``: the ``k`` smallest of ``size``
    iid uniform keys (O(size) = O(k) work). Either way O(k log k) per row.
    """
    if size <= 4 * k:
        keys = rng.random((rows, size))
        idx = np.argpartition(keys, k - 1, axis=1)[:, :k] if k < size else np.argsort(keys, axis=1)
        idx.sort(axis=1)
        return idx
    idx = rng.integers(0, size, size=(rows, k))
    idx.sort(axis=1)
    # Each round looks only at the rows that still had a duplicate in the round before (a row
    # without one never gets one again), in increasing row order: the same draws, in the same
    # order, as scanning every row each round, at the cost of the few rows left.
    sub = idx
    active = None
    while k > 1:
        flat = np.flatnonzero(sub[:, 1:] == sub[:, :-1])   # row-major, as np.nonzero (and faster)
        if flat.size == 0:
            break
        r, c = np.divmod(flat, k - 1)
        sub[r, c + 1] = rng.integers(0, size, size=r.size)
        first = np.ones(r.size, dtype=bool)
        first[1:] = r[1:] != r[:-1]
        hit = r[first]                                   # rows with a duplicate, increasing
        sub = sub[hit]
        sub.sort(axis=1)
        active = hit if active is None else active[hit]
        idx[active] = sub
    return idx


def subset_indices(rng, rows, size, k):
    """Indices of a uniform random subset of ``k`` of ``size`` points, per row, in increasing order.

    Parameters
    ----------
    rng : numpy.random.Generator
    rows : int >= 1
        Independent subsets to draw (one per replicate).
    size : int >= 1
        Number of points to choose from.
    k : int in [0, size]
        Subset size.

    Returns
    -------
    ndarray of int, shape (rows, k)
        Each row a k-subset of ``range(size)``, uniform over all such subsets
        and independent across rows, sorted ascending.

    Notes
    -----
    Cost O(k log k) per row, independent of ``size`` when ``k <= size / 2``
    (otherwise it draws the ``size - k`` points left out, O(size) per row with
    ``size < 2 k``); never a random key per point of a large pool. Used by :class:`AccumulateSubsample` (chapter 7, "What the
    Nature work does and does not show").
    """
    from ._validate import check_budget, check_int

    check_rng(rng)
    rows = check_int("rows", rows, minimum=1)
    size = check_int("size", size, minimum=1)
    k = check_int("k", k, minimum=0, maximum=size)
    # at most 4 k values per row: the indices, or for size <= 4 k one random key per point
    check_budget("k", 4 * k)
    check_budget("rows", rows * 4 * k)
    return _subset_indices(rng, rows, size, k)


def _subset_indices(rng, rows, size, k):
    """:func:`subset_indices` without the checks, for callers whose arguments are valid by construction."""
    if k == size:
        return np.broadcast_to(np.arange(size), (rows, size)).copy()
    if 2 * k <= size:
        return _distinct_sorted(rng, rows, size, k)
    left_out = _distinct_sorted(rng, rows, size, size - k)
    keep = np.ones((rows, size), dtype=bool)
    keep[np.arange(rows)[:, None], left_out] = False
    return np.nonzero(keep)[1].reshape(rows, k)


class _Pool:
    """A growing ``(R, m)`` (or ``(R, m, d)``) pool of points with amortised appends.

    Points lie along axis 1; the capacity doubles when it runs out.
    """

    def __init__(self, first):
        self.size = first.shape[1]
        self.buf = np.empty((first.shape[0], max(2 * self.size, 1)) + first.shape[2:], dtype=first.dtype)
        self.buf[:, : self.size] = first

    def append(self, more):
        k = more.shape[1]
        if self.size + k > self.buf.shape[1]:
            cap = max(2 * self.buf.shape[1], self.size + k)
            buf = np.empty((self.buf.shape[0], cap) + self.buf.shape[2:], dtype=np.result_type(self.buf, more))
            buf[:, : self.size] = self.buf[:, : self.size]
            self.buf = buf
        self.buf[:, self.size: self.size + k] = more
        self.size += k
        return self.buf[:, : self.size]

    def take(self, idx):
        """Keep only rows ``idx``."""
        self.buf = self.buf[idx]
        return self.buf[:, : self.size]


class Scheme:
    """Base class of data schemes.

    A subclass implements :meth:`next_data`; it may override :meth:`initial`
    (to keep part of the generation-0 sample) and :meth:`check` (to validate
    itself against the run's ``n`` and ``generations``).
    """

    def initial(self, real_data, state):
        """Training data of generation 0 (default: the real sample itself)."""
        return real_data

    def next_data(self, t, n, synthetic, real, state):  # pragma: no cover - interface
        """Training data of generation ``t >= 1`` as an array ``(R, m)``."""
        raise NotImplementedError

    def check(self, n, generations):
        """Raise ValueError if the scheme cannot serve a run of this size (default: always fine)."""

    def take(self, state, idx, replicates):
        """Keep only replicates ``idx`` of ``state`` (arrays with a leading axis of ``replicates``).

        Called by :func:`collapse_lib.simulate` when some replicates stop
        (``stop=``). The default subsets every array of the state whose first
        axis has length ``replicates``, and the pools of the accumulating
        schemes.
        """
        for key, value in list(state.items()):
            if isinstance(value, _Pool):
                state[key] = value
                pool = value.take(idx)
                if "pool" in state:
                    state["pool"] = pool
            elif isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == replicates \
                    and key != "pool":
                state[key] = value[idx]

    def __repr__(self):
        return f"{type(self).__name__}()"


class Replace(Scheme):
    """Train each generation only on ``n`` samples of the previous model.

    The fully recursive, unanchored loop of Shumailov et al. (2024): no real
    data enters after generation 0. Introduced in chapter 2, "A simulation you
    can run".
    """

    def next_data(self, t, n, synthetic, real, state):
        return synthetic(n)


def _compose(*parts):
    """Concatenate parts given as arrays or ``(draw, k)`` pairs, skipping empty ones."""
    arrays = []
    for part in parts:
        if isinstance(part, tuple):
            draw, k = part
            if k:
                arrays.append(draw(k))
        elif part.shape[1]:
            arrays.append(part)
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=1)


class Anchor(Scheme):
    """Mix a fixed fraction of fresh real data into every generation.

    Parameters
    ----------
    fraction : float in [0, 1]
        Share of fresh real samples: ``n_real``, the integer nearest to
        ``n * fraction`` (a half rounds up), are fresh draws from the world
        and the other ``n - n_real`` (placed first) are synthetic.
        ``Anchor(0)`` is :class:`Replace`; ``Anchor(1)`` trains on real data only.

    Notes
    -----
    The Nature paper's language-model runs keep "10% of the original data";
    Bertrand et al. (2024) study the same mixing. Here the real part is
    *fresh* every generation; :class:`FixedReal` reuses one real set instead.

    The real count is rounded to the nearest integer, not truncated:
    ``int(n * (1 - fraction))`` loses points to floating point
    (``int(10 * (1 - 0.9))`` is 0, so ``Anchor(0.9)`` at ``n = 10`` would train
    on real data only). The source chapter's own procedure, which truncates,
    is reproduced separately by :mod:`collapse_lib.studies.source`.
    Introduced in chapter 2, "A simulation you can run".

    Examples
    --------
    >>> import collapse_lib as cl
    >>> cl.Anchor(0.9).split(10), cl.Anchor(0.55).split(100)
    ((1, 9), (45, 55))
    """

    def __init__(self, fraction):
        self.fraction = check_fraction("fraction", fraction)

    def split(self, n):
        """Return ``(n_synthetic, n_real)`` for ``n`` training samples (``n_real`` nearest to ``n * fraction``)."""
        n_real = _nearest_count(n, self.fraction)
        return n - n_real, n_real

    def next_data(self, t, n, synthetic, real, state):
        n_syn, n_real = self.split(n)
        parts = []
        if n_syn:
            parts.append(synthetic(n_syn))
        if n_real:
            parts.append(real(n_real))
        return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)

    def __repr__(self):
        return f"Anchor({self.fraction:g})"


class _Pooled(Scheme):
    """Shared part of the accumulating schemes: a pool that starts as the real sample."""

    def initial(self, real_data, state):
        state["_pool"] = _Pool(real_data)
        state["pool"] = real_data
        return real_data

    def _grow(self, n, synthetic, state):
        """Add ``n`` synthetic points to the pool and return the whole pool."""
        state["pool"] = state["_pool"].append(synthetic(n))
        return state["pool"]


class Accumulate(_Pooled):
    """Keep every sample seen so far and add ``n`` new synthetic ones each generation.

    Gerstgrasser et al. (2024): accumulating real and synthetic data, instead
    of replacing, keeps the error bounded. Generation ``t`` trains on
    ``(t + 1) * n`` samples, the real sample of generation 0 among them.
    Compared in chapter 7, "What the Nature work does and does not show".
    """

    def next_data(self, t, n, synthetic, real, state):
        return self._grow(n, synthetic, state)


class AccumulateSubsample(_Pooled):
    """Keep every sample seen so far, but train on a random subset of ``n`` of them.

    The "accumulate-subsample" workflow of Kazdan et al. (2024, "Collapse or
    Thrive?"): the pool grows as in :class:`Accumulate` (the generation-0 real
    sample plus ``n`` new synthetic samples per generation), while each model
    is trained on ``n`` points drawn uniformly without replacement from the
    pool, so the training budget stays fixed as the pool grows. Generation 0
    trains on the real sample itself.

    Notes
    -----
    The subset is drawn independently per replicate and per generation with
    the run's generator (``state["rng"]``), by :func:`subset_indices`: cost
    O(n log n) per replicate and generation, independent of the size of the
    pool (no random key per pooled point). The chosen points keep their pool
    order. The pool is kept point by point, so this scheme always runs on the
    points path of :func:`collapse_lib.simulate` and its memory grows with the
    generations.
    Compared in chapter 7, "What the Nature work does and does not show".
    """

    def next_data(self, t, n, synthetic, real, state):
        pool = self._grow(n, synthetic, state)
        rng = state.get("rng")
        if rng is None:
            raise ValueError("AccumulateSubsample needs state['rng'] (simulate provides it)")
        check_rng(rng)
        idx = _subset_indices(rng, pool.shape[0], pool.shape[1], n)  # a pool of size >= n, built here
        buf = state["_pool"].buf
        # gather from the pool's contiguous buffer by flat index (row r starts at r * capacity):
        # one take, several times faster than fancy indexing on the (R, size) view
        rows, cap = buf.shape[0], buf.shape[1]
        flat = buf.reshape((rows * cap,) + buf.shape[2:])
        idx += (np.arange(rows) * cap)[:, None]
        return np.take(flat, idx, axis=0)


class FixedReal(Scheme):
    """Reuse one fixed real set every generation; the rest is synthetic.

    The "fixed real data" loop of Alemohammad et al. (2024, "Self-Consuming
    Generative Models Go MAD"), sized like :class:`Anchor` so the two can be
    compared one for one: generation ``t >= 1`` trains on ``n - n_fixed``
    fresh synthetic samples of the previous model plus the *same* ``n_fixed``
    real points every time (the first ones of the generation-0 real sample),
    with ``n_fixed`` the integer nearest to ``n * fraction`` (a half rounds up). Anchor brings new real
    data each generation; this scheme never does. Compared in chapter 7, "What
    the Nature work does and does not show".

    Parameters
    ----------
    fraction : float in [0, 1]
        Share of the training set taken by the fixed real points.
        ``FixedReal(0)`` is :class:`Replace`; ``FixedReal(1)`` refits the
        generation-0 sample forever.
    """

    def __init__(self, fraction):
        self.fraction = check_fraction("fraction", fraction)

    def split(self, n):
        """Return ``(n_synthetic, n_fixed_real)`` for ``n`` training samples (rounded as :class:`Anchor`)."""
        n_fixed = _nearest_count(n, self.fraction)
        return n - n_fixed, n_fixed

    def initial(self, real_data, state):
        n = real_data.shape[1]
        state["fixed"] = real_data[:, : self.split(n)[1]]
        return real_data

    def next_data(self, t, n, synthetic, real, state):
        n_syn, _ = self.split(n)
        return _compose((synthetic, n_syn), state["fixed"])

    def __repr__(self):
        return f"FixedReal({self.fraction:g})"


class Augment(Scheme):
    """Keep the whole generation-0 real sample and add synthetic data to it.

    The "fixed real data" loop of Alemohammad et al. (2024) in its
    augmentation form: generation ``t >= 1`` trains on all ``n`` real points
    of generation 0 plus ``round(ratio * n)`` fresh synthetic samples of the
    previous model (``n + round(ratio * n)`` points in all). This is the
    common practice of augmenting a fixed real data set with generated data.
    Compared in chapter 7, "What the Nature work does and does not show".

    Parameters
    ----------
    ratio : float >= 0
        Synthetic points per real point. ``Augment(0)`` refits the real sample
        forever; ``Augment(1)`` doubles the training set with synthetic data.
    """

    def __init__(self, ratio=1.0):
        ratio = check_real("ratio", ratio)
        if ratio < 0:
            raise ValueError(f"ratio must be >= 0 (synthetic points per real point), got {ratio}")
        self.ratio = ratio

    def n_synthetic(self, n):
        """Number of synthetic points added to the ``n`` real ones."""
        return _round_half_up(self.ratio * n)

    def initial(self, real_data, state):
        state["fixed"] = real_data
        return real_data

    def next_data(self, t, n, synthetic, real, state):
        return _compose(state["fixed"], (synthetic, self.n_synthetic(n)))

    def __repr__(self):
        return f"Augment({self.ratio:g})"


class SyntheticShare(Scheme):
    """A synthetic share that follows a schedule over generations (web drift).

    Generation ``t >= 1`` trains on ``n`` points: ``round(n * s_t)`` synthetic
    samples of the previous model and fresh real samples for the rest, where
    ``s_t`` is the synthetic share of generation ``t``. This models a web
    whose share of generated content rises over time, each crawl mixing
    whatever is out there (generation 0 is all real).

    Parameters
    ----------
    schedule : array_like or callable
        Either values in [0, 1] with ``schedule[t - 1]`` the share of
        generation ``t`` (length at least the run's ``generations``), or a
        function ``schedule(t) -> share`` for ``t >= 1``.

    Notes
    -----
    Rounding is half up on the synthetic count, so a constant share ``s`` is
    :class:`Anchor` with fraction ``1 - s`` except when ``n * s`` falls exactly
    on a half (Anchor rounds the real count half up instead).

    Introduced in chapter 9, "Web drift".

    Examples
    --------
    >>> import collapse_lib as cl
    >>> drift = cl.SyntheticShare.linear(0.0, 0.9, generations=10)
    >>> [drift.share(t) for t in (1, 10)]
    [0.0, 0.9]
    """

    def __init__(self, schedule):
        if callable(schedule):
            self._fn, self.schedule = schedule, None
            return
        try:
            arr = check_finite_array("schedule", schedule, min_size=0)
        except TypeError as exc:
            raise TypeError(f"{exc} (schedule: an array of shares in [0, 1] or a callable t -> share)") from None
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"schedule must be a non-empty 1-D array (one share per generation), got shape {arr.shape}")
        if np.any((arr < 0) | (arr > 1)):
            raise ValueError("schedule values must be shares in [0, 1] (no NaN or inf)")
        self._fn, self.schedule = None, arr

    @classmethod
    def linear(cls, start, stop, generations):
        """A share rising (or falling) linearly from ``start`` at generation 1 to ``stop`` at ``generations``."""
        start, stop = check_fraction("start", start), check_fraction("stop", stop)
        if isinstance(generations, bool) or not isinstance(generations, numbers.Integral) or generations < 1:
            raise ValueError(f"generations must be an integer >= 1, got {generations!r}")
        return cls(np.linspace(start, stop, int(generations)))

    def share(self, t):
        """Synthetic share of generation ``t >= 1``, checked to lie in [0, 1]."""
        if self._fn is None:
            if t - 1 >= self.schedule.size:
                raise ValueError(f"schedule has {self.schedule.size} values, too short for generation {t}")
            return float(self.schedule[t - 1])
        value = self._fn(t)
        try:
            return check_fraction(f"schedule({t})", value)
        except TypeError:
            raise TypeError(f"schedule({t}) must return a real number in [0, 1], got {type(value).__name__}") from None

    def split(self, t, n):
        """Return ``(n_synthetic, n_real)`` of generation ``t``."""
        n_syn = min(n, _round_half_up(n * self.share(t)))
        return n_syn, n - n_syn

    def check(self, n, generations):
        if self.schedule is not None and self.schedule.size < generations:
            raise ValueError(
                f"schedule must have at least generations={generations} values (schedule[t - 1] is generation t), "
                f"got {self.schedule.size}")

    def next_data(self, t, n, synthetic, real, state):
        n_syn, n_real = self.split(t, n)
        return _compose((synthetic, n_syn), (real, n_real))

    def __repr__(self):
        if self.schedule is None:
            return f"SyntheticShare({getattr(self._fn, '__name__', 'callable')})"
        return f"SyntheticShare(len={self.schedule.size}, {self.schedule[0]:g}..{self.schedule[-1]:g})"
