"""Valid calls for the boundary walk in tests/test_boundary.py: the studies part of the library.

Same format as CASES there: qualified public name -> (function returning valid keyword
arguments, {parameter: kind}). NOT_CALLABLE lists public names that are not called
(constants, base classes, records).

Every valid call is kept cheap (a few points, replicates and generations) so that the
walk stays fast; the zero-argument chapter helpers (``findings.*``) are called as they
are, since they take nothing to shrink.
"""

import functools

import numpy as np

import collapse_lib

RNG = np.random.default_rng
S = "collapse_lib.studies."

_TEXT = "\n\n".join([
    "The cat sat. The dog ran!",
    "A cat ran. The cat sat again?",
    "The dog sat. A dog ran.",
    "The bird sang. The cat sang.",
    "A dog sat. The bird ran.",
    "The cat ran. A bird sat.",
] * 4)


@functools.lru_cache(maxsize=None)
def _corpus():
    from collapse_lib.worlds.text import TextCorpus

    return TextCorpus.from_text(_TEXT, min_count=2, held_out_every=5)


def _ngram(order=2, replicates=None):
    from collapse_lib.models.ngram import NGramFit

    c = _corpus()
    data = c.train if replicates is None else np.tile(c.train, (replicates, 1))
    return NGramFit(order, vocab_size=c.vocab_size).fit(data)


def _tokens():
    return np.tile(_corpus().train[:40], (2, 1))


def _verifier():
    from collapse_lib.studies.language import LearnedVerifier

    model = _ngram(2, replicates=2)
    return LearnedVerifier(_corpus(), m=8, keep=0.5, seed=0).fit(model, RNG(0))


def _world():
    return collapse_lib.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])


def _run(generations=2, replicates=3):
    return collapse_lib.simulate(_world(), collapse_lib.NormalFit(), 20, generations, replicates=replicates, seed=0)


def _detector():
    from collapse_lib.studies.monitor import Detector

    return Detector(_world().sample(200, RNG(1)), threshold=5.0, alpha=0.01)


@functools.lru_cache(maxsize=None)
def _digit_world():
    from collapse_lib.worlds.digits import load_digit_world

    return load_digit_world(4)


def _digit_fit():
    return collapse_lib.GaussianMixtureFit(2, init="kmeans", reg_covar=1e-6, tol=1e-3)


def _codes():
    return _digit_world().codes[:6] if hasattr(_digit_world(), "codes") else RNG(0).normal(size=(6, 4))


def _regression_world():
    return collapse_lib.LinearRegressionWorld([1.0, -2.0], noise=1.0)


def _scenario(**kw):
    from collapse_lib.studies.taxonomy import Scenario

    return Scenario("loop", "recursive", **kw)


def _fallible():
    from collapse_lib.studies.fallible_verifiers import fallible_verifier

    return fallible_verifier(0.5)


def _label_codes():
    return RNG(0).normal(size=(6, 4))


