"""The n-gram language model family and decoding as a filter (chapter 13).

Exact checks use hand-counted tiny corpora (token ids: 0 is the end of a
sentence, words from 2). Statistical checks compare sampled frequencies with
the model's own probabilities by a chi-square statistic against its exact
upper quantile at 1e-4, or by a z-score of at most 4.5 standard errors (the
binomial standard error of a frequency, stated at each check); seeds are
fixed, so every run is reproducible.
"""

import numpy as np
import pytest
from scipy import stats

import collapse_lib as cl
from collapse_lib.models.ngram import END, Decoding, NGramFit, NGramModel
from collapse_lib.worlds import text

# "a b. a c. a b." with a = 2, b = 3, c = 4
TINY = np.array([2, 3, 0, 2, 4, 0, 2, 3, 0])


def _random_streams(rows, n, vocab, seed):
    """Streams with Zipf-like word frequencies and sentences of about eight tokens."""
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, vocab - 1) ** 1.1
    words = rng.choice(np.arange(2, vocab), size=(rows, n), p=p / p.sum())
    ends = rng.random((rows, n)) < 0.12
    return np.where(ends, END, words).astype(np.int64)


# ---------------------------------------------------------------------------- counts and probabilities
def test_exact_counts_and_witten_bell_on_a_tiny_corpus():
    model = NGramFit(order=3, floor=0.0, vocab_size=5).fit(TINY)
    np.testing.assert_array_equal(model.unigram_counts, [3, 0, 3, 2, 1])
    assert model.surviving == 3
    # unigram: counts / 9
    np.testing.assert_allclose(NGramFit(order=1, floor=0.0, vocab_size=5).fit(TINY).next_token_probs(),
                               [3 / 9, 0, 3 / 9, 2 / 9, 1 / 9], rtol=1e-12)
    # after "a" (seen 3 times, 2 distinct followers): lam = 3 / (3 + 2)
    lam = 3 / 5
    p2_b = lam * 2 / 3 + (1 - lam) * 2 / 9
    p2_c = lam * 1 / 3 + (1 - lam) * 1 / 9
    bigram = NGramFit(order=2, floor=0.0, vocab_size=5).fit(TINY)
    np.testing.assert_allclose(bigram.next_token_probs([2]),
                               [(1 - lam) * 3 / 9, 0, (1 - lam) * 3 / 9, p2_b, p2_c], rtol=1e-12)
    # the trigram context (start, a) was also seen 3 times with 2 distinct followers
    p3 = model.next_token_probs([2])
    np.testing.assert_allclose(p3[3], lam * 2 / 3 + (1 - lam) * p2_b, rtol=1e-12)
    np.testing.assert_allclose(p3[4], lam * 1 / 3 + (1 - lam) * p2_c, rtol=1e-12)
    # a sentence's first word: the context never reaches back past END
    start = model.next_token_probs([])
    np.testing.assert_allclose(start, model.next_token_probs([2, 3, 0]), rtol=1e-12)
    assert start[2] == pytest.approx(1.0 - (1 - 3 / 4) * (1 - 3 / 4) * (1 - 3 / 9))
    # without smoothing a seen context is its maximum-likelihood row
    ml = NGramFit(order=2, smoothing="none", floor=0.0, vocab_size=5).fit(TINY)
    np.testing.assert_allclose(ml.next_token_probs([2]), [0, 0, 0, 2 / 3, 1 / 3], rtol=1e-12)


def test_floor_mixes_a_uniform_part_into_the_unigram_model():
    floor = 0.1
    model = NGramFit(order=1, floor=floor, vocab_size=5).fit(TINY)
    np.testing.assert_allclose(model.next_token_probs(), (1 - floor) * np.array([3, 0, 3, 2, 1]) / 9 + floor / 5,
                               rtol=1e-12)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("smoothing", ["witten-bell", "none"])
def test_next_token_distributions_are_normalised(order, smoothing):
    data = _random_streams(3, 400, 30, seed=1)
    model = NGramFit(order, smoothing=smoothing, floor=1e-3, vocab_size=30).fit(data)
    for context in [(), (2,), (5, 2), (29, 28), (3, 0), (0,)]:
        p = model.next_token_probs(context)
        assert p.shape == (3, 30)
        assert np.all(p >= 0)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


def test_logpdf_agrees_with_the_next_token_distributions():
    data = _random_streams(1, 500, 20, seed=2)[0]
    model = NGramFit(3, vocab_size=20).fit(data)
    stream = _random_streams(1, 60, 20, seed=3)[0]
    lp = model.logpdf(stream)
    for i in range(stream.size):
        start = max([j + 1 for j in range(i) if stream[j] == END], default=0)
        p = model.next_token_probs(stream[start:i])
        assert lp[i] == pytest.approx(np.log(p[stream[i]]), rel=1e-12, abs=1e-12)
    assert model.log_loss(stream) == pytest.approx(-lp.mean(), rel=1e-12)
    assert model.perplexity(stream) == pytest.approx(np.exp(-lp.mean()), rel=1e-12)


