"""What the chapters measure: each module is one study built on the engine, the models and the worlds.

A study module holds the experiment, the measurements and the quoted numbers
of one question the book asks: the source's printed experiment
(:mod:`~collapse_lib.studies.source`), how the rare tail is lost
(:mod:`~collapse_lib.studies.tails`), the source's risk taxonomy measured
(:mod:`~collapse_lib.studies.taxonomy`), a detector for collapse in production
(:mod:`~collapse_lib.studies.monitor`), the book's findings recomputed for the
summary (:mod:`~collapse_lib.studies.findings`) and the live explorer
(:mod:`~collapse_lib.studies.explorer`). Studies may import the engine, the
models and the worlds; nothing else imports a study (only the package's front
doors, ``collapse_lib/__init__.py`` and ``__main__.py``). The modules are
re-exported here, with the names chapters reach as ``cl.<name>``; a study's
other helpers stay in its module (``cl.source.expected_moments``).
"""

from . import explorer, findings, monitor, source, tails, taxonomy
from .explorer import explore
from .monitor import Check, Detector
from .source import source_experiment
from .taxonomy import Scenario, classify, measure

__all__ = [
    "source", "source_experiment",
    "tails",
    "taxonomy", "Scenario", "classify", "measure",
    "monitor", "Detector", "Check",
    "findings",
    "explorer", "explore",
]