CASES = {
    # collapse_or_thrive
    S + "collapse_or_thrive.workflow_losses": (
        lambda: dict(model="gaussian", n=8, generations=2, scheme="replace", replicates=2, heldout=5, seed=0),
        {"model": "choice", "n": "int:4", "generations": "size:0", "scheme": "choice", "replicates": "size:2",
         "heldout": "size:1", "seed": "int:0"}),
    S + "collapse_or_thrive.mix_losses": (
        lambda: dict(model="gaussian", total=8, real_fractions=[0.0, 0.5, 1.0], replicates=2, heldout=5,
                     source=8, seed=0),
        {"model": "choice", "total": "size:4", "real_fractions": "array", "replicates": "size:2",
         "heldout": "size:1", "source": "size:4", "seed": "int:0"}),
    S + "collapse_or_thrive.added_losses": (
        lambda: dict(model="gaussian", real=8, ratios=[0.0, 1.0], replicates=2, heldout=5, seed=0),
        {"model": "choice", "real": "size:4", "ratios": "array", "replicates": "size:2", "heldout": "size:1",
         "seed": "int:0"}),
    S + "collapse_or_thrive.expected_nll_replace": (lambda: dict(fits=3, n=10), {"fits": "fits", "n": "int:4"}),
    S + "collapse_or_thrive.expected_var_accumulate": (lambda: dict(generations=3, n=10, sigma2=1.0),
                                                      {"generations": "size:0", "n": "int:2", "sigma2": "pos"}),
    # digit_collapse
    S + "digit_collapse.simulate_digits": (
        lambda: dict(world=_digit_world(), family=_digit_fit(), n=20, generations=1, replicates=1, seed=0,
                     n_eval=10, warm_start=True),
        {"world": "model", "family": "model", "scheme": "model", "n": "size:1", "generations": "size:0",
         "replicates": "size:1", "seed": "int:0", "n_eval": "size:1"}),
    S + "digit_collapse.class_shares": (lambda: dict(world=_digit_world(), codes=_label_codes()),
                                        {"world": "model", "codes": "array"}),
    S + "digit_collapse.class_spread": (lambda: dict(world=_digit_world(), codes=_label_codes()),
                                        {"world": "model", "codes": "array"}),
    # distillation
    S + "distillation.distill_once": (
        lambda: dict(world=collapse_lib.Normal(0, 1), family=collapse_lib.NormalFit(), n_real=5, n_synthetic=5,
                     teacher_n=20, replicates=2, seed=0),
        {"world": "model", "family": "model", "n_real": "size:0", "n_synthetic": "size:0", "teacher_n": "size:1",
         "replicates": "size:1", "seed": "int:0"}),
    # exercises
    S + "exercises.running_world": (lambda: dict(), {}),
    S + "exercises.w2_late_sample": (lambda: dict(), {}),
    S + "exercises.a4_family": (lambda: dict(), {}),
    S + "exercises.zipf_cut_error": (lambda: dict(T=100, k=5, K=20, beta=1.5),
                                     {"T": "int:0", "k": "int:1", "K": "size:1", "beta": "pos"}),
    S + "exercises.kde_expected_var": (lambda: dict(fits=3, M=10, h=0.5, v=1.0),
                                       {"fits": "int:1", "M": "int:1", "h": "pos", "v": "pos"}),
    S + "exercises.kimura_mean_time": (lambda: dict(q=0.3, M=10), {"q": "frac", "M": "int:1"}),
    S + "exercises.wright_fisher_mean_fits": (lambda: dict(q=0.3, M=10), {"q": "frac", "M": "size:1"}),
    # explorer
    S + "explorer.Control": (lambda: dict(name="n", label="points", default=5, low=1, high=10, step=1),
                             {"low": "real", "high": "real", "step": "pos"}),
    S + "explorer.AnchorExplorer": (lambda: dict(replicates=2, seed=0, n=20, generations=8),
                                    {"replicates": "size:1", "seed": "int:0", "n": "choice", "generations": "choice",
                                     "anchor": "choice"}),
    S + "explorer.RareModeExplorer": (lambda: dict(replicates=2, seed=0), {"replicates": "size:1", "seed": "int:0"}),
    S + "explorer.GaussianRefitExplorer": (lambda: dict(replicates=2, seed=0),
                                           {"replicates": "size:1", "seed": "int:0"}),
    S + "explorer.VocabularyExplorer": (lambda: dict(replicates=1, generations=2, seed=0),
                                        {"replicates": "size:1", "generations": "size:1", "seed": "int:0"}),
    S + "explorer.RecursionExplorer": (lambda: dict(world=_world(), threshold=5.0, replicates=2, seed=0, n=20,
                                                    generations=2, at=1),
                                       {"world": "model", "threshold": "real", "replicates": "size:1",
                                        "seed": "int:0"}),
    S + "explorer.explore": (lambda: dict(threshold=5.0, replicates=2, seed=0, n=20, generations=2, at=1),
                             {"world": "model", "at": "int:0", "threshold": "real", "replicates": "size:1", "seed": "int:0", "n": "int:1",
                              "generations": "int:1", "family": "choice", "scheme": "choice",
                              "filter": "choice", "metric": "choice", "anchor": "frac"}),
    # fallible_verifiers
    S + "fallible_verifiers.FilterBlend": (lambda: dict(parts=[(collapse_lib.QualityFilter(0.9), 1.0)]), {}),
    S + "fallible_verifiers.fallible_verifier": (lambda: dict(accuracy=0.5, keep=0.9, pool=4),
                                                 {"accuracy": "frac", "keep": "frac", "pool": "int:2"}),
    S + "fallible_verifiers.find_crossing": (lambda: dict(x=[0.0, 0.5, 1.0], y=[0.0, 1.0, 2.0], level=0.5),
                                             {"x": "array", "y": "array", "level": "array"}),
    S + "fallible_verifiers.bootstrap_crossing": (
        lambda: dict(x=[0.0, 0.5, 1.0], values=[[0.0, 0.1], [1.0, 1.1], [2.0, 2.1]], baseline=[0.4, 0.6],
                     n_boot=20, seed=0, ci=0.9),
        {"x": "array", "values": "array", "baseline": "array", "n_boot": "size:1", "seed": "int:0",
         "ci": "frac"}),
    # findings (chapter numbers; no arguments)
    S + "findings.running_world": (lambda: dict(), {}),
    S + "findings.source_procedure": (lambda: dict(), {}),
    S + "findings.rare_mode": (lambda: dict(), {}),
    S + "findings.gaussian_collapse": (lambda: dict(), {}),
    S + "findings.words": (lambda: dict(), {}),
    S + "findings.digits_seen": (lambda: dict(), {}),
    S + "findings.workflows_compared": (lambda: dict(), {}),
    S + "findings.filtering": (lambda: dict(), {}),
    S + "findings.taxonomy_rows": (lambda: dict(), {}),
    S + "findings.watch": (lambda: dict(), {}),
    # language
    S + "language.frequency_bands": (lambda: dict(counts=_corpus().counts, edges=(2, 4, 8)),
                                     {"counts": "fits", "edges": "fits"}),
    S + "language.band_survival": (
        lambda: dict(model=_ngram(1), members=__import__("collapse_lib.studies.language", fromlist=["x"])
                     .frequency_bands(_corpus().counts, edges=(2, 4))[1]),
        {"model": "model"}),
    S + "language.real_bigrams": (lambda: dict(corpus=_corpus()), {"corpus": "model"}),
    S + "language.bigram_band_survival": (
        lambda: dict(model=_ngram(2), keys=__import__("collapse_lib.studies.language", fromlist=["x"])
                     .real_bigrams(_corpus())[0],
                     counts=__import__("collapse_lib.studies.language", fromlist=["x"]).real_bigrams(_corpus())[1],
                     edges=(2, 4)),
        {"model": "model", "keys": "fits", "counts": "fits", "edges": "fits"}),
    S + "language.type_token_ratio": (lambda: dict(tokens=_tokens()), {"tokens": "fits"}),
    S + "language.text_metrics": (lambda: dict(corpus=_corpus(), edges=(2, 4), ttr_tokens=50, seed=0),
                                  {"corpus": "model", "edges": "fits", "ttr_tokens": "size:1", "seed": "int:0"}),
    S + "language.sentences_of": (lambda: dict(tokens=_tokens(), complete=True), {"tokens": "fits"}),
    S + "language.sentence_features": (
        lambda: dict(tokens=_tokens(), reference=_verifier().reference, model=_ngram(2, replicates=2)),
        {"tokens": "fits", "reference": "model", "model": "model"}),
    S + "language.LearnedVerifier": (lambda: dict(corpus=_corpus(), m=8, keep=0.5, seed=0, floor=0.001,
                                                  rule="weighted"),
                                     {"corpus": "model", "m": "size:4", "keep": "frac", "seed": "int:0",
                                      "floor": "frac", "rule": "choice"}),
    S + "language.verifier_accuracy": (lambda: dict(verifier=_verifier(), rng=RNG(0), n_test=2),
                                       {"verifier": "model", "rng": "rng", "n_test": "size:1"}),
    S + "language.TextExplorer": (lambda: dict(corpus=_corpus(), replicates=1, generations=1, tokens=100, seed=0),
                                  {"corpus": "model", "replicates": "size:1", "generations": "size:1",
                                   "tokens": "size:1", "seed": "int:0"}),
    # monitor
    S + "monitor.Detector": (lambda: dict(reference=_world().sample(100, RNG(0)), threshold=5.0, alpha=0.01,
                                          tests=("tail", "ks"), tail_rate=0.03),
                             {"reference": "array", "threshold": "real", "alpha": "frac", "tail_rate": "frac",
                              "tests": "choice"}),
    S + "monitor.alarm_rates": (lambda: dict(run=_run(), detector=_detector(), batch_size=20, rng=RNG(0)),
                                {"run": "model", "detector": "model", "batch_size": "size:1", "rng": "rng",
                                 "alpha": "frac"}),
    S + "monitor.check_run": (lambda: dict(run=_run(), detector=_detector(), batch_size=20, rng=RNG(0)),
                              {"run": "model", "detector": "model", "batch_size": "size:1", "rng": "rng"}),
    S + "monitor.rate_se": (lambda: dict(alarms=[True, False, True]), {}),
    # multivariate_collapse
    S + "multivariate_collapse.covariance_collapse": (
        lambda: dict(d=2, n=5, generations=2, scheme="replace", replicates=2, ddof=0, seed=0),
        {"d": "int:1", "n": "size:2", "generations": "size:0", "scheme": "choice", "replicates": "size:1",
         "ddof": "int:0:1", "seed": "int:0"}),
    S + "multivariate_collapse.expected_trace_ratio": (lambda: dict(fits=3, n=10, ddof=0),
                                                       {"fits": "fits", "n": "int:2", "ddof": "int:0:1"}),
    S + "multivariate_collapse.expected_logdet_ratio": (lambda: dict(fits=3, d=2, n=10, ddof=0),
                                                        {"fits": "fits", "d": "int:1", "n": "int:2",
                                                         "ddof": "int:0:1"}),
    S + "multivariate_collapse.logdet_ratio_sd": (lambda: dict(fits=3, d=2, n=10),
                                                  {"fits": "fits", "d": "int:1", "n": "int:2"}),
    S + "multivariate_collapse.expected_det_ratio": (lambda: dict(fits=3, d=2, n=10, ddof=0),
                                                     {"fits": "fits", "d": "int:1", "n": "int:2", "ddof": "int:0:1"}),
    S + "multivariate_collapse.logdet_drift": (lambda: dict(d=2, n=10, ddof=0),
                                               {"d": "int:1", "n": "int:2", "ddof": "int:0:1"}),
    # provenance
    S + "provenance.ProvenanceCap": (lambda: dict(schedule=[0.1, 0.5], cap=0.2, detect=0.9, archive=False),
                                     {"schedule": "array", "cap": "frac", "detect": "frac"}),
    S + "provenance.KeepAllCrawls": (lambda: dict(schedule=[0.1, 0.5]), {"schedule": "array"}),
    # regression
    S + "regression.regression_recursion": (
        lambda: dict(world=_regression_world(), fit=collapse_lib.OLSFit(), T=5, generations=2, replicates=2,
                     seed=0),
        {"world": "model", "fit": "model", "T": "size:1", "generations": "size:0", "scheme": "choice",
         "design": "choice", "replicates": "size:1", "seed": "int:0", "label_noise": "real",
         "T_downstream": "size:1"}),
    # scheme_comparison
    S + "scheme_comparison.compare_schemes": (
        lambda: dict(world=_world(), family=collapse_lib.NormalFit(), schemes={"replace": collapse_lib.Replace()},
                     n=10, generations=2, replicates=2, seed=0),
        {"world": "model", "family": "model", "n": "int:1", "generations": "int:0", "replicates": "size:1",
         "seed": "int:0", "record_every": "int:1"}),
    # source
    S + "source.source_world": (lambda: dict(), {}),
    # stability
    S + "stability.expected_moments": (lambda: dict(n_initial=10, n_real=5, n_synthetic=5, generations=3, ddof=0),
                                       {"n_initial": "int:2", "n_real": "int:0", "n_synthetic": "int:0",
                                        "generations": "size:0", "ddof": "int:0:1"}),
    S + "stability.stationary_moments": (lambda: dict(n_real=5, n_synthetic=5, ddof=0),
                                         {"n_real": "int:1", "n_synthetic": "int:0", "ddof": "int:0:1"}),
    S + "stability.bertrand_factor": (lambda: dict(ratio=0.5, lipschitz=0.1, epsilon=0.1, alpha=1.0),
                                      {"ratio": "real", "lipschitz": "real", "epsilon": "real", "alpha": "pos"}),
    S + "stability.share_to_ratio": (lambda: dict(share=0.5), {"share": "frac"}),
    S + "stability.ratio_to_share": (lambda: dict(ratio=1.0), {"ratio": "real"}),
    S + "stability.mixture_parameter_error": (lambda: dict(model=_world(), reference=_world()),
                                              {"model": "model", "reference": "model"}),
    # sweeps
    S + "sweeps.sweep_fraction": (
        lambda: dict(world=_world(), family=collapse_lib.NormalFit(), scheme_factories={"fresh": collapse_lib.Anchor},
                     fractions=[0.1, 0.5], metric=lambda m: m.tail_mass(5.0), n=10, generations=2, replicates=2,
                     seed=0),
        {"world": "model", "family": "model", "fractions": "array", "n": "int:1", "generations": "int:0",
         "replicates": "size:1", "seed": "int:0"}),
    # tale_of_tails
    S + "tale_of_tails.published_exponents": (lambda: dict(beta=1.5), {"beta": "pos"}),
    S + "tale_of_tails.zipf_probs": (lambda: dict(beta=1.5, support=20), {"beta": "pos", "support": "size:1"}),
    S + "tale_of_tails.cut_tail": (lambda: dict(p=[0.5, 0.3, 0.2], k=2), {"p": "probs", "k": "int:1"}),
    S + "tale_of_tails.cutoff_mass": (lambda: dict(p=[0.5, 0.3, 0.2], k=2), {"p": "probs", "k": "fits"}),
    S + "tale_of_tails.expected_test_error": (lambda: dict(p=[0.5, 0.3, 0.2], T=[1, 10], q=[0.6, 0.4, 0.0],
                                                           real_fraction=0.5),
                                              {"p": "probs", "T": "fits", "q": "probs", "real_fraction": "frac"}),
    S + "tale_of_tails.simulate_test_error": (lambda: dict(p=[0.5, 0.3, 0.2], T=[1, 10], q=[0.6, 0.4, 0.0],
                                                           real_fraction=0.5, replicates=2, seed=0),
                                              {"p": "probs", "T": "fits", "q": "probs", "real_fraction": "frac",
                                               "replicates": "size:1", "seed": "int:0"}),
    S + "tale_of_tails.loglog_slope": (lambda: dict(x=[1.0, 2.0, 4.0], y=[1.0, 0.5, 0.25]),
                                       {"x": "array", "y": "array"}),
    # taxonomy
    S + "taxonomy.classify": (lambda: dict(recursive=True, anchored=False, filtered=None), {}),
    S + "taxonomy.running_world": (lambda: dict(), {}),
    S + "taxonomy.expressive_family": (lambda: dict(), {}),
    S + "taxonomy.Thresholds": (lambda: dict(tail_low=0.8, tail_high=0.5, w2_low=1.5, w2_high=3.0),
                                {"tail_low": "real", "tail_high": "real", "w2_low": "pos", "w2_high": "pos"}),
    S + "taxonomy.Scenario": (lambda: dict(name="loop", workflow="recursive", rounds=2, real_fraction=0.2,
                                           synthetic_ratio=1.0, teacher_factor=2, teacher="self",
                                           drift=(0.1, 0.9)),
                              {"workflow": "choice", "rounds": "int:1", "real_fraction": "frac",
                               "synthetic_ratio": "real", "teacher_factor": "int:1", "teacher": "choice",
                               "drift": "array"}),
    S + "taxonomy.SyntheticPoolSubsample": (lambda: dict(), {}),
    S + "taxonomy.measure": (lambda: dict(scenario=_scenario(), world=_world(), family=collapse_lib.NormalFit(),
                                          generations=2, replicates=2, seed=0, n=20, threshold=5.0),
                             {"scenario": "model", "world": "model", "family": "model", "generations": "size:1",
                              "thresholds": "model", "record_every": "int:1",
                              "replicates": "size:1", "seed": "int:0", "n": "int:10", "threshold": "real"}),
    S + "taxonomy.measure_table": (lambda: dict(scenarios=(_scenario(),), world=_world(),
                                                family=collapse_lib.NormalFit(), generations=2, replicates=2, n=20),
                                   {"generations": "size:1", "replicates": "size:1", "n": "int:10"}),
    S + "taxonomy.w2_to_world": (lambda: dict(model=collapse_lib.Normal(0, 1), world=_world(), lo=-15.0, hi=25.0,
                                              points=101, levels=50),
                                 {"model": "model", "world": "model", "lo": "real", "hi": "real",
                                  "points": "size:2", "levels": "size:1"}),
    S + "taxonomy.agrees": (lambda: dict(claimed="high", measured="high"), {}),
    # vocabulary
    S + "vocabulary.survival_by_rank_bin": (lambda: dict(model=collapse_lib.Categorical([0.5, 0.3, 0.2, 0.0]),
                                                         edges=[1, 2, 5]),
                                            {"model": "array", "edges": "fits"}),
    S + "vocabulary.fit_zipf_exponent": (lambda: dict(freqs=[8.0, 4.0, 2.0, 1.0, 0.5], lo=1, hi=5),
                                         {"freqs": "array", "lo": "int:1", "hi": "int:1"}),
    S + "vocabulary.oov_rate": (lambda: dict(model=collapse_lib.Categorical([0.5, 0.3, 0.2, 0.0]),
                                             held_out=[0, 1, 3]),
                                {"model": "array", "held_out": "fits"}),
    S + "vocabulary.held_out_perplexity": (lambda: dict(model=collapse_lib.Categorical([0.5, 0.3, 0.2, 0.0]),
                                                        held_out=[0, 1, 2], smoothing=0.1),
                                           {"model": "array", "held_out": "fits", "smoothing": "frac"}),
}

