"""A language model in miniature: what recursive training does to an n-gram model of real text.

The world is real English prose (:func:`collapse_lib.worlds.text.python_docs`),
the model an n-gram language model (:class:`~collapse_lib.NGramFit`), the
recursion :func:`collapse_lib.simulate`. This module holds what chapter 13
measures on it:

- :func:`text_metrics`, the per-generation measurements (held-out perplexity,
  surviving words, survival of rare words and rare word pairs by frequency
  band, type/token ratio of the model's own writing), ready for
  ``simulate(..., metrics=...)``;
- :class:`LearnedVerifier`, a real-or-generated classifier learned from a
  finite real sample of ``m`` sentences, used as a filter that keeps the
  generated sentences that look most real, and :func:`verifier_accuracy`, its
  accuracy and AUC on held-out real sentences;
- :class:`TextExplorer`, the chapter's live explorer (order, temperature,
  top-p, anchor share) and its precomputed player.

:data:`~collapse_lib.studies.vocabulary.NATURE_OPT125M` (chapter 5) holds the
published numbers the chapter compares with.

Introduced in chapter 13, "A language model in miniature".
"""

from __future__ import annotations

import numpy as np

from .._validate import check_budget, check_fraction, check_int, check_int_array, check_rng
from ..filters import Filter
from ..models.ngram import END, Decoding, NGramFit, NGramModel, _histories
from ..schemes import Anchor, Replace
from ..simulate import simulate
from ..worlds.text import TextCorpus
from .explorer import Control, Explorer

__all__ = ["BAND_EDGES", "frequency_bands", "band_survival", "real_bigrams", "bigram_band_survival",
           "type_token_ratio", "text_metrics", "sentences_of", "sentence_features", "LearnedVerifier",
           "verifier_accuracy", "TextExplorer"]

_RULES = ("weighted", "top", "ratio")

#: default band edges: training-part counts [2, 4), [4, 8), [8, 16), [16, 64), [64, inf)
BAND_EDGES = (2, 4, 8, 16, 64)


def _corpus(corpus):
    if not isinstance(corpus, TextCorpus):
        raise TypeError(f"corpus must be a TextCorpus (e.g. cl.worlds.text.python_docs()), got {type(corpus).__name__}")
    return corpus


def _ids(name, values, ndim=(1, 2)):
    """Non-negative integer ids (token ids, counts, keys) with ``ndim`` dimensions, or an error naming ``name``."""
    arr = check_int_array(name, values, minimum=0)
    if arr.ndim not in ndim:
        raise ValueError(f"{name} must have {' or '.join(map(str, ndim))} dimension(s), got shape {arr.shape}")
    return arr


def _edges(edges):
    edges = np.asarray(edges)
    if edges.ndim != 1 or edges.size < 1 or edges.dtype.kind not in "iu" or np.any(np.diff(edges) <= 0) or edges[0] < 1:
        raise ValueError("edges must be increasing positive integers (lower ends of the count bands)")
    return edges


def _band_labels(edges):
    labels = [f"{a}-{b - 1}" for a, b in zip(edges[:-1], edges[1:])]
    return labels + [f"{edges[-1]}+"]


def frequency_bands(counts, edges=BAND_EDGES):
    """Group ids by how often they occur: band ``j`` holds counts in ``[edges[j], edges[j+1])``.

    Parameters
    ----------
    counts : array_like of int, shape (K,)
        How often each id occurs (e.g. ``corpus.counts``); ids 0 and 1
        (``END``, ``<unk>``) are never put in a band.
    edges : increasing ints
        Lower ends of the bands; the last band is open.

    Returns
    -------
    labels : list of str
    members : list of ndarray of int
        The ids in each band.

    Introduced in chapter 13, "A language model in miniature".
    """
    counts = _ids("counts", counts, ndim=(1,))
    edges = _edges(edges)
    ids = np.arange(2, counts.size)
    c = counts[2:]
    bounds = list(edges) + [np.inf]
    members = [ids[(c >= a) & (c < b)] for a, b in zip(bounds[:-1], bounds[1:])]
    return _band_labels(edges), members


