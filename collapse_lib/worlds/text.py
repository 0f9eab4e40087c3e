"""Real English prose, offline: a tokenised corpus and a world that samples real sentences.

The corpus is the Python documentation's topics, the pages of the language
reference that ``help()`` shows, which ship with CPython itself as
``pydoc_data.topics``: every reader who can run the book already has them,
and nothing is downloaded. The text is the Python Software Foundation's,
licensed under the PSF License Agreement (Version 2); since Python 3.8.6 the
code examples in it are also under the Zero-Clause BSD licence. The book only
reads the copy in the reader's own Python and quotes a few of its sentences.
Its exact content depends on the Python version (topics are regenerated with
each release), so :func:`python_docs` reports the version it read.

Tokenisation is deliberately simple, so that every step can be checked by eye
(:func:`tokenize`):

1. the text is cut into paragraphs at blank lines; headings (a line underlined
   with ``*``, ``=``, ``-``, ``^`` or ``~``) and code or grammar blocks (a
   paragraph whose first line is indented by three or more spaces and is not a
   list item) are dropped;
2. a paragraph is cut into sentences after ``.``, ``!`` or ``?`` when white
   space and a capital letter (or a quotation mark or a digit) follow, so that
   "e.g. the" stays one sentence;
3. a sentence's words are its runs of letters (with an inner apostrophe:
   "object's"), lower-cased; digits and punctuation are dropped, and a
   sentence with no word is dropped.

A :class:`Vocabulary` maps words to integer ids: ``0`` is the end-of-sentence
token ``</s>``, ``1`` the unknown-word token ``<unk>`` (every word seen fewer
than ``min_count`` times in the training part), then the words by decreasing
count. A text is a *token stream*: each sentence's ids followed by ``0``.

Introduced in chapter 13, "A language model in miniature".
"""

from __future__ import annotations

import functools
import re
import sys

import numpy as np

from .._validate import check_budget, check_int, check_rng
from ..distributions import Distribution

__all__ = ["END", "UNK", "tokenize", "Vocabulary", "TextCorpus", "TextWorld", "python_docs", "LICENCE"]

#: id and spelling of the end-of-sentence token (it also pads the start of a sentence)
END = 0
#: id of the unknown-word token
UNK = 1
_END_WORD, _UNK_WORD = "</s>", "<unk>"

#: the licence of the corpus :func:`python_docs` reads
LICENCE = ("Python documentation, (c) Python Software Foundation, licensed under the PSF License "
           "Agreement (Version 2); code in it also under the Zero-Clause BSD licence (Python >= 3.8.6)")

_HEADING = re.compile(r"[*=\-^~]{3,}")
_LIST_ITEM = re.compile(r"\s*(?:[*\-+]|\d+\.|\(\d+\))\s")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'\u201c(])")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def _paragraphs(text):
    """Prose paragraphs of ``text`` (headings and indented code blocks dropped), one string each."""
    out = []
    for block in re.split(r"\n[ \t]*\n", text):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if _HEADING.fullmatch(lines[-1].strip()):
            continue  # a heading: its title and underline
        first = lines[0]
        indent = len(first) - len(first.lstrip())
        if indent >= 3 and not _LIST_ITEM.match(first):
            continue  # a code example or a grammar production
        out.append(" ".join(line.strip() for line in lines))
    return out


def _sentences(paragraph):
    """The word lists of a paragraph's sentences (empty ones dropped)."""
    out = []
    for sentence in _SENTENCE_END.split(paragraph):
        words = _WORD.findall(sentence.lower())
        if words:
            out.append(words)
    return out


