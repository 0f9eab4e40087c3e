"""Real text (cl.worlds.text) and chapter 13's measurements on it (cl.language).

Exact checks use hand-made texts and tiny models whose counts are known.
The verifier's accuracy is checked against chance with a tolerance of four
binomial standard errors of an accuracy measured on ``2 n_test`` sentences;
seeds are fixed, so every run is reproducible.
"""

import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib.models.ngram import END, NGramFit
from collapse_lib.studies import language as L
from collapse_lib.worlds import text

TEXT = "\n\n".join([
    "The cat sat. The dog ran!",
    "A cat ran. The cat sat again?",
    "Heading\n*******",
    "   code = 1\n   more code",
    "The dog sat. A dog ran.",
    "The bird sang. The cat sang.",
    "A dog sat. The bird ran.",
])


def test_tokenize_follows_the_stated_rules():
    assert text.tokenize("A list, e.g. this one. It's short!\n\n   code = 1\n\nThe end.") == [
        [["a", "list", "e", "g", "this", "one"], ["it's", "short"]], [["the", "end"]]]
    paragraphs = text.tokenize(TEXT)
    assert len(paragraphs) == 5                       # heading and code block dropped
    assert paragraphs[0] == [["the", "cat", "sat"], ["the", "dog", "ran"]]
    with pytest.raises(TypeError, match="text"):
        text.tokenize(3)


def test_corpus_split_vocabulary_and_round_trip():
    corpus = text.TextCorpus.from_text(TEXT, min_count=2, held_out_every=5)
    v = corpus.vocabulary
    assert v.words[:2] == ("</s>", "<unk>")
    assert v.words[2] == "the"                        # the most frequent training word
    assert corpus.train_sentences == 8 and corpus.held_out_sentences == 2
    # the stream is each sentence's ids then END; counts are the stream's
    assert corpus.train[0:4].tolist() == [v.id("the"), v.id("cat"), v.id("sat"), END]
    np.testing.assert_array_equal(corpus.counts, np.bincount(corpus.train, minlength=v.size))
    assert corpus.counts[END] == corpus.train_sentences
    assert v.decode(corpus.train, max_sentences=2) == "the cat sat\nthe dog ran"
    assert v.id("zebra") == text.UNK
    assert v.decode(v.encode([["the", "zebra"]])) == "the <unk>"
    assert "PSF" in text.LICENCE and "Python Software Foundation" in text.LICENCE
    with pytest.raises(ValueError, match="min_count"):
        text.TextCorpus.from_text(TEXT, min_count=0)
    with pytest.raises(ValueError, match="held_out_every"):
        text.TextCorpus.from_text(TEXT, held_out_every=1)
    with pytest.raises(ValueError, match="words"):
        text.Vocabulary(["a", "a"])


def test_python_docs_is_offline_and_cached():
    corpus = text.python_docs()
    assert corpus is text.python_docs()
    assert "pydoc_data" in corpus.source
    assert corpus.train_sentences > 1000 and corpus.held_out.size > 1000
    assert corpus.vocabulary.words[2] == "the"
    assert cl.python_docs() is corpus


def test_text_world_writes_whole_real_sentences():
    corpus = text.python_docs()
    world = corpus.world(3)
    x = world.sample(500, np.random.default_rng(0))
    assert x.shape == (3, 500) and x.dtype.kind == "i"
    known = {tuple(corpus.sentence(i).tolist()) for i in range(corpus.train_sentences)}
    for row in x:
        ends = np.flatnonzero(row == END)
        starts = np.r_[0, ends[:-1] + 1]
        for a, b in zip(starts, ends):
            assert tuple(row[a:b].tolist()) in known      # every complete sentence is a real one
    assert corpus.world().sample(50, np.random.default_rng(1)).shape == (50,)
    with pytest.raises(TypeError, match="corpus"):
        text.TextWorld("not a corpus")


def test_frequency_bands_and_band_survival_exactly():
    counts = np.array([9, 4, 2, 3, 5, 70, 0, 16])
    labels, members = L.frequency_bands(counts, edges=(2, 4, 16))
    assert labels == ["2-3", "4-15", "16+"]
    assert [m.tolist() for m in members] == [[2, 3], [4], [5, 7]]   # ids 0 and 1 never in a band
    # a model that saw ids 2, 4 and 5 only
    model = NGramFit(1, vocab_size=8).fit(np.array([2, 4, 5, 0]))
    np.testing.assert_allclose(L.band_survival(model, members), [0.5, 1.0, 0.5])
    with pytest.raises(ValueError, match="edges"):
        L.frequency_bands(counts, edges=(4, 2))


