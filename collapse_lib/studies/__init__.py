"""What the chapters measure: each module is one study built on the engine, the models and the worlds.

A study module holds the experiment, the measurements and the quoted numbers
of one question the book asks: the source's printed experiment
(:mod:`~collapse_lib.studies.source`); how the rare tail is lost
(:mod:`~collapse_lib.studies.tails`); what drift does to a vocabulary
(:mod:`~collapse_lib.studies.vocabulary`, chapter 5's ``cl.words``); a digit
model refitted on its own samples (:mod:`~collapse_lib.studies.digit_collapse`,
chapter 6's ``cl.digits``); data workflows compared on one budget
(:mod:`~collapse_lib.studies.scheme_comparison`) and across mixing fractions
(:mod:`~collapse_lib.studies.sweeps`); one round of distillation
(:mod:`~collapse_lib.studies.distillation`); verifiers that err with a bias
(:mod:`~collapse_lib.studies.fallible_verifiers`); web drift answered by
provenance (:mod:`~collapse_lib.studies.provenance`); the source's risk
taxonomy measured (:mod:`~collapse_lib.studies.taxonomy`); a detector for
collapse in production (:mod:`~collapse_lib.studies.monitor`); the book's
findings recomputed for the summary (:mod:`~collapse_lib.studies.findings`);
and the live explorer (:mod:`~collapse_lib.studies.explorer`). Studies may
import the engine, the models and the worlds; nothing else imports a study but
the package's front doors (``collapse_lib/__init__.py`` and ``__main__.py``).
The modules are re-exported here with the names chapters reach as
``cl.<name>``; a study's other helpers stay in its module
(``cl.source.expected_moments``).
"""

from . import (digit_collapse, distillation, explorer, fallible_verifiers, findings, monitor,
               provenance, scheme_comparison, source, sweeps, tails, taxonomy, vocabulary)
from .distillation import PHI1, Distillation, distill_once
from .explorer import explore
from .fallible_verifiers import FilterBlend, bootstrap_crossing, fallible_verifier, find_crossing
from .monitor import Check, Detector
from .provenance import KeepAllCrawls, ProvenanceCap
from .scheme_comparison import compare_schemes, error_trajectory
from .source import source_experiment
from .sweeps import Sweep, sweep_fraction
from .tails import tail_lost, tail_ratio
from .taxonomy import Scenario, classify, measure

__all__ = [
    "source", "source_experiment",
    "tails", "tail_ratio", "tail_lost",
    "vocabulary",
    "digit_collapse",
    "scheme_comparison", "compare_schemes", "error_trajectory",
    "sweeps", "Sweep", "sweep_fraction",
    "distillation", "PHI1", "Distillation", "distill_once",
    "fallible_verifiers", "FilterBlend", "fallible_verifier", "find_crossing", "bootstrap_crossing",
    "provenance", "ProvenanceCap", "KeepAllCrawls",
    "taxonomy", "Scenario", "classify", "measure",
    "monitor", "Detector", "Check",
    "findings",
    "explorer", "explore",
]

# Part IV, the results the field cites: regression collapse (14).
from . import regression  # noqa: E402
from .regression import RegressionRun, regression_recursion  # noqa: E402

__all__ += ["regression", "RegressionRun", "regression_recursion"]

# Part IV: multivariate Gaussians (15).
from . import multivariate_collapse  # noqa: E402
from .multivariate_collapse import CovarianceRun, covariance_collapse  # noqa: E402

__all__ += ["multivariate_collapse", "CovarianceRun", "covariance_collapse"]

# Part IV: a tale of tails (16).
from . import tale_of_tails  # noqa: E402

__all__ += ["tale_of_tails"]

# Part IV: stability with the real data kept (17).
from . import stability  # noqa: E402

__all__ += ["stability"]

# Part IV: collapse or thrive, in full (18).
from . import collapse_or_thrive  # noqa: E402

__all__ += ["collapse_or_thrive"]