def tokenize(text):
    """Cut ``text`` into paragraphs of sentences of lower-case words (see the module's rules).

    Parameters
    ----------
    text : str

    Returns
    -------
    list of list of list of str
        ``paragraphs[i][j]`` is the list of words of sentence ``j`` of paragraph ``i``;
        paragraphs without a word are left out.

    Examples
    --------
    >>> tokenize("A list, e.g. this one. It's short!\\n\\n   code = 1\\n\\nThe end.")
    [[['a', 'list', 'e', 'g', 'this', 'one'], ["it's", 'short']], [['the', 'end']]]

    Introduced in chapter 13, "A language model in miniature".
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    paragraphs = []
    for paragraph in _paragraphs(text):
        sentences = _sentences(paragraph)
        if sentences:
            paragraphs.append(sentences)
    return paragraphs


class Vocabulary:
    """Words and their integer ids: ``0`` is ``</s>``, ``1`` is ``<unk>``, then the words.

    Parameters
    ----------
    words : sequence of str
        The known words, in id order (id ``i + 2`` is ``words[i]``); no
        duplicates, and neither ``</s>`` nor ``<unk>``.

    Introduced in chapter 13, "A language model in miniature".
    """

    def __init__(self, words):
        words = tuple(words)
        if not all(isinstance(w, str) and w for w in words):
            raise TypeError("words must be non-empty strings")
        if len(set(words)) != len(words):
            raise ValueError("words must not repeat")
        if _END_WORD in words or _UNK_WORD in words:
            raise ValueError(f"words must not contain the reserved tokens {_END_WORD!r} and {_UNK_WORD!r}")
        self.words = (_END_WORD, _UNK_WORD) + words
        self._ids = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def from_sentences(cls, sentences, min_count=2):
        """The words seen at least ``min_count`` times, by decreasing count (ties alphabetical)."""
        min_count = check_int("min_count", min_count, minimum=1)
        counts = {}
        for sentence in sentences:
            for w in sentence:
                counts[w] = counts.get(w, 0) + 1
        kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(kept)

    @property
    def size(self):
        """Number of token ids V (the two special tokens included)."""
        return len(self.words)

    def __len__(self):
        return len(self.words)

    def id(self, word):
        """The id of ``word`` (``UNK`` for a word the vocabulary does not know)."""
        return self._ids.get(word, UNK)

    def encode(self, sentences):
        """A token stream: each sentence's ids followed by ``END`` (int64 array)."""
        ids = []
        for sentence in sentences:
            ids.extend(self._ids.get(w, UNK) for w in sentence)
            ids.append(END)
        return np.asarray(ids, dtype=np.int64)

    def decode(self, ids, max_sentences=None):
        """The sentences of a token stream as text, one per line (``<unk>`` shown as such).

        A last sentence cut off by the end of the stream is shown with a trailing "...".
        """
        ids = np.asarray(ids)
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise TypeError("ids must be a 1-D array of integer token ids")
        if np.any((ids < 0) | (ids >= self.size)):
            raise ValueError(f"ids must be in [0, {self.size - 1}]")
        lines, current = [], []
        for i in ids.tolist():
            if i == END:
                lines.append(" ".join(current))
                current = []
                if max_sentences is not None and len(lines) >= max_sentences:
                    return "\n".join(lines)
            else:
                current.append(self.words[i])
        if current:
            lines.append(" ".join(current) + " ...")
        return "\n".join(lines[:max_sentences] if max_sentences is not None else lines)

    def __repr__(self):
        return f"Vocabulary({self.size} ids: </s>, <unk> and {self.size - 2} words)"


