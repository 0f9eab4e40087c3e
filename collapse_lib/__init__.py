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

from .distributions import Categorical, Distribution, Normal, NormalMixture
from .families import CategoricalFit, Family, NormalFit
from .filters import Filter, NoFilter
from .schemes import (Accumulate, AccumulateSubsample, Anchor, Augment, FixedReal, Replace, Scheme,
                      SyntheticShare)
from .simulate import Run, simulate

__version__ = "0.1.0"

__all__ = [
    "Distribution", "Normal", "NormalMixture", "Categorical",
    "Family", "NormalFit", "CategoricalFit",
    "Scheme", "Replace", "Anchor", "Accumulate",
    "AccumulateSubsample", "FixedReal", "Augment", "SyntheticShare",
    "Filter", "NoFilter",
    "simulate", "Run",
]

from . import plotting  # noqa: E402  (house figure style: cl.plotting)

__all__ += ["plotting"]

from . import source  # noqa: E402  (chapter 2: the source's printed experiment, run exactly)
from .source import source_experiment  # noqa: E402

__all__ += ["source", "source_experiment"]

from . import workflows  # noqa: E402  (chapters 7-9: workflows compared, distillation, provenance)
from .workflows import (  # noqa: E402
    PHI1, Distillation, FilterBlend, ProvenanceCap, Sweep, bootstrap_crossing, compare_schemes,
    distill_once, error_trajectory, fallible_verifier, find_crossing, sweep_fraction, tail_lost,
    tail_ratio,
)

__all__ += ["workflows", "PHI1", "Distillation", "FilterBlend", "ProvenanceCap", "Sweep",
            "bootstrap_crossing", "compare_schemes", "distill_once", "error_trajectory",
            "fallible_verifier", "find_crossing", "sweep_fraction", "tail_lost", "tail_ratio"]

from . import theory  # noqa: E402  (closed forms checked by simulation: chapters 3, 4, 5, 7)

__all__ += ["theory"]

from .monitor import Check, Detector  # noqa: E402  (chapter 11: the collapse watch)

__all__ += ["Detector", "Check"]

from .mixture import GaussianMixtureFit  # noqa: E402  (model families: chapters 2, 3, 6, 8)
from .kde import KDEFit  # noqa: E402
from .empirical import Empirical, EmpiricalFit  # noqa: E402
from .sklearn_family import SklearnFamily, SklearnModel  # noqa: E402

__all__ += ["GaussianMixtureFit", "KDEFit", "Empirical", "EmpiricalFit", "SklearnFamily", "SklearnModel"]

from . import words, digits  # noqa: E402  (chapter 5: English words; chapter 6: digits you can see)
from .words import english_words  # noqa: E402

__all__ += ["words", "digits", "english_words"]

from .filters import QualityFilter, Verifier  # noqa: E402  (chapter 8: filtering, measured)

__all__ += ["QualityFilter", "Verifier"]

from . import taxonomy  # noqa: E402  (chapter 10: the risk taxonomy, measured)
from .taxonomy import Scenario, classify, measure  # noqa: E402

__all__ += ["taxonomy", "Scenario", "classify", "measure"]

from . import metrics  # noqa: E402  (chapters 2-5: tail mass, W2, KL, heterozygosity, perplexity)

__all__ += ["metrics"]

from . import tails  # noqa: E402  (chapter 3: why tails go first)
from .tails import LabelledMixtureFit  # noqa: E402

__all__ += ["tails", "LabelledMixtureFit"]

from .explorer import explore  # noqa: E402  (chapter 2: live explorer, needs a running kernel)

__all__ += ["explore"]