def test_bigram_band_survival_and_type_token_ratio_exactly():
    corpus = text.TextCorpus.from_text(TEXT, min_count=1)
    keys, counts = L.real_bigrams(corpus)
    assert counts.sum() == corpus.train.size
    model = NGramFit(2, vocab_size=corpus.vocab_size).fit(corpus.train)
    _, shares = L.bigram_band_survival(model, keys, counts, edges=(1, 2))
    np.testing.assert_allclose(shares, [1.0, 1.0])          # a model of the text itself saw every pair
    half = NGramFit(2, vocab_size=corpus.vocab_size).fit(corpus.train[:4])
    _, shares = L.bigram_band_survival(half, keys, counts, edges=(1,))
    assert shares[0] == pytest.approx(4 / keys.size)
    assert L.type_token_ratio(np.array([2, 3, 2, 0, 4, 0])) == pytest.approx(3 / 4)
    np.testing.assert_allclose(L.type_token_ratio(np.array([[2, 2, 0], [2, 3, 0]])), [0.5, 1.0])
    with pytest.raises(TypeError, match="order"):
        L.bigram_band_survival(NGramFit(1, vocab_size=corpus.vocab_size).fit(corpus.train), keys, counts)


def test_sentences_of_finds_complete_sentences():
    x = np.array([[2, 3, 0, 4, 0, 5], [0, 2, 0, 3, 3, 3]])
    s = L.sentences_of(x)
    assert s["rep"].tolist() == [0, 0, 1, 1]
    assert s["start"].tolist() == [0, 3, 0, 1]
    assert s["length"].tolist() == [3, 2, 1, 2]
    t = L.sentences_of(x, complete=False)
    assert t["length"].tolist() == [3, 2, 1, 1, 2, 3]


def test_text_metrics_on_a_recursion():
    corpus = text.python_docs()
    metrics = L.text_metrics(corpus, ttr_tokens=500)
    run = cl.simulate(corpus.world(2), NGramFit(2, floor=0.0), n=2000, generations=2, replicates=2, seed=3,
                      metrics=metrics, keep=[])
    labels, members = L.frequency_bands(corpus.counts)
    assert {f"band_{j}" for j in range(len(labels))} <= set(run.metrics)
    ppl = np.asarray(run.metrics["perplexity"])
    assert ppl.shape == (3, 2) and np.all(ppl[1:] > 1)
    for j in range(len(labels)):
        band = np.asarray(run.metrics[f"band_{j}"])
        assert np.all((band >= 0) & (band <= 1))
        assert np.all(np.diff(band, axis=0) <= 0)      # floor 0 and replace: a lost word never returns
    ttr = np.asarray(run.metrics["ttr"])
    assert np.all((ttr > 0) & (ttr <= 1))
    with pytest.raises(TypeError, match="corpus"):
        L.text_metrics("text")
    with pytest.raises(ValueError, match="ttr_tokens"):
        L.text_metrics(corpus, ttr_tokens=0)


def test_learned_verifier_beats_chance_and_filters_to_k_tokens():
    corpus = text.python_docs()
    rng = np.random.default_rng(4)
    # a unigram model writes word salad: a verifier from 200 real sentences should tell it apart
    model = NGramFit(1, vocab_size=corpus.vocab_size).fit(corpus.world(2).sample(4000, rng))
    verifier = L.LearnedVerifier(corpus, m=200, keep=0.5, seed=1).fit(model, rng)
    acc = L.verifier_accuracy(verifier, rng, n_test=200)
    se = np.sqrt(0.25 / (2 * acc["n_test"]))          # binomial SE of an accuracy at chance
    assert np.all(acc["accuracy"] > 0.5 + 4 * se)
    assert np.all(acc["auc"] > 0.5) and np.all(acc["auc"] <= 1)
    kept = verifier.draw(model, 700, rng)
    assert kept.shape == (2, 700)
    assert np.all(kept[:, :1] != -1) and kept.min() >= 0 and kept.max() < corpus.vocab_size
    with pytest.raises(ValueError, match="m"):
        L.LearnedVerifier(corpus, m=2)
    with pytest.raises(ValueError, match="keep"):
        L.LearnedVerifier(corpus, keep=0)
    with pytest.raises(ValueError, match="rule"):
        L.LearnedVerifier(corpus, rule="best")
    with pytest.raises(ValueError, match="fit"):
        L.verifier_accuracy(L.LearnedVerifier(corpus, m=20), rng)


def test_text_explorer_computes_and_draws():
    corpus = text.python_docs()
    explorer = L.TextExplorer(corpus, replicates=2, generations=2, tokens=1500)
    result = explorer.result
    assert result["perplexity"].shape == (3, 2)
    assert len(result["lines"]) >= 1 and explorer.png
    again = explorer.update(top_p=0.8)
    assert again["perplexity"].shape == (3, 2)
    with pytest.raises(ValueError, match="top_p"):
        explorer.update(top_p=0.3)