def _flat(sentence_ids):
    """A list of id arrays (no END) -> (flat stream with END after each, starts, lengths with END)."""
    lengths = np.array([len(s) + 1 for s in sentence_ids], dtype=np.int64)
    flat = np.zeros(int(lengths.sum()), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    for s, start in zip(sentence_ids, starts):
        flat[start:start + len(s)] = s
    return flat, starts, lengths


class TextCorpus:
    """A real text split into a training part and a held-out part, with its vocabulary.

    Build one with :func:`python_docs` (the book's corpus) or
    :meth:`from_text` (any text). The split is by paragraph: every
    ``held_out_every``-th paragraph (counting from the first) is held out, so
    that both parts cover every topic and a held-out sentence's neighbours
    are held out with it. The vocabulary is built from the training part only.

    Attributes
    ----------
    vocabulary : Vocabulary
    train : ndarray of int
        The training part as a token stream.
    held_out : ndarray of int
        The held-out part as a token stream (words the vocabulary does not
        know become ``<unk>``).
    train_sentences, held_out_sentences : int
        Number of sentences in each part.
    counts : ndarray of int, shape (V,)
        How often each id occurs in the training stream (``END`` counts the
        sentences).
    source : str
        Where the text came from.

    Introduced in chapter 13, "A language model in miniature".
    """

    def __init__(self, paragraphs, *, min_count=2, held_out_every=5, source="text"):
        min_count = check_int("min_count", min_count, minimum=1)
        held_out_every = check_int("held_out_every", held_out_every, minimum=2)
        train_par = [p for i, p in enumerate(paragraphs) if i % held_out_every != held_out_every - 1]
        held_par = [p for i, p in enumerate(paragraphs) if i % held_out_every == held_out_every - 1]
        train_s = [s for p in train_par for s in p]
        held_s = [s for p in held_par for s in p]
        if not train_s:
            raise ValueError("the text has no sentence in its training part (an empty corpus?)")
        if not held_s:
            raise ValueError(f"the text has no held-out sentence: it needs at least {held_out_every} paragraphs")
        self.vocabulary = Vocabulary.from_sentences(train_s, min_count=min_count)
        v = self.vocabulary
        self._train_ids = [np.array([v.id(w) for w in s], dtype=np.int64) for s in train_s]
        self.train, self._starts, self._lengths = _flat(self._train_ids)
        self.held_out = v.encode(held_s)
        self.train_sentences, self.held_out_sentences = len(train_s), len(held_s)
        self.counts = np.bincount(self.train, minlength=v.size)
        self.min_count, self.held_out_every, self.source = min_count, held_out_every, source

    @classmethod
    def from_text(cls, text, *, min_count=2, held_out_every=5, source="text"):
        """A corpus from any text, tokenised by :func:`tokenize`."""
        return cls(tokenize(text), min_count=min_count, held_out_every=held_out_every, source=source)

    @property
    def vocab_size(self):
        """Number of token ids V."""
        return self.vocabulary.size

    def sentence(self, i):
        """The ids of training sentence ``i`` (without its ``END``)."""
        i = check_int("i", i, minimum=0, maximum=self.train_sentences - 1)
        return self._train_ids[i]

    def world(self, replicates=None):
        """The training part as a world: :class:`TextWorld` (a batch if ``replicates`` is given)."""
        return TextWorld(self, replicates=replicates)

    def __repr__(self):
        return (f"TextCorpus({self.source}: {self.train.size} training tokens in {self.train_sentences} sentences, "
                f"{self.held_out.size} held-out tokens, V={self.vocab_size})")


class TextWorld(Distribution):
    """Real text as a world: streams of training sentences drawn at random, with replacement.

    ``sample(size, rng)`` returns a token stream of exactly ``size`` tokens:
    sentences of the corpus's training part, each chosen uniformly at random
    (independently, with replacement), each followed by ``END``, the last one
    cut off where the stream ends. Every stream starts at the start of a
    sentence. This is the world of the language-model recursion: generation
    0 and every share of "fresh real text" (:class:`~collapse_lib.Anchor`)
    draw from it.

    Parameters
    ----------
    corpus : TextCorpus
    replicates : int, optional
        With ``R`` replicates the world is a batch: ``sample`` returns ``(R, size)``
        independent streams, each starting at a sentence start. Pass
        ``replicates`` equal to :func:`collapse_lib.simulate`'s so that its
        real samples are whole streams; an unbatched world's single stream is
        cut into rows by ``simulate``, so each row after the first starts
        mid-sentence (one spurious n-gram per row boundary).

    Attributes
    ----------
    vocab_size : int
    counts : ndarray, shape (V,)
        Token counts of the training part (the world's own frequencies).

    Introduced in chapter 13, "A language model in miniature".
    """

    def __init__(self, corpus, replicates=None):
        if not isinstance(corpus, TextCorpus):
            raise TypeError(f"corpus must be a TextCorpus, got {type(corpus).__name__}")
        self.corpus = corpus
        self.vocab_size = corpus.vocab_size
        self.counts = corpus.counts
        if replicates is not None:   # one stream per replicate: refused above the element budget
            replicates = check_budget("replicates", check_int("replicates", replicates, minimum=1))
        self.batch_shape = () if replicates is None else (replicates,)
        self._mean_length = corpus.train.size / corpus.train_sentences

    def _take(self, i):
        return TextWorld(self.corpus)

    def sample(self, size, rng):
        """A stream of ``size`` tokens, shape ``(size,)``, or ``(R, size)`` for a batch."""
        size = check_int("size", size, minimum=0)
        check_rng(rng)
        rows = self.batch_shape[0] if self.batch_shape else 1
        check_budget("size (times replicates)", rows * size)
        out = np.empty((rows, size), dtype=np.int64)
        if size:
            starts, lengths, flat = self.corpus._starts, self.corpus._lengths, self.corpus.train
            n_sent = lengths.size
            k = int(np.ceil(1.3 * size / self._mean_length)) + 8
            picks = rng.integers(0, n_sent, size=(rows, k))
            total = lengths[picks].sum(axis=1)
            while np.any(total < size):  # rare: draw more sentences for the rows that are short
                more = rng.integers(0, n_sent, size=(rows, k))
                picks = np.concatenate([picks, more], axis=1)
                total = lengths[picks].sum(axis=1)
            cum = np.cumsum(lengths[picks], axis=1)                  # (rows, k): end of each sentence
            pos = np.arange(size)
            # sentence of each position: first sentence whose end is beyond it (row by row, one search)
            offset = (np.arange(rows) * (cum[:, -1].max() + 1))[:, None]
            which = np.searchsorted((cum + offset).ravel(), (pos[None, :] + offset).ravel(), side="right")
            which = which.reshape(rows, size) - (np.arange(rows) * picks.shape[1])[:, None]
            begin = cum - lengths[picks]
            chosen = np.take_along_axis(picks, which, axis=1)
            within = pos[None, :] - np.take_along_axis(begin, which, axis=1)
            out[:] = flat[starts[chosen] + within]
        return out if self.batch_shape else out[0]

    def __repr__(self):
        batch = f", batch of {self.batch_shape[0]}" if self.batch_shape else ""
        return f"TextWorld({self.corpus.source}, V={self.vocab_size}{batch})"


@functools.lru_cache(maxsize=4)
def _python_docs(min_count, held_out_every):
    from pydoc_data import topics

    text = "\n\n".join(topics.topics[key] for key in sorted(topics.topics))
    version = ".".join(map(str, sys.version_info[:3]))
    return TextCorpus.from_text(text, min_count=min_count, held_out_every=held_out_every,
                                source=f"Python {version} documentation topics (pydoc_data)")


def python_docs(min_count=2, held_out_every=5):
    """The book's corpus: the Python documentation's topics, read from the running Python.

    Parameters
    ----------
    min_count : int >= 1
        A word seen fewer times in the training part becomes ``<unk>``.
    held_out_every : int >= 2
        Every this-many-th paragraph is held out (default: one in five).

    Returns
    -------
    TextCorpus
        Cached: the same arguments return the same object.

    Notes
    -----
    The text ships with CPython as ``pydoc_data.topics`` (the language
    reference's topics behind ``help()``), so nothing is downloaded; its
    licence is :data:`LICENCE`. Topics are concatenated in alphabetical order
    of their names. The content changes a little from one Python release to
    the next; ``corpus.source`` names the version read.

    Examples
    --------
    >>> import collapse_lib as cl
    >>> corpus = cl.worlds.text.python_docs()
    >>> corpus.vocabulary.words[:3]
    ('</s>', '<unk>', 'the')

    Introduced in chapter 13, "A language model in miniature".
    """
    min_count = check_int("min_count", min_count, minimum=1)
    held_out_every = check_int("held_out_every", held_out_every, minimum=2)
    return _python_docs(min_count, held_out_every)
