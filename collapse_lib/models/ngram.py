"""An n-gram language model family, and decoding (temperature, top-k, top-p) as a filter.

Text is a *token stream*: integer ids in ``[0, V)``, sentences separated by the
end token ``0`` (:data:`END`). A stream always starts at the start of a
sentence, and the context of a token never reaches back past the previous
``END``: a sentence's first words see ``END`` padding, as if each sentence
were written on its own (so sentences are independent given the model).

:class:`NGramFit` counts the n-grams (``order`` 1 to 3) of a batch of streams
``(R, n)`` and returns an :class:`NGramModel` holding ``R`` models: its counts
are kept sparse (sorted integer keys), so memory grows with the n-grams seen,
not with ``V ** order``. The model's next-token distribution is interpolated
Witten-Bell smoothing (Witten & Bell 1991; Chen & Goodman 1999):

    p_1(w) = (1 - floor) c(w) / N + floor / V
    p_j(w | h) = lam(h) c(h, w) / c(h) + (1 - lam(h)) p_{j-1}(w | h'),
    lam(h) = c(h) / (c(h) + T(h)),

for a context ``h`` of ``j - 1`` tokens seen ``c(h) > 0`` times and followed
by ``T(h)`` distinct tokens (``h'`` drops its oldest token); an unseen context
passes everything to the shorter one. ``smoothing="none"`` sets ``lam = 1``
for every seen context (maximum likelihood where the context was seen). The
uniform ``floor`` keeps every token possible, so held-out text has a finite
perplexity; it is also a small rate at which the model writes a random token.

:class:`Decoding` holds the sampling settings every deployed generator has:
a temperature, top-k and top-p (nucleus) truncation. Passed as
``simulate(..., filter=cl.Decoding(...))`` it is the filter of the
recursion: each generation's text is written with those settings.

Introduced in chapter 13, "A language model in miniature".
"""

from __future__ import annotations

import numbers

import numpy as np

from .._validate import check_fraction, check_int, check_real, check_rng
from ..distributions import Distribution
from ..families import Family
from ..filters import Filter

__all__ = ["END", "Decoding", "NGramFit", "NGramModel"]

#: id of the end-of-sentence token (also the padding before a sentence's first word)
END = 0
_SMOOTHINGS = ("witten-bell", "none")
_TINY = np.finfo(float).tiny
_REL_TOL = 1e-12  # cumulative sums in floating point: "reaches p" allows this relative shortfall


# ----------------------------------------------------------------------------- decoding
class Decoding(Filter):
    """Sampling settings of a generator: temperature, then top-k, then top-p.

    Applied to a next-token distribution ``p`` in that order (the order of
    common implementations):

    1. *temperature* ``T``: ``q`` proportional to ``p ** (1 / T)``; ``T = 1``
       leaves ``p`` unchanged, ``T < 1`` sharpens it, ``T > 1`` flattens it.
       ``T = 0`` is greedy decoding: only the most probable token(s).
    2. *top-k*: keep the ``k`` most probable tokens of ``q``.
    3. *top-p* (nucleus, Holtzman et al. 2020): keep the smallest set of most
       probable tokens whose mass (after top-k, renormalised) reaches ``p``.

    The kept tokens are renormalised. Ties are kept together: a token as
    probable as the last one kept is kept too, so the rule never depends on
    an arbitrary order among equal probabilities (top-k may then keep more
    than ``k``; with distinct probabilities it keeps exactly ``k``).
    Zero-probability tokens are never kept.

    Parameters
    ----------
    temperature : float, 0 or in [0.05, 100]
    top_k : int >= 1 or None
        None keeps every token.
    top_p : float in (0, 1] or None
        None (or 1) keeps every token.

    Notes
    -----
    As a filter of :func:`collapse_lib.simulate` it draws each generation's
    text from the model with these settings (``model.sample(k, rng,
    decoding=self)``); the model's own probabilities (its perplexity) are
    not changed, only what it writes. Every setting other than ``T = 1`` with
    no truncation favours probable tokens, like chapter 8's quality filter
    favours typical samples; ``T > 1`` does the opposite.

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> cl.Decoding(top_k=2).apply(np.array([0.5, 0.3, 0.2]))
    array([0.625, 0.375, 0.   ])

    Introduced in chapter 13, "A language model in miniature".
    """

    def __init__(self, temperature=1.0, top_k=None, top_p=None):
        t = check_real("temperature", temperature)
        if t != 0 and not 0.05 <= t <= 100:
            raise ValueError(f"temperature must be 0 (greedy) or in [0.05, 100], got {t}")
        if top_k is not None:
            top_k = check_int("top_k", top_k, minimum=1)
        if top_p is not None:
            top_p = check_fraction("top_p", top_p)
            if top_p == 0:
                raise ValueError("top_p must be in (0, 1] (the share of probability kept), got 0")
        self.temperature, self.top_k, self.top_p = t, top_k, top_p

    @property
    def is_identity(self):
        """True when the settings leave the distribution unchanged (T = 1, no truncation)."""
        return self.temperature == 1 and self.top_k is None and self.top_p in (None, 1.0)

    def _effective(self):
        """(T, k, p) with greedy written as T = 1, k = 1 (ties kept: the argmax set, uniformly)."""
        if self.temperature == 0:
            return 1.0, 1, None
        p = None if self.top_p in (None, 1.0) else self.top_p
        return self.temperature, self.top_k, p

    def apply(self, probs):
        """The decoded distribution of each row of ``probs`` (last axis: tokens).

        Parameters
        ----------
        probs : array_like, shape (..., V)
            Probabilities (non-negative, each row summing to 1).

        Returns
        -------
        ndarray, same shape
        """
        p = np.asarray(probs, dtype=float)
        if p.ndim < 1 or p.shape[-1] < 1:
            raise ValueError(f"probs must have a last axis of tokens, got shape {p.shape}")
        if not np.all(np.isfinite(p)) or np.any(p < 0):
            raise ValueError("probs must be finite and non-negative")
        if not np.allclose(p.sum(axis=-1), 1.0, atol=1e-8):
            raise ValueError("probs must sum to 1 along the last axis")
        t, k, top_p = self._effective()
        with np.errstate(divide="ignore", under="ignore"):
            q = np.where(p > 0, np.exp(np.log(np.where(p > 0, p, 1.0)) / t), 0.0)
        # scale each row so that its largest value is 1 (no underflow of the whole row)
        q = q / q.max(axis=-1, keepdims=True)
        keep = q > 0
        order = -np.sort(-q, axis=-1)
        if k is not None and k < p.shape[-1]:
            kth = order[..., k - 1:k]
            keep &= q >= kth
        if top_p is not None:
            kept = np.where(keep, q, 0.0)
            srt = -np.sort(-kept, axis=-1)
            cum = np.cumsum(srt, axis=-1)
            target = top_p * cum[..., -1:] * (1 - _REL_TOL)
            first = np.argmax(cum >= target, axis=-1)[..., None]
            threshold = np.take_along_axis(srt, first, axis=-1)
            keep &= q >= threshold
        q = np.where(keep, q, 0.0)
        return q / q.sum(axis=-1, keepdims=True)

    def draw(self, model, k, rng, world=None):
        """``k`` tokens per replicate written by ``model`` with these settings (a filter's protocol)."""
        return model.sample(k, rng, decoding=self)

    def __repr__(self):
        parts = [f"temperature={self.temperature:g}"]
        if self.top_k is not None:
            parts.append(f"top_k={self.top_k}")
        if self.top_p is not None:
            parts.append(f"top_p={self.top_p:g}")
        return f"Decoding({', '.join(parts)})"