def band_survival(model, members):
    """Share of each band's words that the model saw in training (count > 0), per replicate.

    Parameters
    ----------
    model : NGramModel
    members : list of int arrays (from :func:`frequency_bands`)

    Returns
    -------
    ndarray, shape (R, number of bands) (or (bands,) for an unbatched model)

    Introduced in chapter 13, "A language model in miniature".
    """
    if not isinstance(model, NGramModel):
        raise TypeError(f"model must be an NGramModel, got {type(model).__name__}")
    alive = np.atleast_2d(model.unigram_counts) > 0
    out = np.stack([alive[:, ids].mean(axis=1) if len(ids) else np.full(alive.shape[0], np.nan)
                    for ids in members], axis=1)
    return out if model.batch_shape else out[0]


def real_bigrams(corpus):
    """The word pairs of the corpus's training part: keys ``h * V + w`` and their counts.

    Pairs follow the model's convention: a sentence's first word is paired
    with ``END`` (the start), its last with the ``END`` that closes it.

    Introduced in chapter 13, "A language model in miniature".
    """
    corpus = _corpus(corpus)
    x = corpus.train[None, :]
    h1, _ = _histories(x)
    keys, counts = np.unique((h1 * corpus.vocab_size + x).ravel(), return_counts=True)
    return keys, counts


def bigram_band_survival(model, keys, counts, edges=BAND_EDGES):
    """Share of the real word pairs of each count band that the model saw in training, per replicate.

    Parameters
    ----------
    model : NGramModel of order >= 2
    keys, counts : from :func:`real_bigrams`
    edges : band edges, as in :func:`frequency_bands`

    Returns
    -------
    labels : list of str
    shares : ndarray, shape (R, bands) (or (bands,))

    Introduced in chapter 13, "A language model in miniature".
    """
    if not isinstance(model, NGramModel) or model.order < 2:
        raise TypeError("model must be an NGramModel of order >= 2 (it has no word pairs otherwise)")
    keys = _ids("keys", keys, ndim=(1,))
    counts = _ids("counts", counts, ndim=(1,))
    if keys.shape != counts.shape:
        raise ValueError(f"keys and counts must have the same length, got {keys.size} and {counts.size}")
    edges = _edges(edges)
    v = model.vocab_size
    table = model._tables[2]
    reps = np.arange(model._r, dtype=np.int64)[:, None]
    query = reps * v * v + keys[None, :]
    idx = np.minimum(np.searchsorted(table.keys, query), max(table.keys.size - 1, 0))
    seen = table.keys[idx] == query if table.keys.size else np.zeros(query.shape, dtype=bool)
    bounds = list(edges) + [np.inf]
    shares = np.stack([seen[:, (counts >= a) & (counts < b)].mean(axis=1) for a, b in zip(bounds[:-1], bounds[1:])],
                      axis=1)
    return _band_labels(edges), (shares if model.batch_shape else shares[0])


def type_token_ratio(tokens):
    """Distinct words over words (``END`` not counted), per row of a token stream.

    Introduced in chapter 13, "A language model in miniature".
    """
    x = np.atleast_2d(_ids("tokens", tokens))
    words = x != END
    n_words = words.sum(axis=1)
    k = int(x.max()) + 1 if x.size else 1
    flat = (x + np.arange(x.shape[0])[:, None] * k)[words]
    present = np.bincount(flat, minlength=x.shape[0] * k).reshape(x.shape[0], k) > 0
    out = present.sum(axis=1) / np.maximum(n_words, 1)
    return out if np.ndim(tokens) == 2 else float(out[0])