def test_perplexity_of_known_models():
    # a uniform unigram over V tokens has perplexity V on any text
    v = 7
    uniform = NGramFit(order=1, floor=0.0, vocab_size=v).fit(np.tile(np.arange(v), 5))
    stream = _random_streams(1, 300, v, seed=4)[0]
    assert uniform.perplexity(stream) == pytest.approx(v, rel=1e-12)
    # a deterministic cycle learned without smoothing predicts itself perfectly: perplexity 1
    cycle = np.tile([2, 3, 4, 0], 10)
    det = NGramFit(order=2, smoothing="none", floor=0.0, vocab_size=5).fit(cycle)
    assert det.perplexity(cycle) == pytest.approx(1.0, abs=1e-12)
    # with floor 0 an unseen token has probability 0: infinite perplexity
    assert det.perplexity(np.array([2, 4, 0])) == np.inf


# ---------------------------------------------------------------------------- batches
def test_batched_fit_matches_fitting_each_replicate():
    data = _random_streams(4, 300, 25, seed=5)
    fit = NGramFit(3, vocab_size=25)
    batch = fit.fit(data)
    assert isinstance(batch, NGramModel) and batch.batch_shape == (4,)
    probe = _random_streams(1, 80, 25, seed=6)[0]
    lp = batch.logpdf(probe)
    for r in range(4):
        alone = fit.fit(data[r])
        assert alone.batch_shape == ()
        np.testing.assert_allclose(lp[r], alone.logpdf(probe), rtol=1e-12)
        np.testing.assert_allclose(batch.logpdf(data)[r], alone.logpdf(data[r]), rtol=1e-12)
        np.testing.assert_array_equal(batch.unigram_counts[r], alone.unigram_counts)
        np.testing.assert_allclose(batch._take(r).next_token_probs([3, 2]), alone.next_token_probs([3, 2]),
                                   rtol=1e-12)


def test_batched_and_unbatched_sampling_agree_in_law():
    # a batch of identical models and the unbatched model write text with the same unigram
    # frequencies: a two-sample chi-square test of the pooled token counts
    data = _random_streams(1, 400, 12, seed=7)[0]
    fit = NGramFit(2, vocab_size=12)
    alone = fit.fit(data)
    batch = fit.fit(np.tile(data, (8, 1)))
    a = np.bincount(batch.sample(2500, np.random.default_rng(8)).ravel(), minlength=12)
    b = np.bincount(alone.sample(20_000, np.random.default_rng(9)), minlength=12)
    table = np.vstack([a, b])[:, (a + b) > 0]
    # tokens within a stream are dependent (a Markov chain), which inflates the statistic a
    # little; the chain mixes within a sentence, so a 1e-4 quantile leaves ample room
    chi2, p, dof, _ = stats.chi2_contingency(table)
    assert p > 1e-4, (chi2, dof)
    # replicates are independent: different streams
    s = batch.sample(200, np.random.default_rng(10))
    assert not np.array_equal(s[0], s[1])


# ---------------------------------------------------------------------------- sampling law
def _transition_counts(streams, context_len, context):
    """Next-token counts after ``context`` (of length 1 or 2) in streams, contexts not crossing END."""
    x = np.atleast_2d(streams)
    v = int(x.max()) + 1
    counts = np.zeros(v, dtype=np.int64)
    for row in x:
        if context_len == 1:
            h = row[:-1] == context[0]
            counts += np.bincount(row[1:][h], minlength=v)
        else:
            h = (row[:-2] == context[0]) & (row[1:-1] == context[1]) & (row[1:-1] != END)
            counts += np.bincount(row[2:][h], minlength=v)
    return counts


def _chi_square_ok(counts, probs):
    """Chi-square goodness of fit at the 1e-4 level (cells with tiny expectation merged)."""
    n = counts.sum()
    expected = n * probs[:counts.size]
    big = expected >= 5
    obs = np.r_[counts[big], counts[~big].sum()]
    exp = np.r_[expected[big], expected[~big].sum()]
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    stat = ((obs - exp) ** 2 / exp).sum()
    return stat < stats.chi2.isf(1e-4, obs.size - 1), stat, obs.size - 1


@pytest.mark.parametrize("decoding", [None, Decoding(0.7), Decoding(1.5), Decoding(top_k=3),
                                      Decoding(top_p=0.8), Decoding(0.8, top_k=4, top_p=0.9)])
