"""English word frequencies (chapter 5), reached as cl.words as the chapter does.

The code lives in collapse_lib.worlds.words and collapse_lib.studies.vocabulary.

Statistical checks compare simulations with closed forms (Wright-Fisher
heterozygosity decay, loss probability 1 - q, expected vocabulary of a first
fit) with tolerances of 4 standard errors of the simulated estimate, stated at
each check; fixed seeds make every run reproducible.
"""

import warnings

import numpy as np
import pytest

import collapse_lib as cl
from collapse_lib import words as W


def test_english_words_is_a_renormalised_top_k_list():
    words, world = W.english_words(5000)
    assert len(words) == 5000 == world.n_categories
    assert words[0] == "the"
    assert len(set(words)) == 5000
    assert world.probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(world.probs > 0)
    assert np.all(np.diff(world.probs) <= 0)  # most frequent first
    words2, world2 = W.english_words(5000)
    assert words2 == words and np.array_equal(world2.probs, world.probs)
    # A smaller vocabulary is the same ranking, renormalised.
    small_words, small = W.english_words(100)
    assert small_words == words[:100]
    np.testing.assert_allclose(small.probs, world.probs[:100] / world.probs[:100].sum(), rtol=1e-12)


def test_english_frequencies_are_zipf_like():
    # Word frequencies follow Zipf's law with an exponent near 1 over middle ranks.
    _, world = W.english_words(10_000)
    _, freqs = W.rank_frequency(world)
    beta = W.fit_zipf_exponent(freqs, lo=10, hi=1000)
    assert 0.8 < beta < 1.3


@pytest.mark.parametrize("k", [1, 0, 100_001])
def test_english_words_rejects_bad_k(k):
    with pytest.raises(ValueError, match="k must be"):
        W.english_words(k)


def test_english_words_rejects_bad_types():
    with pytest.raises(TypeError, match="k must be an integer"):
        W.english_words(10.5)
    with pytest.raises(TypeError, match="lang"):
        W.english_words(10, lang=3)


def test_fit_zipf_exponent_recovers_an_exact_zipf_law():
    ranks = np.arange(1, 2001, dtype=float)
    for beta in (0.7, 1.0, 1.6):
        freqs = ranks**-beta / np.sum(ranks**-beta)
        assert W.fit_zipf_exponent(freqs, lo=1) == pytest.approx(beta, abs=1e-9)
    with pytest.raises(ValueError, match="hi must be"):
        W.fit_zipf_exponent(freqs, lo=5, hi=5000)