def text_metrics(corpus, edges=BAND_EDGES, ttr_tokens=2000, seed=0):
    """The chapter's per-generation measurements, for ``simulate(..., metrics=...)``.

    Parameters
    ----------
    corpus : TextCorpus
    edges : band edges (training-part counts) for the rare-word and rare-pair bands
    ttr_tokens : int >= 1
        Length of the text each model writes for its type/token ratio.
    seed : int
        Seed of the generator behind that text (its own, so the run's draws
        are not disturbed).

    Returns
    -------
    dict of str -> function of a batched model
        ``perplexity`` (held-out real text), ``surviving`` (word types seen in
        training), ``ttr`` (type/token ratio of ``ttr_tokens`` tokens the
        model writes, plain sampling), ``band_<j>`` (share of the words of band
        ``j`` still seen) and, for order >= 2, ``pairs_<j>`` (share of the
        real word pairs of band ``j`` still seen); the bands' labels are those
        of :func:`frequency_bands` with the same ``edges``.

    Introduced in chapter 13, "A language model in miniature".
    """
    corpus = _corpus(corpus)
    ttr_tokens = check_int("ttr_tokens", ttr_tokens, minimum=1)
    check_budget("ttr_tokens", ttr_tokens)
    seed = None if seed is None else check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    _, members = frequency_bands(corpus.counts, edges)
    keys, counts = real_bigrams(corpus)
    held_out = corpus.held_out
    out = {
        "perplexity": lambda m: m.perplexity(held_out),
        "surviving": lambda m: m.surviving,
        "ttr": lambda m: type_token_ratio(np.atleast_2d(m.sample(ttr_tokens, rng))),
    }
    for j in range(len(members)):
        out[f"band_{j}"] = (lambda m, j=j: np.atleast_2d(band_survival(m, members))[:, j])
        out[f"pairs_{j}"] = (lambda m, j=j: np.atleast_2d(bigram_band_survival(m, keys, counts, edges)[1])[:, j]
                             if m.order >= 2 else np.full(m.replicates, np.nan))
    return out


