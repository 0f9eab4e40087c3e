"""Real English word frequencies as a categorical world.

The world is the ``k`` most frequent English words with the frequencies the
``wordfreq`` package ships in its wheel (offline; Speer 2022), renormalised
over those ``k`` words. What refitting does to this vocabulary is measured in
:mod:`collapse_lib.studies.vocabulary`.

Introduced in chapter 5, "Tokens and words".
"""

from __future__ import annotations

import functools

import numpy as np

from .._validate import check_int
from ..distributions import Categorical

__all__ = ["english_words"]


@functools.lru_cache(maxsize=8)
def _top_words(k, lang):
    import wordfreq

    words = wordfreq.top_n_list(lang, k, wordlist="best")
    freqs = wordfreq.get_frequency_dict(lang, wordlist="best")
    return tuple(words), np.array([freqs[w] for w in words], dtype=float)


def english_words(k, lang="en"):
    """The ``k`` most frequent words and a :class:`~collapse_lib.Categorical` over them.

    Parameters
    ----------
    k : int in [2, 100000]
        Vocabulary size: the top ``k`` words by frequency.
    lang : str
        Language code understood by ``wordfreq`` (English by default).

    Returns
    -------
    words : tuple of str
        The words, most frequent first (category id ``i`` is ``words[i]``).
    world : Categorical
        Their frequencies renormalised to sum to 1 over the ``k`` words.

    Notes
    -----
    ``wordfreq`` rounds frequencies into small bins, so neighbouring ranks deep
    in the list often share a frequency; the order among such ties is
    ``wordfreq``'s. Results are cached and need no network.

    Examples
    --------
    >>> import collapse_lib as cl
    >>> words, world = cl.english_words(1000)
    >>> words[0], world.n_categories
    ('the', 1000)

    Introduced in chapter 5, "Tokens and words".
    """
    k = check_int("k", k, minimum=2, maximum=100_000)
    if not isinstance(lang, str):
        raise TypeError(f"lang must be a language code string, got {type(lang).__name__}")
    try:
        words, freqs = _top_words(k, lang)
    except LookupError:
        raise ValueError(f"lang must be a language code with a wordfreq word list (e.g. 'en', 'fr', 'de'), "
                         f"got {lang!r}") from None
    if len(words) < k:
        raise ValueError(f"k must be <= {len(words)} for lang={lang!r}, got {k}")
    return words, Categorical(freqs / freqs.sum())