# ----------------------------------------------------------------------------- helpers
def _find(keys, query):
    """Index of each query in the sorted ``keys`` and whether it is there."""
    idx = np.searchsorted(keys, query)
    if keys.size == 0:
        return np.zeros(np.shape(query), dtype=np.int64), np.zeros(np.shape(query), dtype=bool)
    safe = np.minimum(idx, keys.size - 1)
    return safe, keys[safe] == query


def _histories(data):
    """Padded one- and two-token histories of every position of streams ``(R, n)``."""
    h1 = np.empty_like(data)
    h1[:, 0] = END
    h1[:, 1:] = data[:, :-1]
    h2 = np.empty_like(data)
    h2[:, :2] = END
    h2[:, 2:] = data[:, :-2]
    h2[h1 == END] = END
    return h1, h2


def _count_ge(vals, lo, hi, x):
    """Per query: how many of ``vals[lo:hi]`` (each segment sorted decreasing) are >= ``x``.

    A binary search for all queries at once; queries whose segment is settled
    drop out, so short segments cost little however long the longest one is.
    """
    a = np.array(lo, dtype=np.int64, copy=True)
    b = np.array(hi, dtype=np.int64, copy=True)
    if a.size == 0 or vals.size == 0:
        return np.zeros(a.shape, dtype=np.int64)
    x = np.broadcast_to(x, a.shape)
    last = vals.size - 1
    todo = np.flatnonzero(a < b)
    while todo.size:
        aa, bb = a[todo], b[todo]
        mid = (aa + bb) // 2
        ok = vals[np.minimum(mid, last)] >= x[todo]
        aa = np.where(ok, mid + 1, aa)
        bb = np.where(ok, bb, mid)
        a[todo], b[todo] = aa, bb
        todo = todo[aa < bb]
    return a - np.asarray(lo, dtype=np.int64)


class _Table:
    """The counts of one order: sorted n-gram keys and their contexts (all replicates)."""

    def __init__(self, keys, counts, vocab, smoothing):
        self.keys, self.counts = keys, counts
        self.words = keys % vocab
        self.cum = np.cumsum(counts)
        ctx = keys // vocab
        if keys.size:
            starts = np.flatnonzero(np.concatenate([[True], ctx[1:] != ctx[:-1]]))
        else:
            starts = np.zeros(0, dtype=np.int64)
        self.ctx = ctx[starts]
        self.start = starts
        self.stop = np.concatenate([starts[1:], [keys.size]]).astype(np.int64)
        self.total = np.add.reduceat(counts, starts) if keys.size else np.zeros(0, dtype=np.int64)
        self.types = self.stop - self.start
        self.before = self.cum[starts] - counts[starts] if keys.size else np.zeros(0, dtype=np.int64)
        self.row = np.repeat(np.arange(starts.size), self.types)
        # weight of this order's counts in a seen context (Witten-Bell), or 1 without smoothing
        self.lam = np.ones(self.ctx.size) if smoothing == "none" else self.total / (self.total + self.types)


# ----------------------------------------------------------------------------- the family
class NGramFit(Family):
    """Fit an n-gram language model to token streams by counting.

    Parameters
    ----------
    order : int in [1, 3]
        1 counts single tokens (no context), 2 pairs, 3 triples.
    smoothing : {"witten-bell", "none"}
        How a context's counts are interpolated with the shorter context's
        model (see :mod:`collapse_lib.models.ngram`).
    floor : float in [0, 1)
        Weight of the uniform distribution over all ``V`` tokens mixed into
        the one-token model. With 0, a token never seen in training has
        probability 0 (held-out text containing it has infinite perplexity).
    vocab_size : int, optional
        Number of token ids ``V``. Left as None, :func:`simulate` takes it
        from the world (``world.vocab_size``); a direct ``fit`` then uses
        ``max(id) + 1``.

    Notes
    -----
    ``fit(data)`` takes one stream ``(n,)`` or a batch ``(R, n)`` and returns
    an :class:`NGramModel` (a batch of ``R`` models). Counting is vectorised
    over replicates (integer keys ``((r V + h2) V + h1) V + w``, sorted), so
    it needs ``R V**order < 2**62``.

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> text = np.array([2, 3, 0, 2, 4, 0])        # "a b. a c." with END = 0
    >>> model = cl.NGramFit(order=2, floor=0.0, vocab_size=5).fit(text)
    >>> model.next_token_probs([2]).round(3).tolist()   # after "a": b or c, half each
    [0.0, 0.0, 0.0, 0.5, 0.5]

    Introduced in chapter 13, "A language model in miniature".
    """

    def __init__(self, order=3, smoothing="witten-bell", floor=1e-3, vocab_size=None):
        self.order = check_int("order", order, minimum=1, maximum=3)
        if not isinstance(smoothing, str):
            raise TypeError(f"smoothing must be one of {_SMOOTHINGS}, got {type(smoothing).__name__}")
        if smoothing not in _SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {_SMOOTHINGS}, got {smoothing!r}")
        self.smoothing = smoothing
        floor = check_fraction("floor", floor)
        if floor >= 1:
            raise ValueError(f"floor must be in [0, 1) (the weight of the uniform part), got {floor}")
        self.floor = floor
        if vocab_size is not None:
            vocab_size = check_int("vocab_size", vocab_size, minimum=2, maximum=2**16)
        self.vocab_size = vocab_size

    def prepare(self, world):
        if self.vocab_size is None and hasattr(world, "vocab_size"):
            return NGramFit(self.order, self.smoothing, self.floor, world.vocab_size)
        return self

    def _check(self, data):
        arr = np.asarray(data)
        if arr.dtype.kind not in "iu":
            raise TypeError("data must be integer token ids (a token stream, e.g. from TextWorld.sample)")
        if arr.ndim not in (1, 2):
            raise ValueError(f"data must have shape (n,) or (R, n), got shape {arr.shape}")
        if arr.size == 0 or arr.shape[-1] < 1:
            raise ValueError(f"data must contain at least one token per stream (an empty corpus), got shape {arr.shape}")
        if np.any(arr < 0):
            raise ValueError("data must contain token ids >= 0")
        if self.vocab_size is not None and np.any(arr >= self.vocab_size):
            raise ValueError(f"data must contain token ids in [0, {self.vocab_size - 1}] (unknown token id "
                             f"{int(arr.max())}); map unknown words to <unk> first")
        return arr.astype(np.int64, copy=False)

    def _fit(self, data):
        data = np.asarray(data, dtype=np.int64)
        r, n = data.shape
        v = self.vocab_size if self.vocab_size is not None else max(int(data.max()) + 1, 2)
        if r * float(v) ** self.order >= 2.0**62:
            raise ValueError(f"replicates * vocab_size**order must be < 2**62 for the count keys, got "
                             f"{r} * {v}**{self.order}")
        rows = np.arange(r, dtype=np.int64)[:, None]
        c1 = np.bincount((rows * v + data).ravel(), minlength=r * v).reshape(r, v)
        grams = {}
        if self.order >= 2:
            h1, h2 = _histories(data)
            keys = ((rows * v + h1) * v + data).ravel()
            grams[2] = np.unique(keys, return_counts=True)
            if self.order >= 3:
                keys = (((rows * v + h2) * v + h1) * v + data).ravel()
                grams[3] = np.unique(keys, return_counts=True)
        return NGramModel._from_counts(self.order, v, self.smoothing, self.floor, c1, grams)

    def __repr__(self):
        return (f"NGramFit(order={self.order}, smoothing={self.smoothing!r}, floor={self.floor:g}, "
                f"vocab_size={self.vocab_size})")


