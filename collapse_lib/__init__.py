"""collapse_lib: the numpy library behind "Model Collapse, Honestly".

One recursion made of small parts: distributions (the world and every fitted
model), families (``fit(data) -> distribution``), schemes (how each
generation's training data is composed), filters (what is done to generated
samples) and :func:`simulate`, which runs many replicates at once.

>>> import numpy as np, collapse_lib as cl
>>> world = cl.NormalMixture(weights=[0.97, 0.03], means=[0.0, 8.0], stds=[1.0, 1.0])
>>> run = cl.simulate(world, cl.NormalFit(ddof=0), n=5000, generations=8,
...                   scheme=cl.Anchor(0.10), replicates=1000, seed=0)
>>> run.models[8].tail_mass(5.0).shape
(1000,)
"""

# The recursion (chapter 2 onwards): distributions, families, schemes, filters, simulate.
from .distributions import Categorical, Distribution, Normal, NormalMixture
from .families import CategoricalFit, Family, NormalFit
from .models import (Empirical, EmpiricalFit, GaussianMixtureFit, KDEFit, LabelledMixtureFit,
                     SklearnFamily, SklearnModel)
from .schemes import (Accumulate, AccumulateSubsample, Anchor, Augment, FixedReal, Replace, Scheme,
                      SyntheticShare)
from .filters import Filter, NoFilter, QualityFilter, Verifier
from .simulate import Run, simulate

# Measuring and explaining: metrics, closed forms, the source's experiment, the house style.
from . import metrics, notebook, plotting, theory
from .studies import source, source_experiment, tails

# Chapter tools: words (5), digits (6), workflows (7-9), taxonomy (10), monitor (11).
# cl.words and cl.digits are the studies of chapters 5 and 6, which also hold their world's names.
from .studies import digit_collapse as digits, vocabulary as words
from .studies import findings, monitor, taxonomy
from .worlds import english_words
from .studies import (
    PHI1, Distillation, FilterBlend, ProvenanceCap, Sweep, bootstrap_crossing, compare_schemes,
    distill_once, error_trajectory, fallible_verifier, find_crossing, sweep_fraction, tail_lost,
    tail_ratio,
)
from .studies import Check, Detector, Scenario, classify, measure

# The live explorer (needs a running kernel; ipywidgets is imported when it is built).
from .studies import explore

__version__ = "0.1.0"

__all__ = [
    # distributions
    "Distribution", "Normal", "NormalMixture", "Categorical", "Empirical",
    # families
    "Family", "NormalFit", "CategoricalFit", "GaussianMixtureFit", "KDEFit", "EmpiricalFit",
    "LabelledMixtureFit", "SklearnFamily", "SklearnModel",
    # schemes
    "Scheme", "Replace", "Anchor", "Accumulate", "AccumulateSubsample", "FixedReal", "Augment",
    "SyntheticShare",
    # filters
    "Filter", "NoFilter", "QualityFilter", "Verifier",
    # the recursion
    "simulate", "Run",
    # measuring and explaining
    "metrics", "notebook", "plotting", "source", "source_experiment", "tails", "theory",
    # chapter tools
    "words", "english_words", "digits",
    "PHI1", "Distillation", "FilterBlend", "ProvenanceCap", "Sweep",
    "bootstrap_crossing", "compare_schemes", "distill_once", "error_trajectory",
    "fallible_verifier", "find_crossing", "sweep_fraction", "tail_lost", "tail_ratio",
    "taxonomy", "Scenario", "classify", "measure",
    "monitor", "Detector", "Check",
    "findings",
    "explore",
]