def test_sampled_next_tokens_follow_the_model(decoding):
    data = _random_streams(1, 600, 10, seed=11)[0]
    model = NGramFit(3, vocab_size=10).fit(data)
    text_ = model.sample(60_000, np.random.default_rng(12), decoding=decoding)
    assert text_.shape == (60_000,)
    for context in [(0, 2), (0,), (3, 2)]:  # (0, 2): a sentence that starts with token 2
        counts = _transition_counts(text_, len(context), context)
        assert counts.sum() > 1000
        probs = model.next_token_probs(context, decoding=decoding)
        assert np.all(counts[probs[:counts.size] == 0] == 0)  # a filtered token is never written
        ok, stat, dof = _chi_square_ok(counts, probs)
        assert ok, (context, stat, dof)
    # the stream is whole sentences: it starts at a sentence start (first token from the start context)
    starts = model.sample(1, np.random.default_rng(13), decoding=decoding)
    assert starts.shape == (1,)


def test_order_one_sample_frequencies_match_binomial_standard_errors():
    data = _random_streams(1, 300, 8, seed=14)[0]
    model = NGramFit(1, vocab_size=8).fit(data)
    n = 50_000
    freq = np.bincount(model.sample(n, np.random.default_rng(15)), minlength=8) / n
    p = model.next_token_probs()
    se = np.sqrt(p * (1 - p) / n)  # a unigram model writes independent tokens: binomial SE
    assert np.all(np.abs(freq - p) <= 4.5 * se)


# ---------------------------------------------------------------------------- decoding, exact cases
P = np.array([0.1, 0.4, 0.2, 0.3])


def test_top_k_keeps_exactly_the_k_largest_renormalised():
    np.testing.assert_allclose(Decoding(top_k=2).apply(P), [0, 4 / 7, 0, 3 / 7], rtol=1e-12)
    np.testing.assert_allclose(Decoding(top_k=1).apply(P), [0, 1, 0, 0])
    np.testing.assert_allclose(Decoding(top_k=4).apply(P), P, rtol=1e-12)
    np.testing.assert_allclose(Decoding(top_k=10).apply(P), P, rtol=1e-12)
    # ties with the last kept token are kept together
    np.testing.assert_allclose(Decoding(top_k=1).apply([0.4, 0.4, 0.2]), [0.5, 0.5, 0])


def test_top_p_keeps_the_smallest_set_reaching_p():
    np.testing.assert_allclose(Decoding(top_p=0.6).apply(P), [0, 4 / 7, 0, 3 / 7], rtol=1e-12)
    np.testing.assert_allclose(Decoding(top_p=0.7).apply(P), [0, 4 / 7, 0, 3 / 7], rtol=1e-12)  # reaches exactly
    np.testing.assert_allclose(Decoding(top_p=0.75).apply(P), [0, 4 / 9, 2 / 9, 3 / 9], rtol=1e-12)
    np.testing.assert_allclose(Decoding(top_p=0.3).apply(P), [0, 1, 0, 0])
    np.testing.assert_allclose(Decoding(top_p=1.0).apply(P), P, rtol=1e-12)


def test_temperature_raises_probabilities_to_one_over_t():
    for t in (0.5, 0.8, 2.0):
        q = P ** (1 / t)
        np.testing.assert_allclose(Decoding(temperature=t).apply(P), q / q.sum(), rtol=1e-12)
    np.testing.assert_allclose(Decoding(temperature=0).apply(P), [0, 1, 0, 0])  # greedy
    # temperature first, then top-k, then top-p on the result
    q = P ** 2 / (P ** 2).sum()                       # [1, 16, 4, 9] / 30
    np.testing.assert_allclose(Decoding(0.5, top_k=3, top_p=0.6).apply(P), [0, 16 / 25, 0, 9 / 25], rtol=1e-12)
    assert q[1] < 0.6 < q[1] + q[3]
    # a batch of rows is filtered row by row, zero-probability tokens never kept
    rows = np.array([P, [0.0, 0.0, 0.5, 0.5]])
    np.testing.assert_allclose(Decoding(top_k=3).apply(rows)[1], [0, 0, 0.5, 0.5])