def test_rank_survival_and_bins_by_hand():
    probs = np.array([[0.5, 0.5, 0.0, 0.0],
                      [0.7, 0.0, 0.3, 0.0]])
    np.testing.assert_array_equal(W.rank_survival(probs), [1.0, 0.5, 0.5, 0.0])
    np.testing.assert_array_equal(W.rank_survival(probs[0]), [1.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(W.survival_by_rank_bin(probs, [1, 2, 5]), [1.0, 1.0 / 3.0])
    with pytest.raises(ValueError, match="edges"):
        W.survival_by_rank_bin(probs, [1, 7])
    with pytest.raises(ValueError, match="edges"):
        W.survival_by_rank_bin(probs, [0.5, 2.0])


def test_measures_reject_a_model_that_is_not_probabilities():
    with pytest.raises(TypeError, match="model must be"):
        W.rank_survival("abc")
    with pytest.raises(TypeError, match="model must be"):
        W.oov_rate(object(), [0, 1])


def test_rank_frequency_drops_lost_words_and_sorts():
    ranks, freqs = W.rank_frequency(np.array([0.1, 0.0, 0.6, 0.3]))
    np.testing.assert_array_equal(ranks, [1, 2, 3])
    np.testing.assert_array_equal(freqs, [0.6, 0.3, 0.1])
    with pytest.raises(ValueError, match="one model"):
        W.rank_frequency(np.full((2, 2), 0.5))


def test_oov_and_perplexity_by_hand():
    model = np.array([0.5, 0.5, 0.0, 0.0])
    held = np.array([0, 1, 1, 2])
    assert W.oov_rate(model, held) == pytest.approx(0.25)
    # Unsmoothed: one lost held-out word makes perplexity infinite, without warnings.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert W.held_out_perplexity(model, held) == np.inf
    assert W.held_out_perplexity(model, np.array([0, 1])) == pytest.approx(2.0)
    # Full smoothing is the uniform model: perplexity K.
    assert W.held_out_perplexity(model, held, smoothing=1.0) == pytest.approx(4.0)
    lam = 0.1
    q = (1 - lam) * model[held] + lam / 4
    assert W.held_out_perplexity(model, held, smoothing=lam) == pytest.approx(np.exp(-np.mean(np.log(q))))
    batch = np.stack([model, np.full(4, 0.25)])
    np.testing.assert_allclose(W.oov_rate(batch, held), [0.25, 0.0])
    np.testing.assert_allclose(W.held_out_perplexity(batch, held), [np.inf, 4.0])


def test_held_out_validation():
    model = np.full(4, 0.25)
    with pytest.raises(TypeError, match="held_out"):
        W.oov_rate(model, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="held_out ids"):
        W.held_out_perplexity(model, np.array([0, 4]))
    with pytest.raises(ValueError, match="held_out"):
        W.held_out_perplexity(model, np.array([], dtype=int))
    with pytest.raises(ValueError, match="smoothing"):
        W.held_out_perplexity(model, np.array([0]), smoothing=1.5)


def test_world_perplexity_on_real_text_matches_its_entropy():
    # Perplexity of the world itself on its own held-out text estimates exp(entropy).
    _, world = W.english_words(2000)
    m = 200_000
    held = world.sample(m, np.random.default_rng(11))
    logp = np.log(world.probs[held])
    se = logp.std(ddof=1) / np.sqrt(m)  # standard error of the mean log-probability
    assert np.log(W.held_out_perplexity(world, held)) == pytest.approx(world.entropy, abs=4 * se)


def test_expected_survivors_edge_cases():
    assert W.expected_survivors([0.5, 0.5], 0) == 0.0
    assert W.expected_survivors([0.5, 0.5], 1) == pytest.approx(1.0)
    assert W.expected_survivors([0.5, 0.5], 2) == pytest.approx(1.5)
    assert W.expected_survivors([1.0, 0.0, 0.0], 7) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="probs"):
        W.expected_survivors([[0.5, 0.5]], 3)
    with pytest.raises(ValueError, match="n must be"):
        W.expected_survivors([0.5, 0.5], -1)


def test_first_fit_keeps_the_expected_vocabulary():
    # models[0] is fitted on n real words: it keeps exactly the words it saw.
    _, world = W.english_words(10_000)
    n, reps = 10_000, 200
    run = cl.simulate(world, cl.CategoricalFit(), n=n, generations=0, replicates=reps, seed=3)
    kept = run.models[0].surviving
    se = kept.std(ddof=1) / np.sqrt(reps)
    assert kept.mean() == pytest.approx(W.expected_survivors(world.probs, n), abs=4 * se)  # tol = 4 SE


def test_heterozygosity_decays_like_wright_fisher_on_english():
    # E[H] after t + 1 fits of n draws is (1 - 1/n)^(t + 1) H_world, for any vocabulary.
    _, world = W.english_words(500)
    n, reps, gens = 40, 4000, 30
    run = cl.simulate(world, cl.CategoricalFit(), n=n, generations=gens, replicates=reps, seed=5,
                      record_every=10)
    s = run.summary("heterozygosity")
    theory = world.heterozygosity * (1 - 1 / n) ** (run.generations + 1)
    assert np.all(np.abs(s["mean"] - theory) <= 4 * s["se"])  # tol = 4 SE per recorded generation
    # and the decay is real: the last generation is far below the world
    assert s["mean"][-1] < 0.6 * world.heterozygosity


def test_loss_probability_is_one_minus_q_and_loss_is_absorbing():
    q = np.array([0.6, 0.25, 0.1, 0.05])
    reps = 20_000
    run = cl.simulate(cl.Categorical(q), cl.CategoricalFit(), n=10, generations=200,
                      replicates=reps, seed=7, record_every=20)
    final = run.models[-1].probs
    assert np.all(final.max(axis=1) == 1.0)  # every replicate has fixed one word
    lost = (final == 0).mean(axis=0)
    se = np.sqrt(q * (1 - q) / reps)  # binomial standard error of each loss fraction
    assert np.all(np.abs(lost - (1 - q)) <= 4 * se)  # tol = 4 SE
    # A lost word never returns under Replace.
    alive = np.stack([m.probs > 0 for m in run.models])
    assert not np.any(alive[1:] & ~alive[:-1])


def test_anchor_of_real_text_holds_the_vocabulary():
    _, world = W.english_words(5000)
    kw = dict(n=20_000, generations=40, replicates=4, seed=9, record_every=40)
    free = cl.simulate(world, cl.CategoricalFit(), **kw).models[-1].surviving
    anchored = cl.simulate(world, cl.CategoricalFit(), scheme=cl.Anchor(0.1), **kw).models[-1].surviving
    # Unanchored the vocabulary keeps shrinking; with fresh real text lost words come back.
    assert anchored.min() > 1.5 * free.max()


def test_nature_constants_are_as_quoted():
    c = W.NATURE_OPT125M
    assert c["model"] == "OPT-125m" and c["dataset"] == "wikitext2"
    assert c["gen0_perplexity"] == 34 and c["zero_shot_perplexity"] == 115
    assert c["rise_no_original"] == (20, 28)
    assert c["kept_original_fraction"] == 0.10


def test_english_words_exported():
    assert cl.english_words is W.english_words