# ----------------------------------------------------------------------------- the model
class NGramModel(Distribution):
    """A batch of fitted n-gram language models (see :class:`NGramFit`).

    Attributes
    ----------
    order, vocab_size, smoothing, floor
        As fitted.
    unigram_counts : ndarray of int, shape (R, V) (or (V,))
        How often each token occurred in each model's training data.
    surviving : ndarray of int, shape (R,) (or int)
        Number of word types (tokens other than ``END`` and ``<unk>``, ids >= 2)
        each model saw in training: the vocabulary it can write without its floor.

    Introduced in chapter 13, "A language model in miniature".
    """

    @classmethod
    def _from_counts(cls, order, vocab, smoothing, floor, c1, grams, batched=True):
        obj = cls.__new__(cls)
        obj.order, obj.vocab_size, obj.smoothing, obj.floor = order, vocab, smoothing, floor
        obj._c1 = np.asarray(c1, dtype=np.int64)
        obj._r = obj._c1.shape[0]
        obj.batch_shape = (obj._r,) if batched else ()
        obj._n1 = obj._c1.sum(axis=1)
        obj._u = (1.0 - floor) * obj._c1 / obj._n1[:, None] + floor / vocab
        obj._tables = {j: _Table(k.astype(np.int64), c.astype(np.int64), vocab, smoothing)
                       for j, (k, c) in grams.items()}
        if order >= 3:
            t3, t2 = obj._tables[3], obj._tables[2]
            # context (r, h2, h1) -> the row of (r, h1); trigram (r, h2, h1, w) -> bigram entry (r, h1, w)
            r3 = t3.ctx // (vocab * vocab)
            obj._base3, found = _find(t2.ctx, r3 * vocab + t3.ctx % vocab)
            rr = t3.keys // vocab**3
            obj._pos3in2, found2 = _find(t2.keys, (rr * vocab + (t3.keys // vocab) % vocab) * vocab + t3.words)
            assert found.all() and found2.all(), "n-gram counts are not nested (internal error)"
        obj._decoders = {}
        return obj

    # ------------------------------------------------------------------ basic properties
    def _out(self, value):
        return value if self.batch_shape else value[0]

    @property
    def unigram_counts(self):
        return self._out(self._c1)

    @property
    def surviving(self):
        out = np.count_nonzero(self._c1[:, 2:], axis=1)
        return out if self.batch_shape else int(out[0])

    def _take(self, i):
        """Replicate ``i`` as an unbatched model."""
        v = self.vocab_size
        grams = {}
        for j, t in self._tables.items():
            lo, hi = np.searchsorted(t.keys, [i * v**j, (i + 1) * v**j])
            grams[j] = (t.keys[lo:hi] - i * v**j, t.counts[lo:hi])
        return NGramModel._from_counts(self.order, v, self.smoothing, self.floor, self._c1[i:i + 1], grams,
                                       batched=False)

    def __repr__(self):
        batch = f"batch of {self._r}, " if self.batch_shape else ""
        return (f"NGramModel({batch}order={self.order}, V={self.vocab_size}, smoothing={self.smoothing!r}, "
                f"floor={self.floor:g})")

    # ------------------------------------------------------------------ probabilities
    def _streams(self, tokens, name="tokens"):
        x = np.asarray(tokens)
        if x.dtype.kind not in "iu":
            raise TypeError(f"{name} must be integer token ids")
        if self.batch_shape:
            if x.ndim == 1:
                x = np.broadcast_to(x, (self._r, x.size))
            elif x.ndim != 2 or x.shape[0] != self._r:
                raise ValueError(f"{name} must have shape (m,) or (R, m) with R = {self._r}, got {x.shape}")
        else:
            if x.ndim != 1:
                raise ValueError(f"{name} must have shape (m,) for an unbatched model, got {x.shape}")
            x = x[None, :]
        if x.shape[1] == 0:
            raise ValueError(f"{name} must contain at least one token")
        if np.any((x < 0) | (x >= self.vocab_size)):
            raise ValueError(f"{name} must contain token ids in [0, {self.vocab_size - 1}] (unknown token)")
        return x.astype(np.int64)

    def _probs_of(self, x):
        """p(x_i | its context) for streams ``x`` of shape (R, m)."""
        v = self.vocab_size
        rows = np.arange(self._r, dtype=np.int64)[:, None]
        p = self._u[rows, x]
        if self.order >= 2:
            h1, h2 = _histories(x)
            hist = {2: rows * v + h1, 3: (rows * v + h2) * v + h1}
            for j in range(2, self.order + 1):
                t = self._tables[j]
                i, found = _find(t.ctx, hist[j])
                lam = np.where(found, t.lam[i], 0.0)
                k, seen = _find(t.keys, hist[j] * v + x)
                ml = np.where(seen, t.counts[k], 0) / np.where(found, t.total[i], 1)
                p = lam * ml + (1.0 - lam) * p
        return p

    def logpdf(self, tokens):
        """Log probability (nats) of each token of a stream given the tokens before it.

        Parameters
        ----------
        tokens : array of int, shape (m,) or (R, m)
            A token stream starting at a sentence start; a 1-D stream is
            scored by every replicate of a batch.

        Returns
        -------
        ndarray, shape (R, m) (or (m,) for an unbatched model)
            ``-inf`` where the model gives probability 0 (only with ``floor=0``).
        """
        x = self._streams(tokens)
        with np.errstate(divide="ignore"):
            return self._out(np.log(self._probs_of(x)))

    def log_loss(self, tokens):
        """Mean negative log probability per token (nats), per replicate: shape (R,) or float."""
        x = self._streams(tokens)
        with np.errstate(divide="ignore"):
            out = -np.log(self._probs_of(x)).mean(axis=1)
        return out if self.batch_shape else float(out[0])

    def perplexity(self, tokens):
        """``exp(log_loss)``: the model's perplexity on a token stream, per replicate."""
        out = np.exp(np.asarray(self.log_loss(tokens)))
        return out if self.batch_shape else float(out)

    def _state_history(self, context):
        context = [int(c) for c in np.asarray(context, dtype=np.int64).ravel()]
        if any(c < 0 or c >= self.vocab_size for c in context):
            raise ValueError(f"context must contain token ids in [0, {self.vocab_size - 1}]")
        h1 = context[-1] if context else END
        h2 = END if h1 == END or len(context) < 2 else context[-2]
        return h1, h2

    def next_token_probs(self, context=(), decoding=None):
        """The full next-token distribution after ``context``, shape (R, V) (or (V,)).

        Parameters
        ----------
        context : sequence of int
            The tokens written so far (only those after the last ``END`` matter;
            an empty context is the start of a sentence).
        decoding : Decoding, optional
            If given, the distribution the model samples from with these
            settings, computed by the same sparse machinery as
            :meth:`sample` (for checks against :meth:`Decoding.apply`).
        """
        h1, h2 = self._state_history(context)
        v = self.vocab_size
        rows = np.arange(self._r, dtype=np.int64)
        if decoding is not None and not isinstance(decoding, Decoding):
            raise TypeError(f"decoding must be a Decoding or None, got {type(decoding).__name__}")
        if decoding is not None and not decoding.is_identity:
            dec = self._decoder(decoding)
            states = dec.state_of(rows, np.full(self._r, h1), np.full(self._r, h2))
            return self._out(dec.dense(states))
        p = self._u.copy()
        for j in range(2, self.order + 1):
            t = self._tables[j]
            ctx = rows * v + h1 if j == 2 else (rows * v + h2) * v + h1
            i, found = _find(t.ctx, ctx)
            lam = np.where(found, t.lam[i], 0.0)
            ml = np.zeros((self._r, v))
            for r in np.flatnonzero(found):  # one row per replicate: a dense view for checks
                a, b = t.start[i[r]], t.stop[i[r]]
                ml[r, t.words[a:b]] = t.counts[a:b] / t.total[i[r]]
            p = lam[:, None] * ml + (1.0 - lam[:, None]) * p
        return self._out(p)

    # ------------------------------------------------------------------ sampling
    def sample(self, size, rng, decoding=None):
        """Write ``size`` tokens per replicate: whole sentences, the last one cut off.

        Parameters
        ----------
        size : int >= 0
        rng : numpy.random.Generator
        decoding : Decoding, optional
            Temperature, top-k and top-p settings (default: sample the model as it is).

        Returns
        -------
        ndarray of int, shape (R, size) (or (size,))
            Each stream is independent sentences, each ending with ``END``,
            generated token by token from the (decoded) next-token
            distribution; all sentences of all replicates advance together.
        """
        size = self._sample_size(size)
        check_rng(rng)
        if decoding is not None and not isinstance(decoding, Decoding):
            raise TypeError(f"decoding must be a Decoding or None, got {type(decoding).__name__}")
        r = self._r
        out = np.empty((r, size), dtype=np.int64)
        if size == 0:
            return self._out(out)
        draw = self._draw_plain if decoding is None or decoding.is_identity else self._decoder(decoding).draw
        # expected sentence length (END included) of the training data, to size the first round
        mean_len = self._n1 / np.maximum(self._c1[:, END], 1)
        need = np.full(r, size, dtype=np.int64)
        pieces_rep, pieces_tok, pieces_key = [], [], []
        chain_base = 0
        for _ in range(10_000):
            short = np.flatnonzero(need > 0)
            if short.size == 0:
                break
            k = np.ceil(1.25 * need[short] / mean_len[short]).astype(np.int64) + 4
            reps = np.repeat(short, k)
            chains = np.arange(reps.size) + chain_base
            chain_base += reps.size
            tok, owner, pos = self._sentences(reps, size, rng, draw)
            pieces_rep.append(reps[owner])
            pieces_tok.append(tok)
            pieces_key.append((chains[owner], pos))
            got = np.bincount(reps[owner], minlength=r)
            need = need - got
        rep = np.concatenate(pieces_rep)
        tok = np.concatenate(pieces_tok)
        chain = np.concatenate([c for c, _ in pieces_key])
        pos = np.concatenate([p for _, p in pieces_key])
        order = np.lexsort((pos, chain, rep))      # replicate, then sentence, then position
        tok, rep = tok[order], rep[order]
        first = np.searchsorted(rep, np.arange(r))
        out[:] = tok[first[:, None] + np.arange(size)[None, :]]
        return self._out(out)

    def _sentences(self, reps, cap, rng, draw):
        """Generate one sentence per entry of ``reps`` (its replicate), at most ``cap`` tokens each.

        Returns the tokens, their sentence (index into ``reps``) and position.
        """
        active = np.arange(reps.size)
        h1 = np.full(reps.size, END, dtype=np.int64)
        h2 = np.full(reps.size, END, dtype=np.int64)
        toks, owners, poss = [], [], []
        for step in range(cap):
            if active.size == 0:
                break
            t = draw(reps[active], h1, h2, rng)
            toks.append(t)
            owners.append(active)
            poss.append(np.full(active.size, step, dtype=np.int64))
            go = t != END
            active, h2, h1 = active[go], h1[go], t[go]
        return np.concatenate(toks), np.concatenate(owners), np.concatenate(poss)

    def _draw_plain(self, rep, h1, h2, rng):
        """One token per chain from the interpolated model (a mixture: pick an order, then a count)."""
        v, n = self.vocab_size, rep.size
        u_level = rng.random(n)
        u_pick = rng.random(n)
        out = np.empty(n, dtype=np.int64)
        undecided = np.ones(n, dtype=bool)
        remaining = np.ones(n)
        for j in range(self.order, 1, -1):
            t = self._tables[j]
            ctx = rep * v + h1 if j == 2 else (rep * v + h2) * v + h1
            i, found = _find(t.ctx, ctx)
            lam = np.where(found & undecided, t.lam[i], 0.0)
            # order j is chosen with probability remaining * lam: u_level in [1 - remaining, 1 - remaining (1 - lam))
            take = undecided & (u_level < 1.0 - remaining * (1.0 - lam))
            if take.any():
                ii = i[take]
                target = t.before[ii] + np.minimum(np.floor(u_pick[take] * t.total[ii]).astype(np.int64),
                                                   t.total[ii] - 1)
                out[take] = t.words[np.searchsorted(t.cum, target, side="right")]
            undecided &= ~take
            remaining = remaining * (1.0 - lam)
        # the one-token model: counts with probability 1 - floor, the uniform floor otherwise
        if undecided.any():
            rr = rep[undecided]
            ul = (u_level[undecided] - (1 - remaining[undecided])) / np.maximum(remaining[undecided], _TINY)
            counts = ul >= self.floor
            pick = u_pick[undecided]
            tok = np.empty(rr.size, dtype=np.int64)
            if counts.any():
                flat_cum = self._cum1()
                rc = rr[counts]
                target = self._before1[rc] + np.minimum(np.floor(pick[counts] * self._n1[rc]).astype(np.int64),
                                                        self._n1[rc] - 1)
                tok[counts] = np.searchsorted(flat_cum, target, side="right") - rc * v
            if (~counts).any():
                tok[~counts] = np.minimum(np.floor(pick[~counts] * v).astype(np.int64), v - 1)
            out[undecided] = tok
        return out

    def _cum1(self):
        if not hasattr(self, "_flat_cum1"):
            self._flat_cum1 = np.cumsum(self._c1.ravel())
            self._before1 = np.concatenate([[0], self._flat_cum1[self.vocab_size - 1::self.vocab_size][:-1]])
        return self._flat_cum1

    def _decoder(self, decoding):
        key = decoding._effective()
        if key not in self._decoders:
            self._decoders[key] = _Decoder(self, *key)
        return self._decoders[key]


# ----------------------------------------------------------------------------- decoded sampling
def _below(x):
    """The largest float strictly below ``x`` (keeps an inverse-CDF target inside its interval)."""
    return np.nextafter(x, -np.inf)


class _Decoder:
    """The decoded next-token distributions of every context of a model, kept sparse.

    A context's distribution has three parts. Its *base* is the bigram row of
    its last token (or, when that token was never followed by anything, an
    empty base): the tokens seen after it are *listed* with their
    probabilities. Every other token has the base's remainder weight ``g``
    times the one-token model ``u``, so these come in *levels*, one per count
    value. A trigram context seen in training scales its base by
    ``f = 1 - lam3`` and *boosts* the few tokens seen after its two tokens.
    Tempered values ``q = p ** (1 / T)`` keep that shape (with factors
    ``F = f ** (1 / T)`` and ``G = g ** (1 / T)``), so the number of tokens and
    the mass above any threshold take a few binary searches, and the top-k
    and top-p thresholds of every context follow without listing the whole
    vocabulary for each one.

    A threshold is a pair ``(theta, x)``: a boosted token is kept when its own
    value is >= ``theta``, a listed token when its base value is >= ``x``, any
    other token when ``G`` times its ``u ** (1 / T)`` is >= ``x``
    (``theta = F x``). Every candidate threshold is one of the values
    themselves, so each comparison is made on numbers computed once.
    """

    def __init__(self, model, t, k, p):
        self.m, self.t, self.k, self.p = model, t, k, p
        v, r = model.vocab_size, model._r
        inv = 1.0 / t
        # ---- levels of the one-token model per replicate (decreasing; ties by token id)
        tu = model._u ** inv
        order = np.argsort(-tu, axis=1, kind="stable")
        self.tu = tu
        self.tu_sorted = np.take_along_axis(tu, order, axis=1)
        self.tu_words = order
        self.tu_cum = np.concatenate([np.zeros((r, 1)), np.cumsum(self.tu_sorted, axis=1)], axis=1)
        positive = self.tu_sorted > 0
        new = positive.copy()
        new[:, 1:] &= self.tu_sorted[:, 1:] != self.tu_sorted[:, :-1]
        lv_index = np.cumsum(new, axis=1) - 1
        self.nlev = new.sum(axis=1)
        lmax = max(int(self.nlev.max()), 1)
        rows = np.broadcast_to(np.arange(r)[:, None], (r, v))
        self.tuL = np.full((r, lmax), -1.0)                              # level values, padded with -1
        self.tuL[rows[new], lv_index[new]] = self.tu_sorted[new]
        n_l = np.zeros((r, lmax))
        np.add.at(n_l, (rows[positive], lv_index[positive]), 1.0)
        self.CNU = np.cumsum(n_l, axis=1)                                 # words at levels <= l
        self.CMU = np.cumsum(n_l * np.maximum(self.tuL, 0.0), axis=1)     # their mass
        level_of = np.full((r, v), -1, dtype=np.int64)
        level_of[rows, order] = np.where(positive, lv_index, -1)
        # ---- bases: the bigram rows, then one empty base per replicate
        if model.order >= 2:
            t2 = model._tables[2]
            nb2 = t2.ctx.size
            self.b_rep = np.concatenate([t2.ctx // v, np.arange(r)])
            g = np.concatenate([1.0 - t2.lam, np.ones(r)])
            e_row, e_rep = t2.row, (t2.ctx // v)[t2.row]
            self.S_p = t2.lam[e_row] * t2.counts / t2.total[e_row] + (1.0 - t2.lam[e_row]) * model._u[e_rep, t2.words]
            self.S_pt = self.S_p ** inv                                   # by bigram entry (key order)
            srt = np.lexsort((-self.S_pt, e_row))
            self.Sv, self.Sw = self.S_pt[srt], t2.words[srt]              # decreasing within each base
            self.S_lo = np.concatenate([t2.start, np.full(r, t2.keys.size)])
            self.S_hi = np.concatenate([t2.stop, np.full(r, t2.keys.size)])
            count_s = np.zeros((nb2 + r, lmax))
            np.add.at(count_s, (e_row, level_of[e_rep, t2.words]), 1.0)
        else:
            nb2 = 0
            self.b_rep = np.arange(r)
            g = np.ones(r)
            self.S_p = self.S_pt = self.Sv = np.zeros(0)
            self.Sw = np.zeros(0, dtype=np.int64)
            self.S_lo = self.S_hi = np.zeros(r, dtype=np.int64)
            count_s = np.zeros((r, lmax))
        self.S_cum = np.concatenate([[0.0], np.cumsum(self.Sv)])
        self.nSU = np.cumsum(count_s, axis=1)                             # listed words at levels <= l
        self.mSU = np.cumsum(count_s * np.maximum(self.tuL[self.b_rep], 0.0), axis=1)
        self.nb2 = nb2
        self.G = g ** inv
        self._base_at_candidates()
        # ---- states: the trigram contexts (a base and boosts), then the bases themselves
        nbase = nb2 + r
        if model.order >= 3:
            t3 = model._tables[3]
            self.ns3 = t3.ctx.size
            f = 1.0 - t3.lam
            self.st_base = np.concatenate([model._base3, np.arange(nbase)])
            self.F = np.concatenate([f ** inv, np.ones(nbase)])
            row3 = t3.row
            newp = f[row3] * self.S_p[model._pos3in2] + t3.lam[row3] * t3.counts / t3.total[row3]
            self.B_row, self.B_word = row3, t3.words
            self.B_base = self.S_pt[model._pos3in2]                      # tempered base value
            self.B_new = newp ** inv                                      # tempered boosted value
            self.B_lo = np.concatenate([t3.start, np.full(nbase, t3.keys.size)])
            self.B_hi = np.concatenate([t3.stop, np.full(nbase, t3.keys.size)])
        else:
            self.ns3 = 0
            self.st_base = np.arange(nbase)
            self.F = np.ones(nbase)
            self.B_row = self.B_word = np.zeros(0, dtype=np.int64)
            self.B_base = self.B_new = np.zeros(0)
            self.B_lo = self.B_hi = np.zeros(nbase, dtype=np.int64)
        sb = np.lexsort((-self.B_base, self.B_row))
        sn = np.lexsort((-self.B_new, self.B_row))
        self.Bb_sorted, self.Bn_sorted = self.B_base[sb], self.B_new[sn]
        self.Bb_cum = np.concatenate([[0.0], np.cumsum(self.Bb_sorted)])
        self.Bn_cum = np.concatenate([[0.0], np.cumsum(self.Bn_sorted)])
        self._thresholds()

    # -------------------------------------------------------------- counting above a threshold
    def _base_at_candidates(self):
        """A base's (count, mass) at each of its candidate thresholds, computed once.

        Listed candidates ``x = Sv[j]``: the listed values >= it (ties
        included) and the levels whose value is >= it. Level candidates
        ``x = G tuL[l]``: the listed values >= it (each listed value enters at
        the first level it reaches) and the words of levels ``<= l`` that are
        not listed.
        """
        nbase, lmax = self.b_rep.size, self.tuL.shape[1]
        n = self.Sv.size
        e_base = np.repeat(np.arange(nbase), self.S_hi - self.S_lo)
        # listed candidates
        if n:
            new_group = np.ones(n, dtype=bool)
            new_group[1:] = (self.Sv[1:] != self.Sv[:-1]) | (e_base[1:] != e_base[:-1])
            group = np.cumsum(new_group) - 1
            group_last = np.flatnonzero(np.concatenate([new_group[1:], [True]]))
            last = group_last[group]                                     # last index of each tie group
            lo = self.S_lo[e_base]
            count_l = last - lo + 1
            mass_l = self.S_cum[last + 1] - self.S_cum[lo]
            nl = self._levels_ge(e_base, self.Sv)
            li, has, r = np.maximum(nl - 1, 0), nl > 0, self.b_rep[e_base]
            self.candS_count = count_l + np.where(has, self.CNU[r, li] - self.nSU[e_base, li], 0.0)
            self.candS_mass = mass_l + np.where(has, self.G[e_base] * (self.CMU[r, li] - self.mSU[e_base, li]), 0.0)
            # level candidates: listed entry e counts from the first level whose value is <= it
            first = self._levels_ge(e_base, np.nextafter(self.Sv, np.inf))
            inside = first < lmax
            lc = np.zeros((nbase, lmax))
            lm = np.zeros((nbase, lmax))
            np.add.at(lc, (e_base[inside], first[inside]), 1.0)
            np.add.at(lm, (e_base[inside], first[inside]), self.Sv[inside])
            listed_c, listed_m = np.cumsum(lc, axis=1), np.cumsum(lm, axis=1)
        else:
            self.candS_count = self.candS_mass = np.zeros(0)
            listed_c = listed_m = np.zeros((nbase, lmax))
        r = self.b_rep
        self.candL_count = listed_c + self.CNU[r] - self.nSU
        self.candL_mass = listed_m + self.G[:, None] * (self.CMU[r] - self.mSU)

    def _levels_ge(self, b, x):
        """Number of levels l of base ``b`` whose value ``G_b tuL[l]`` is >= x."""
        r, G = self.b_rep[b], self.G[b]
        lmax = self.tuL.shape[1]
        a = np.zeros(b.size, dtype=np.int64)
        hi = np.where(G > 0, self.nlev[r], 0).astype(np.int64)
        for _ in range(int(np.ceil(np.log2(lmax + 1))) + 1):
            active = a < hi
            if not active.any():
                break
            mid = (a + hi) // 2
            ok = G * self.tuL[r, np.minimum(mid, lmax - 1)] >= x
            a = np.where(active & ok, mid + 1, a)
            hi = np.where(active & ~ok, mid, hi)
        return a

    def _base_eval(self, b, x):
        """(count, mass) of base ``b``'s tokens with value >= x: listed ones and the rest."""
        lo, hi = self.S_lo[b], self.S_hi[b]
        cs = _count_ge(self.Sv, lo, hi, x)
        ms = self.S_cum[lo + cs] - self.S_cum[lo]
        r = self.b_rep[b]
        nl = self._levels_ge(b, x)
        li = np.maximum(nl - 1, 0)
        has = nl > 0
        cr = np.where(has, self.CNU[r, li] - self.nSU[b, li], 0.0)
        mr = np.where(has, self.G[b] * (self.CMU[r, li] - self.mSU[b, li]), 0.0)
        return cs + cr, ms + mr

    def _eval(self, s, theta, x):
        """(count, mass) of state ``s``'s tempered values >= its threshold ``(theta, x)``."""
        b, F = self.st_base[s], self.F[s]
        cb, mb = self._base_eval(b, x)
        lo, hi = self.B_lo[s], self.B_hi[s]
        cbb = _count_ge(self.Bb_sorted, lo, hi, x)                       # boosted, counted in the base
        mbb = self.Bb_cum[lo + cbb] - self.Bb_cum[lo]
        cn = _count_ge(self.Bn_sorted, lo, hi, theta)                    # boosted, by their own value
        mn = self.Bn_cum[lo + cn] - self.Bn_cum[lo]
        count = np.where(F > 0, cb - cbb, 0) + cn
        mass = np.where(F > 0, F * (mb - mbb), 0.0) + mn
        return count, mass

    # -------------------------------------------------------------- thresholds
    def _search(self, need, use_mass, base_value, lo, hi):
        """Per state, the first candidate (decreasing in [lo, hi)) whose count or mass reaches ``need``.

        ``base_value(states, j) -> (x, base count, base mass)`` gives candidate
        ``j`` of each state's base; the boosted tokens' corrections are added.
        """
        a = np.array(lo, dtype=np.int64, copy=True)
        b = np.array(hi, dtype=np.int64, copy=True)
        need = np.broadcast_to(need, a.shape)
        todo = np.flatnonzero(a < b)
        while todo.size:
            aa, bb = a[todo], b[todo]
            mid = (aa + bb) // 2
            x, cb, mb = base_value(todo, mid)
            F = self.F[todo]
            blo, bhi = self.B_lo[todo], self.B_hi[todo]
            cbb = _count_ge(self.Bb_sorted, blo, bhi, x)
            mbb = self.Bb_cum[blo + cbb] - self.Bb_cum[blo]
            cn = _count_ge(self.Bn_sorted, blo, bhi, F * x)
            mn = self.Bn_cum[blo + cn] - self.Bn_cum[blo]
            if use_mass:
                ok = F * (mb - mbb) + mn >= need[todo]
            else:
                ok = cb - cbb + cn >= need[todo]
            aa = np.where(ok, aa, mid + 1)
            bb = np.where(ok, mid, bb)
            a[todo], b[todo] = aa, bb
            todo = todo[aa < bb]
        return a

    def _threshold(self, need, use_mass):
        """Per state, the largest threshold ``(theta, x)`` whose kept count (or mass) reaches ``need``."""
        ns = self.st_base.size
        b = self.st_base
        best_t, best_x = np.full(ns, -np.inf), np.full(ns, -np.inf)
        live = self.F > 0                                   # a state with F = 0 keeps only boosted tokens
        # 1) the base's listed tokens: x = a listed value
        lo, hi = self.S_lo[b], np.where(live, self.S_hi[b], self.S_lo[b])
        last = max(self.Sv.size - 1, 0)
        sv = self.Sv if self.Sv.size else np.zeros(1)

        def listed(states, j):
            return self.Sv[j], self.candS_count[j], self.candS_mass[j]

        i = self._search(need, use_mass, listed, lo, hi)
        ok = i < hi
        x = sv[np.minimum(i, last)]
        best_t[ok], best_x[ok] = (self.F * x)[ok], x[ok]
        # 2) the levels of the other tokens: x = G tuL
        r, G = self.b_rep[b], self.G[b]
        lmax = self.tuL.shape[1]
        nl = np.where(live & (G > 0), self.nlev[r], 0).astype(np.int64)

        def level(states, j):
            bs = b[states]
            return self.G[bs] * self.tuL[self.b_rep[bs], j], self.candL_count[bs, j], self.candL_mass[bs, j]

        i = self._search(need, use_mass, level, np.zeros(ns), nl)
        ok = i < nl
        x = G * self.tuL[r, np.minimum(i, lmax - 1)]
        better = ok & (self.F * x > best_t)
        best_t[better], best_x[better] = (self.F * x)[better], x[better]
        # 3) the boosted tokens' own values: theta = a boosted value, x = theta / F
        if self.B_new.size:
            sb = self.B_row
            theta = self.B_new
            with np.errstate(divide="ignore"):
                xb = theta / self.F[sb]
            c, m = self._eval(sb, theta, xb)
            need_b = need[sb] if np.ndim(need) else need
            ok = (m >= need_b) if use_mass else (c >= need_b)
            top = np.full(ns, -np.inf)
            np.maximum.at(top, sb, np.where(ok, theta, -np.inf))
            better = top > best_t
            best_t[better] = top[better]
            with np.errstate(divide="ignore"):
                best_x[better] = top[better] / self.F[better]
        return best_t, best_x

    def _thresholds(self):
        ns = self.st_base.size
        s = np.arange(ns)
        theta, x = np.full(ns, _TINY), np.full(ns, _TINY)             # keep every token of probability > 0
        if self.k is not None:
            tk, xk = self._threshold(self.k, use_mass=False)
            found = np.isfinite(tk)                                    # else fewer than k tokens: keep all
            theta[found], x[found] = tk[found], xk[found]
        if self.p is not None:
            _, z = self._eval(s, theta, x)
            tp, xp = self._threshold(self.p * z * (1 - _REL_TOL), use_mass=True)
            better = tp > theta
            theta[better], x[better] = tp[better], xp[better]
        self.theta, self.x = theta, x
        self.count, self.Z = self._eval(s, theta, x)
        # the three parts' kept masses: boosted, listed (not boosted), the rest
        b = self.st_base
        lo, hi = self.S_lo[b], self.S_hi[b]
        self.n_listed = _count_ge(self.Sv, lo, hi, x)
        blo, bhi = self.B_lo[s], self.B_hi[s]
        cbb = _count_ge(self.Bb_sorted, blo, bhi, x)
        mbb = self.Bb_cum[blo + cbb] - self.Bb_cum[blo]
        cn = _count_ge(self.Bn_sorted, blo, bhi, theta)
        self.mass_boost = self.Bn_cum[blo + cn] - self.Bn_cum[blo]
        ms = self.S_cum[lo + self.n_listed] - self.S_cum[lo]
        listed_free = (self.F > 0) & (self.n_listed > cbb)            # a kept listed token not boosted
        self.mass_listed = np.where(listed_free, self.F * (ms - mbb), 0.0)
        nl = self._levels_ge(b, x)
        li, rb = np.maximum(nl - 1, 0), self.b_rep[b]
        rest_free = (nl > 0) & (self.F > 0) & (self.CNU[rb, li] > self.nSU[b, li])
        self.n_rest = np.where(rest_free, self.CNU[rb, li], 0).astype(np.int64)
        self.mass_rest = np.where(rest_free, np.maximum(self.Z - self.mass_boost - self.mass_listed, 0.0), 0.0)
        # kept boosted values in key order, for drawing one
        kept = np.where(self.B_new >= theta[self.B_row], self.B_new, 0.0) if self.B_new.size else np.zeros(0)
        self.Bk_cum = np.concatenate([[0.0], np.cumsum(kept)])

    # -------------------------------------------------------------- using it
    def state_of(self, rep, h1, h2):
        """The state of each chain: its trigram context if seen, else its bigram base, else empty."""
        m, v = self.m, self.m.vocab_size
        state = self.ns3 + self.nb2 + rep                               # the empty base
        if m.order >= 2:
            i2, f2 = _find(m._tables[2].ctx, rep * v + h1)
            state = np.where(f2, self.ns3 + i2, state)
        if m.order >= 3:
            i3, f3 = _find(m._tables[3].ctx, (rep * v + h2) * v + h1)
            state = np.where(f3, i3, state)
        return state

    def dense(self, states):
        """The decoded distribution of each state as a dense ``(len(states), V)`` array (for checks)."""
        v = self.m.vocab_size
        out = np.zeros((states.size, v))
        for row, s in enumerate(np.asarray(states).tolist()):
            b = self.st_base[s]
            r, F, G, x, theta = self.b_rep[b], self.F[s], self.G[b], self.x[s], self.theta[s]
            q = np.zeros(v)
            rest = self.tu[r] > 0
            lo, hi = self.S_lo[b], self.S_hi[b]
            rest[self.Sw[lo:hi]] = False
            q[rest] = np.where(G * self.tu[r, rest] >= x, F * G * self.tu[r, rest], 0.0)
            q[self.Sw[lo:hi]] = np.where(self.Sv[lo:hi] >= x, F * self.Sv[lo:hi], 0.0)
            a, c = self.B_lo[s], self.B_hi[s]
            q[self.B_word[a:c]] = np.where(self.B_new[a:c] >= theta, self.B_new[a:c], 0.0)
            out[row] = q / self.Z[s]
        return out

    def draw(self, rep, h1, h2, rng):
        """One token per chain from its state's decoded distribution."""
        s = self.state_of(rep, h1, h2)
        out = np.empty(s.size, dtype=np.int64)
        mb, ml = self.mass_boost[s], self.mass_listed[s]
        u = rng.random(s.size) * (mb + ml + self.mass_rest[s])
        part = np.where(u < mb, 0, np.where(u < mb + ml, 1, 2))
        idx = np.flatnonzero(part == 0)
        if idx.size:
            out[idx] = self._draw_boost(s[idx], u[idx] / mb[idx])
        idx = np.flatnonzero(part == 1)
        if idx.size:
            out[idx] = self._draw_listed(s[idx], rng)
        idx = np.flatnonzero(part == 2)
        if idx.size:
            out[idx] = self._draw_rest(s[idx], rng)
        return out

    def _draw_boost(self, s, frac):
        """A kept boosted token of state ``s``, ``frac`` uniform in [0, 1): inverse CDF in key order."""
        lo, hi = self.B_lo[s], self.B_hi[s]
        start, stop = self.Bk_cum[lo], self.Bk_cum[hi]
        target = np.minimum(start + frac * (stop - start), _below(stop))
        j = np.clip(np.searchsorted(self.Bk_cum, target, side="right") - 1, lo, hi - 1)
        return self.B_word[j]

    def _boosted(self, s, w):
        """Whether token ``w`` is a boosted token of state ``s``."""
        if not self.ns3:
            return np.zeros(s.size, dtype=bool)
        t3 = self.m._tables[3]
        is3 = s < self.ns3
        key = np.where(is3, t3.ctx[np.minimum(s, self.ns3 - 1)] * self.m.vocab_size + w, -1)
        return _find(t3.keys, key)[1] & is3

    def _listed_in_base(self, b, w):
        """Whether token ``w`` is listed in base ``b`` (seen after its token)."""
        if not self.nb2:
            return np.zeros(b.size, dtype=bool)
        t2 = self.m._tables[2]
        is2 = b < self.nb2
        key = np.where(is2, t2.ctx[np.minimum(b, self.nb2 - 1)] * self.m.vocab_size + w, -1)
        return _find(t2.keys, key)[1] & is2

    def _draw_listed(self, s, rng, rounds=64):
        """A listed token with base value >= x (weight: value), not boosted: rejection from the prefix."""
        lo = self.S_lo[self.st_base[s]]
        count = self.n_listed[s]
        out = np.empty(s.size, dtype=np.int64)
        todo = np.arange(s.size)
        for _ in range(rounds):
            if todo.size == 0:
                break
            a, c = lo[todo], count[todo]
            start, stop = self.S_cum[a], self.S_cum[a + c]
            target = np.minimum(start + rng.random(todo.size) * (stop - start), _below(stop))
            j = np.clip(np.searchsorted(self.S_cum, target, side="right") - 1, a, a + c - 1)
            w = self.Sw[j]
            bad = self._boosted(s[todo], w)
            out[todo[~bad]] = w[~bad]
            todo = todo[bad]
        for i in todo.tolist():  # rare: list the candidates
            a, c = lo[i], count[i]
            w = self.Sw[a:a + c]
            weight = self.Sv[a:a + c] * ~self._boosted(np.full(c, s[i]), w)
            out[i] = w[rng.choice(c, p=weight / weight.sum())]
        return out

    def _draw_rest(self, s, rng, rounds=64):
        """A token not listed in the base, with G tu >= x (weight: tu): rejection from the prefix."""
        b = self.st_base[s]
        r = self.b_rep[b]
        count = self.n_rest[s]
        out = np.empty(s.size, dtype=np.int64)
        todo = np.arange(s.size)
        for _ in range(rounds):
            if todo.size == 0:
                break
            rr, c = r[todo], count[todo]
            stop = self.tu_cum[rr, c]
            target = np.minimum(rng.random(todo.size) * stop, _below(stop))
            w = self.tu_words[rr, self._rank(rr, target, c)]
            bad = self._listed_in_base(b[todo], w)
            out[todo[~bad]] = w[~bad]
            todo = todo[bad]
        for i in todo.tolist():  # rare: list the candidates
            rr, c, bb = r[i], count[i], b[i]
            w = self.tu_words[rr, :c]
            weight = self.tu_sorted[rr, :c] * ~self._listed_in_base(np.full(c, bb), w)
            out[i] = w[rng.choice(c, p=weight / weight.sum())]
        return out

    def _rank(self, rr, target, c):
        """Per chain, the index j < c of row ``rr`` with tu_cum[rr, j] <= target < tu_cum[rr, j + 1].

        One search over all rows: row r's cumulative sums, scaled to end at 1,
        are offset by r (as :func:`collapse_lib.distributions.categorical_indices`
        does), which resolves a word down to about 1e-15 of its row's mass.
        """
        if not hasattr(self, "_tu_keys"):
            r, v = self.tu_sorted.shape
            total = self.tu_cum[:, -1:]
            self._tu_keys = (self.tu_cum[:, 1:] / total + np.arange(r)[:, None]).ravel()
        v = self.tu_sorted.shape[1]
        key = rr + target / self.tu_cum[rr, -1]
        j = np.searchsorted(self._tu_keys, key, side="right") - rr * v
        return np.clip(j, 0, c - 1)