# ----------------------------------------------------------------------------- sentences
def sentences_of(tokens, complete=True):
    """The sentences of token streams as flat arrays.

    Parameters
    ----------
    tokens : array of int, shape (R, n) or (n,)
    complete : bool
        Leave out each row's last sentence if the stream cuts it off.

    Returns
    -------
    dict of ndarray
        ``rep``, ``start``, ``length`` (tokens, its ``END`` included) per
        sentence, in stream order.

    Introduced in chapter 13, "A language model in miniature".
    """
    x = np.atleast_2d(_ids("tokens", tokens))
    r, n = x.shape
    ends = x == END
    start_mask = np.zeros_like(ends)
    start_mask[:, 0] = True
    start_mask[:, 1:] = ends[:, :-1]
    rep, start = np.nonzero(start_mask)
    # the end of each sentence: the next END at or after its start
    flat_end = np.flatnonzero(ends.ravel())
    pos = rep * n + start
    k = np.searchsorted(flat_end, pos)
    has_end = k < flat_end.size
    nxt = flat_end[np.minimum(k, flat_end.size - 1)] if flat_end.size else np.full(k.shape, -1)
    end_pos = np.where(has_end, nxt, -1)
    closed = has_end & (end_pos // max(n, 1) == rep)
    length = np.where(closed, end_pos - pos + 1, n - start)
    keep = closed if complete else np.ones_like(closed)
    keep &= start < n
    return {"rep": rep[keep], "start": start[keep], "length": length[keep]}


class _Reference:
    """What a verifier knows of real text: a bigram model of its reference sentences, and their words."""

    def __init__(self, tokens, vocab, floor):
        self.v = vocab
        self.tokens = np.atleast_2d(tokens)
        self.counts = np.bincount(self.tokens.ravel(), minlength=vocab)
        self.fit = NGramFit(order=2, floor=floor, vocab_size=vocab)
        self._models = {}

    def model(self, replicates):
        """The reference bigram model as a batch of ``replicates`` identical models."""
        if replicates not in self._models:
            self._models[replicates] = self.fit.fit(np.repeat(self.tokens, replicates, axis=0))
        return self._models[replicates]


def sentence_features(tokens, reference, model, complete=True):
    """Four features of each sentence of token streams, for telling real text from generated.

    Per sentence: its mean log probability per token under the reference
    bigram model (learned from the verifier's real sentences), the same under
    the generating ``model``, the log of its length, and the share of its
    words the reference sentences never contain. Real text tends to be more
    probable under the first than a model's own writing is, and less
    probable under the second: a linear classifier of the two is a learned
    version of the likelihood ratio ``p_real / p_model`` that chapter 8's
    (oracle) verifier computes exactly.

    Parameters
    ----------
    tokens : array of int, shape (R, n) (row r judged with replicate r of ``model``)
    reference : the ``reference`` of a :class:`LearnedVerifier`
    model : NGramModel, a batch of R models (the generator)

    Returns
    -------
    features : ndarray, shape (sentences, 4)
    sentences : dict from :func:`sentences_of`

    Introduced in chapter 13, "A language model in miniature".
    """
    x = np.atleast_2d(_ids("tokens", tokens))
    r, n = x.shape
    if not isinstance(reference, _Reference):
        raise TypeError(f"reference must be the reference of a LearnedVerifier, got {type(reference).__name__}")
    if not isinstance(model, NGramModel) or model.replicates != r:
        raise ValueError(f"model must be an NGramModel batch of {r} replicates (one per row of tokens)")
    sent = sentences_of(x, complete=complete)
    lp_ref = np.atleast_2d(reference.model(r).logpdf(x))
    lp_gen = np.atleast_2d(model.logpdf(x)) if model.batch_shape else model.logpdf(x[0])[None, :]
    new_word = (reference.counts[x] == 0) & (x != END)
    total = int(sent["length"].sum())
    ids = np.arange(sent["rep"].size)
    within = np.arange(total) - np.repeat(np.cumsum(sent["length"]) - sent["length"], sent["length"])
    rows = np.repeat(sent["rep"], sent["length"])
    cols = np.repeat(sent["start"], sent["length"]) + within
    sid = np.repeat(ids, sent["length"])

    def mean(values):
        return np.bincount(sid, weights=values[rows, cols].astype(float), minlength=ids.size) / sent["length"]

    feats = np.column_stack([mean(lp_ref), mean(lp_gen), np.log(sent["length"]), mean(new_word)])
    return feats, sent


class LearnedVerifier(Filter):
    """A real-or-generated classifier learned from ``m`` real sentences, used as a filter.

    The verifier holds ``m`` sentences of the corpus's training part, chosen
    once at random: from the first half it learns a bigram model of real text
    (its *reference*), the second half are its *real examples*. Each
    generation it draws as many sentences from the current model as
    *generated examples*, fits a logistic regression per replicate on
    :func:`sentence_features` (real = 1), and then filters: it has the model
    write ``ceil(k / keep)`` tokens, scores every complete sentence by its
    probability of being real, and keeps the highest-scoring sentences, in
    their original order, until ``k`` tokens are filled (the last one cut).

    Parameters
    ----------
    corpus : TextCorpus
    m : int >= 4
        Real sentences the verifier learns from (half reference, half examples).
    keep : float in (0, 1]
        Share of the written text kept (1: no filtering).
    seed : int >= 0
        Seed of the choice of the ``m`` real sentences (fixed for a run).
    floor : float in (0, 1)
        Uniform floor of the reference bigram model.
    rule : {"weighted", "top", "ratio"}
        How sentences are kept: ``"weighted"`` draws them without replacement
        with weights equal to the classifier's odds of "real" (a soft filter);
        ``"top"`` keeps the highest-scoring ones (a hard filter); ``"ratio"``
        ignores the classifier and weights each sentence by the likelihood
        ratio of the reference model to the generating model.

    Notes
    -----
    *Data budget.* The model trains on ``k`` tokens per generation, as
    without a filter; the verifier adds its ``m`` real sentences (never
    trained on) and has the model write ``1 / keep`` times as much text.
    *Oracle?* No: it sees only its ``m`` real sentences and the model it
    filters (whose probabilities the pipeline knows), never the world's
    probabilities; chapter 8's :class:`~collapse_lib.Verifier` is the oracle
    version. The logistic regression is scikit-learn's (Pedregosa et al.
    2011), one small fit per replicate.

    Introduced in chapter 13, "A language model in miniature".
    """

    def __init__(self, corpus, m=200, keep=0.5, seed=0, floor=1e-3, rule="weighted"):
        self.corpus = _corpus(corpus)
        if not isinstance(rule, str) or rule not in _RULES:
            raise ValueError(f"rule must be one of {_RULES}, got {rule!r}")
        self.rule = rule
        self.m = check_int("m", m, minimum=4, maximum=self.corpus.train_sentences)
        self.keep = check_fraction("keep", keep)
        if self.keep == 0:
            raise ValueError("keep must be in (0, 1] (the share of written text kept), got 0")
        self.seed = check_int("seed", seed, minimum=0)
        floor = check_fraction("floor", floor)
        if not 0 < floor < 1:
            raise ValueError(f"floor must be in (0, 1), got {floor}")
        rng = np.random.default_rng(self.seed)
        chosen = rng.choice(self.corpus.train_sentences, size=self.m, replace=False)
        half = self.m // 2
        self.reference = _Reference(self._stream(chosen[:half]), self.corpus.vocab_size, floor)
        self._examples = self._stream(chosen[half:])
        self.n_examples = self.m - half
        self.classifiers = None

    def _stream(self, ids):
        parts = []
        for i in ids:
            parts.append(self.corpus.sentence(int(i)))
            parts.append(np.array([END], dtype=np.int64))
        return np.concatenate(parts)[None, :]

    def fit(self, model, rng):
        """Fit one classifier per replicate: the real examples against as many of the model's sentences."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if not isinstance(model, NGramModel):
            raise TypeError(f"model must be an NGramModel, got {type(model).__name__}")
        check_rng(rng)
        rows = model.replicates
        batch = model if model.batch_shape else None
        if batch is None:
            raise ValueError("fit the verifier on a batched model (cl.simulate's models are)")
        real_feats, _ = sentence_features(np.repeat(self._examples, rows, axis=0), self.reference, model)
        n_pos = self.n_examples
        size = int(np.ceil(1.5 * self._examples.size)) + 50
        for _ in range(100):
            tokens = model.sample(size, rng)
            fake, sent = sentence_features(tokens, self.reference, model)
            if np.all(np.bincount(sent["rep"], minlength=rows) >= n_pos):
                break
            size *= 2
        self.classifiers = []
        real_rep = np.repeat(np.arange(rows), n_pos)
        for r in range(rows):  # one small fit per replicate
            pos = real_feats[real_rep == r]
            neg = fake[sent["rep"] == r][:n_pos]
            X = np.vstack([pos, neg])
            y = np.r_[np.ones(pos.shape[0]), np.zeros(neg.shape[0])]
            clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
            self.classifiers.append(clf.fit(X, y))
        self.model = model
        return self

    def score(self, tokens, complete=True):
        """Probability of being real of each sentence of ``tokens`` (row r judged by classifier r)."""
        if self.classifiers is None:
            raise ValueError("fit the verifier first (it needs the model whose text it judges)")
        feats, sent = sentence_features(tokens, self.reference, self.model, complete=complete)
        score = np.empty(sent["rep"].size)
        for r, clf in enumerate(self.classifiers):
            mask = sent["rep"] == r
            if mask.any():
                score[mask] = clf.predict_proba(feats[mask])[:, 1]
        return score, sent

    def draw(self, model, k, rng, world=None):
        k = check_int("k", k, minimum=0)
        check_rng(rng)
        self.fit(model, rng)
        rows = model.replicates
        size = int(np.ceil(k / self.keep)) + 64
        for _ in range(100):
            pool = model.sample(size, rng)
            score, sent = self.score(pool)
            if np.all(np.bincount(sent["rep"], weights=sent["length"], minlength=rows) >= k):
                break
            size *= 2
        if self.rule == "ratio":
            feats, _ = sentence_features(pool, self.reference, model)
            log_odds = (feats[:, 0] - feats[:, 1]) * sent["length"]
            key = np.log(rng.random(score.size)) * np.exp(-(log_odds - log_odds.max()))
        elif self.rule == "weighted":
            # Efraimidis-Spirakis keys: sentences in decreasing key order are a weighted sample
            # without replacement, weight = the classifier's odds of "real"
            odds = np.clip(score, 1e-12, 1 - 1e-12) / np.clip(1 - score, 1e-12, 1)
            key = np.log(rng.random(score.size)) / odds
        else:
            key = score
        # per replicate: highest keys first until k tokens, then back to their order
        order = np.lexsort((-key, sent["rep"]))
        rep, length = sent["rep"][order], sent["length"][order]
        cum = np.cumsum(length)
        first = np.searchsorted(rep, np.arange(rows))
        before = cum - length - np.concatenate([[0], cum])[first[rep]]
        chosen = order[before < k]
        chosen = chosen[np.lexsort((sent["start"][chosen], sent["rep"][chosen]))]
        rep, start, length = sent["rep"][chosen], sent["start"][chosen], sent["length"][chosen]
        offsets = np.repeat(np.cumsum(length) - length, length)
        flat = pool[np.repeat(rep, length), np.repeat(start, length) + np.arange(int(length.sum())) - offsets]
        begin = np.searchsorted(np.repeat(rep, length), np.arange(rows))
        return flat[begin[:, None] + np.arange(k)[None, :]]

    def __repr__(self):
        return f"LearnedVerifier(m={self.m}, keep={self.keep:g}, seed={self.seed})"


def verifier_accuracy(verifier, rng, n_test=None):
    """Accuracy and AUC of a fitted verifier: held-out real sentences against fresh generated ones.

    Parameters
    ----------
    verifier : LearnedVerifier, fitted (:meth:`LearnedVerifier.fit`) on a model
    rng : numpy.random.Generator
        For the model's fresh sentences (the negatives).
    n_test : int, optional
        Sentences of each kind (default: every held-out real sentence).

    Returns
    -------
    dict
        ``accuracy`` and ``auc`` per replicate (arrays ``(R,)``) and
        ``n_test``. Accuracy thresholds the probability of being real at one
        half; chance is 0.5 for both. The held-out sentences are from the
        corpus's held-out part: neither the verifier nor any model saw them.

    Introduced in chapter 13, "A language model in miniature".
    """
    from sklearn.metrics import roc_auc_score

    if not isinstance(verifier, LearnedVerifier):
        raise TypeError(f"verifier must be a LearnedVerifier, got {type(verifier).__name__}")
    check_rng(rng)
    if verifier.classifiers is None:
        raise ValueError("verifier must be fitted first (LearnedVerifier.fit)")
    model = verifier.model
    rows = model.replicates
    held = verifier.corpus.held_out[None, :]
    real_feats, real_sent = sentence_features(np.repeat(held, rows, axis=0), verifier.reference, model)
    n_real = int(np.sum(real_sent["rep"] == 0))
    n_test = n_real if n_test is None else check_int("n_test", n_test, minimum=2, maximum=n_real)
    size = int(np.ceil(1.5 * held.size * n_test / n_real)) + 50
    for _ in range(100):
        fake_tokens = model.sample(size, rng)
        fake_feats, fake_sent = sentence_features(fake_tokens, verifier.reference, model)
        if np.all(np.bincount(fake_sent["rep"], minlength=rows) >= n_test):
            break
        size *= 2
    acc, auc = [], []
    for r, clf in enumerate(verifier.classifiers):
        real = real_feats[real_sent["rep"] == r][:n_test]
        fake = fake_feats[fake_sent["rep"] == r][:n_test]
        y = np.r_[np.ones(n_test), np.zeros(n_test)]
        prob = clf.predict_proba(np.vstack([real, fake]))[:, 1]
        acc.append(np.mean((prob >= 0.5) == (y == 1)))
        auc.append(roc_auc_score(y, prob))
    return {"accuracy": np.array(acc), "auc": np.array(auc), "n_test": n_test}


# ----------------------------------------------------------------------------- the explorer
class TextExplorer(Explorer):
    """Chapter 13's language model, live: model order, temperature, top-p and fresh real text.

    Each setting runs the recursion on the Python documentation's text:
    ``replicates`` n-gram models, ``tokens`` tokens per generation written
    with the chosen temperature and top-p (:class:`~collapse_lib.Decoding`),
    of which a share ``anchor`` is fresh real text. Left: held-out perplexity
    per generation (mean and range over replicates) against the first
    generation's. Right: three sentences the last generation writes.

    Parameters
    ----------
    corpus : TextCorpus
    replicates, generations, tokens : int
    seed : int >= 0
    **settings
        ``order``, ``temperature``, ``top_p``, ``anchor``.

    Introduced in chapter 13, "A language model in miniature".
    """

    controls = (
        Control("order", "n-gram order", 3, options=(1, 2, 3)),
        Control("temperature", "temperature", 1.0, options=(0.5, 0.7, 0.85, 1.0, 1.2, 1.5), fmt="{:g}"),
        Control("top_p", "top-p", 1.0, options=(0.5, 0.8, 0.9, 0.95, 1.0), fmt="{:g}"),
        Control("anchor", "fresh real text", 0.0, options=(0.0, 0.05, 0.1, 0.2, 0.5), fmt="{:.0%}"),
    )
    figsize = (9.6, 3.4)

    def __init__(self, corpus, replicates=2, generations=6, tokens=6000, seed=0, **settings):
        self.corpus = _corpus(corpus)
        self.replicates = check_int("replicates", replicates, minimum=1, maximum=50)
        self.generations = check_int("generations", generations, minimum=1, maximum=100)
        self.tokens = check_int("tokens", tokens, minimum=100, maximum=200_000)
        super().__init__(seed=seed, **settings)

    def compute(self, order, temperature, top_p, anchor):
        """Held-out perplexity per generation ``(generations + 1, R)`` and sample sentences."""
        decoding = Decoding(temperature, top_p=None if top_p >= 1 else top_p)
        scheme = Anchor(anchor) if anchor > 0 else Replace()
        held_out = self.corpus.held_out
        run = simulate(self.corpus.world(self.replicates), NGramFit(order), n=self.tokens,
                       generations=self.generations, scheme=scheme, replicates=self.replicates,
                       seed=self.seed, filter=None if decoding.is_identity else decoding,
                       metrics={"perplexity": lambda m: m.perplexity(held_out)}, keep=[self.generations])
        last = run.model(self.generations)
        text = last._take(0).sample(400, np.random.default_rng(self.seed), decoding=decoding)
        lines = self.corpus.vocabulary.decode(text, max_sentences=3).split("\n")
        return {"generation": np.asarray(run.generations), "perplexity": np.asarray(run.metrics["perplexity"]),
                "lines": lines}

    def draw(self, axes, result, settings):
        import textwrap

        from .. import plotting

        ax, ax_text = axes
        g, p = result["generation"], result["perplexity"]
        plotting.band(ax, g, p.min(axis=1), p.max(axis=1), p.mean(axis=1), color=plotting.PALETTE["blue"],
                      label=f"mean and range, {self.replicates} runs")
        ax.axhline(p[0].mean(), color=plotting.PALETTE["black"], linestyle=":", label="generation 0")
        ax.set_xlabel("generation")
        ax.set_ylabel("perplexity on held-out real text")
        ax.legend(fontsize=7.5, loc="upper left")
        ax_text.axis("off")
        ax_text.grid(False)
        wrapped = "\n\n".join(textwrap.fill(line, 58) for line in result["lines"])
        ax_text.set_title(f"generation {self.generations} writes:", fontsize=9, loc="left")
        ax_text.text(0.0, 1.0, wrapped, va="top", ha="left", fontsize=7.5, family="monospace",
                     transform=ax_text.transAxes)