NOT_CALLABLE = {
    # constants
    S + "collapse_or_thrive.MODELS", S + "collapse_or_thrive.SCHEMES", S + "collapse_or_thrive.KAZDAN_FINDINGS",
    S + "distillation.PHI1", S + "exercises.PROBLEMS", S + "exercises.ASSIGNMENTS",
    S + "explorer.FAMILIES", S + "explorer.FILTERS", S + "explorer.SCHEMES", S + "explorer.METRICS",
    S + "language.BAND_EDGES", S + "multivariate_collapse.SCHEMES",
    S + "source.SOURCE_CLAIMED_NO_ANCHOR", S + "source.SOURCE_CLAIMED_ANCHOR_10", S + "source.SOURCE_WORLD",
    S + "tale_of_tails.SOURCE", S + "taxonomy.CLAIM_LEVELS", S + "taxonomy.SOURCE_TABLE", S + "taxonomy.VARIANTS",
    S + "vocabulary.NATURE_OPT125M", S + "chapter_exercises.CHAPTER_ANSWERS",
    # base class (declares no controls; its subclasses are walked)
    S + "explorer.Explorer",
    # records returned by the studies (built by them, not by a user)
    S + "collapse_or_thrive.WorkflowRun", S + "digit_collapse.DigitRun", S + "distillation.Distillation",
    S + "monitor.Check", S + "multivariate_collapse.CovarianceRun", S + "regression.RegressionRun",
    S + "source.SourceRun", S + "sweeps.Sweep", S + "taxonomy.Measurement",
}
