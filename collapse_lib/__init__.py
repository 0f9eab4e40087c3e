"""collapse_lib: the numpy library behind "Model Collapse, Honestly".

One recursion made of small parts: distributions (the world and every fitted
model), families (``fit(data) -> distribution``), schemes (how each
generation's training data is composed), filters (what is done to generated
samples) and :func:`simulate`, which runs many replicates at once.

The folder shows the architecture: that engine sits at the top level; the
wings below it are :mod:`collapse_lib.models` (model families beyond the Normal
and categorical ones), :mod:`collapse_lib.worlds` (real data) and
:mod:`collapse_lib.studies` (what the chapters measure). Imports run downward
only, studies -> models/worlds -> engine, and every public name is also
``cl.<name>``.

>>> import numpy as np, collapse_lib as cl
>>> world = cl.NormalMixture(weights=[0.97, 0.03], means=[0.0, 8.0], stds=[1.0, 1.0])
>>> run = cl.simulate(world, cl.NormalFit(ddof=0), n=5000, generations=8,
...                   scheme=cl.Anchor(0.10), replicates=1000, seed=0)
>>> run.models[8].tail_mass(5.0).shape
(1000,)
"""

# The engine (top-level modules): the recursion, and what measures and explains it.
from .distributions import Categorical, Distribution, Normal, NormalMixture
from .families import CategoricalFit, Family, NormalFit
from .schemes import (Accumulate, AccumulateSubsample, Anchor, Augment, FixedReal, Replace, Scheme,
                      SyntheticShare)
from .filters import ClassifierVerifier, DensityVerifier, Filter, NoFilter, OracleVerifier, QualityFilter, Verifier
from .simulate import Run, simulate
from .comparison import Comparison, Estimate, compare
from . import comparison, metrics, notebook, plotting, theory
from . import course

# The wings: model families, real data, and what the chapters measure.
from . import models, studies, worlds
from .models import (Empirical, EmpiricalFit, GaussianMixtureFit, KDEFit, LabelledMixtureFit,
                     SklearnFamily, SklearnModel)
from .models import MultivariateNormal, MultivariateNormalFit, MultivariateNormalMixture
from .worlds import Blobs, Circles, Moons, SwissRoll
from .worlds import english_words
from .studies import (
    # the source's experiment (2), tails (3, 7), taxonomy (10), monitor (11), findings (12)
    findings, monitor, source, tails, taxonomy,
    source_experiment, Scenario, classify, measure, Check, Detector,
    # workflows (7-9): comparisons, sweeps, distillation, fallible verifiers, provenance
    PHI1, Distillation, FilterBlend, ProvenanceCap, Sweep, bootstrap_crossing, compare_schemes,
    distill_once, error_trajectory, fallible_verifier, find_crossing, sweep_fraction, tail_lost,
    tail_ratio,
    # the live explorer (needs a running kernel; ipywidgets is imported when it is built)
    explore,
)
# Live explorers (2-5) on one small base class, Explorer with its Control knobs
from .studies.explorer import (AnchorExplorer, Control, Explorer, GaussianRefitExplorer, RareModeExplorer,
                               VocabularyExplorer)
# Chapters 5 and 6 reach their studies as cl.words and cl.digits (from collapse_lib import
# words as W); each also holds its world's (and model's) names.
from .studies import digit_collapse as digits, vocabulary as words
# Registers the problem set's and the assignments' checks in cl.course (labels ps-..., a<N>-...).
from .studies import exercises as _exercises  # noqa: F401
from .studies import chapter_exercises as _chapter_exercises  # noqa: F401

__version__ = "0.1.0"

__all__ = [
    # distributions
    "Distribution", "Normal", "NormalMixture", "Categorical", "Empirical",
    # families
    "Family", "NormalFit", "CategoricalFit", "GaussianMixtureFit", "KDEFit", "EmpiricalFit",
    "LabelledMixtureFit", "SklearnFamily", "SklearnModel",
    "MultivariateNormal", "MultivariateNormalFit", "MultivariateNormalMixture",
    "Blobs", "Circles", "Moons", "SwissRoll",
    # schemes
    "Scheme", "Replace", "Anchor", "Accumulate", "AccumulateSubsample", "FixedReal", "Augment",
    "SyntheticShare",
    # filters
    "Filter", "NoFilter", "QualityFilter", "OracleVerifier", "Verifier", "DensityVerifier",
    "ClassifierVerifier",
    # the recursion
    "simulate", "Run",
    # measuring and explaining
    "compare", "Comparison", "Estimate", "comparison",
    "course",
    "metrics", "notebook", "plotting", "source", "source_experiment", "tails", "theory",
    # the wings
    "models", "worlds", "studies",
    # chapter tools
    "words", "english_words", "digits",
    "PHI1", "Distillation", "FilterBlend", "ProvenanceCap", "Sweep",
    "bootstrap_crossing", "compare_schemes", "distill_once", "error_trajectory",
    "fallible_verifier", "find_crossing", "sweep_fraction", "tail_lost", "tail_ratio",
    "taxonomy", "Scenario", "classify", "measure",
    "monitor", "Detector", "Check",
    "findings",
    "explore", "Explorer", "Control", "AnchorExplorer", "RareModeExplorer", "GaussianRefitExplorer",
    "VocabularyExplorer",
]

# Part IV, the results the field cites (chapters 14-18): models and studies.
from .models import LinearModel, LinearRegressionWorld, OLSFit, RidgeFit  # noqa: E402
from .studies import RegressionRun, regression_recursion  # noqa: E402

__all__ += ["LinearModel", "LinearRegressionWorld", "OLSFit", "RidgeFit",
            "RegressionRun", "regression_recursion"]

# Chapter 13: a language model in miniature (real text, an n-gram family, decoding as a filter);
# its world is cl.worlds.text and its measurements are cl.language.
from .models import Decoding, NGramFit, NGramModel  # noqa: E402
from .worlds import text as _text  # noqa: E402,F401  (makes cl.worlds.text available)
from .worlds.text import python_docs  # noqa: E402
from .studies import language  # noqa: E402
from .studies.language import LearnedVerifier, TextExplorer  # noqa: E402

__all__ += ["Decoding", "NGramFit", "NGramModel", "python_docs", "language", "LearnedVerifier", "TextExplorer"]