@pytest.mark.parametrize("order", [1, 2, 3])
def test_sparse_decoded_distributions_match_the_dense_filter(order):
    # the model samples with decoding through a sparse per-context computation; it must equal
    # Decoding.apply on the dense next-token distribution
    data = _random_streams(2, 800, 40, seed=16)
    model = NGramFit(order, vocab_size=40).fit(data)
    settings = [Decoding(0.6), Decoding(1.7), Decoding(top_k=5), Decoding(top_p=0.85), Decoding(0),
                Decoding(0.8, top_k=12, top_p=0.7), Decoding(1.3, top_p=0.5)]
    for dec in settings:
        for context in [(), (2,), (2, 3), (39,), (7, 5), (0,)]:
            np.testing.assert_allclose(model.next_token_probs(context, decoding=dec),
                                       dec.apply(model.next_token_probs(context)), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------- bad input
def test_bad_input_is_refused_naming_the_parameter():
    with pytest.raises(ValueError, match="order"):
        NGramFit(order=4)
    with pytest.raises(ValueError, match="smoothing"):
        NGramFit(smoothing="kneser-ney")
    with pytest.raises(TypeError, match="smoothing"):
        NGramFit(smoothing=3)
    with pytest.raises(ValueError, match="floor"):
        NGramFit(floor=1.0)
    with pytest.raises(ValueError, match="vocab_size"):
        NGramFit(vocab_size=1)
    fit = NGramFit(2, vocab_size=5)
    with pytest.raises(TypeError, match="data"):
        fit.fit(np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="data"):
        fit.fit(np.array([2, -1, 0]))
    with pytest.raises(ValueError, match="data"):
        fit.fit(np.array([2, 7, 0]))
    with pytest.raises(ValueError, match="data"):
        fit.fit(np.zeros((2, 0), dtype=int))
    with pytest.raises(ValueError, match="data"):
        fit.fit(np.zeros((2, 2, 2), dtype=int))
    model = fit.fit(TINY)
    with pytest.raises(ValueError, match="tokens"):
        model.perplexity(np.array([2, 9]))
    with pytest.raises(TypeError, match="tokens"):
        model.logpdf(np.array([2.0, 3.0]))
    with pytest.raises(ValueError, match="size"):
        model.sample(-1, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        model.sample(5, 0)
    with pytest.raises(TypeError, match="decoding"):
        model.sample(5, np.random.default_rng(0), decoding=0.7)
    with pytest.raises(ValueError, match="context"):
        model.next_token_probs([9])
    with pytest.raises(ValueError, match="temperature"):
        Decoding(temperature=-1)
    with pytest.raises(ValueError, match="temperature"):
        Decoding(temperature=0.01)
    with pytest.raises(ValueError, match="top_k"):
        Decoding(top_k=0)
    with pytest.raises(ValueError, match="top_p"):
        Decoding(top_p=0)
    with pytest.raises(ValueError, match="top_p"):
        Decoding(top_p=1.5)
    with pytest.raises(ValueError, match="probs"):
        Decoding(top_k=1).apply([0.5, 0.2])


# ---------------------------------------------------------------------------- the recursion
def test_the_recursion_runs_through_simulate_with_each_scheme():
    corpus = text.python_docs()
    world = corpus.world(3)
    fit = NGramFit(2, floor=0.0)
    runs = {name: cl.simulate(world, fit, n=3000, generations=4, scheme=scheme, replicates=3, seed=5,
                              metrics={"surviving": lambda m: m.surviving,
                                       "ppl": lambda m: m.perplexity(corpus.held_out[:400])})
            for name, scheme in [("replace", cl.Replace()), ("anchor", cl.Anchor(0.5)),
                                 ("accumulate", cl.Accumulate())]}
    for run in runs.values():
        assert run.model(4).vocab_size == corpus.vocab_size     # prepare() read the world's vocabulary
        assert np.asarray(run.metrics["surviving"]).shape == (5, 3)
    # generation 0 is the same real sample under every scheme (same seed)
    s0 = [np.asarray(r.metrics["surviving"])[0] for r in runs.values()]
    np.testing.assert_array_equal(s0[0], s0[1])
    np.testing.assert_array_equal(s0[0], s0[2])
    # exact properties: with floor 0 a word lost under replace never returns, and an
    # accumulating model only adds data, so it never loses a word
    rep = np.asarray(runs["replace"].metrics["surviving"])
    acc = np.asarray(runs["accumulate"].metrics["surviving"])
    assert np.all(np.diff(rep, axis=0) <= 0) and rep[-1].max() < rep[0].min()
    assert np.all(np.diff(acc, axis=0) >= 0)
    # fresh real text brings words back: the anchored runs keep more words than replace
    anc = np.asarray(runs["anchor"].metrics["surviving"])
    assert np.all(anc[-1] > rep[-1])
    # a decoding setting runs as simulate's filter
    dec = cl.simulate(world, fit, n=3000, generations=2, replicates=3, seed=5, filter=Decoding(0.7, top_p=0.9),
                      metrics={"surviving": lambda m: m.surviving})
    assert np.all(np.asarray(dec.metrics["surviving"])[-1] < rep[2])
