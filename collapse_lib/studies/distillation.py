"""One round of distillation, the Phi regime in miniature, and what phi-1 reported.

:func:`distill_once` trains a student once on samples of a strong teacher
(fitted on plenty of real data) plus real data: one generation, nothing
recursive. :data:`PHI1` quotes the numbers of the phi-1 paper that chapter 7
sets beside it. The risk taxonomy's distillation row
(:mod:`collapse_lib.studies.taxonomy`) calls :func:`distill_once` too.

Introduced in chapter 7, "What the Nature work does and does not show".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_budget, check_int
from ..distributions import Distribution
from ..families import Family
from ..filters import Filter, NoFilter

__all__ = ["PHI1", "Distillation", "distill_once"]

#: What phi-1 reported (Gunasekar et al. 2023, "Textbooks Are All You Need",
#: arXiv:2306.11644): its size, its training data and its pass@1 scores. Quoted,
#: not measured here; chapter 7 glues them into its prose. Token counts are in
#: billions and approximate, as the paper gives them.
PHI1 = {
    "parameters_billion": 1.3,
    "filtered_web_tokens_billion": 6.0,
    "synthetic_tokens_billion": 1.0,
    "humaneval_pass1_percent": 50.6,
    "mbpp_pass1_percent": 55.5,
    "teacher": "GPT-3.5",
    "source": "Gunasekar et al. (2023), arXiv:2306.11644",
}


@dataclass
class Distillation:
    """Result of :func:`distill_once`.

    Attributes
    ----------
    teacher : Distribution
        The teacher(s), a batch of ``replicates`` models (or the one given).
    student : Distribution
        The students, one per replicate, each trained once.
    n_real, n_synthetic, teacher_n : int
        The budget: real and teacher samples in the student's training set, and
        the real samples the teacher was fitted on (None for a given teacher).

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show".
    """

    teacher: Distribution
    student: Distribution
    n_real: int
    n_synthetic: int
    teacher_n: int | None

    @property
    def synthetic_share(self):
        """Share of teacher samples in the student's training data."""
        return self.n_synthetic / (self.n_real + self.n_synthetic)


def _draw(model, k, replicates, rng, world, filter):
    """``k`` (filtered) samples per replicate from a batched or unbatched model."""
    if getattr(model, "batch_shape", ()) == (replicates,):
        return filter.draw(model, k, rng, world)
    out = filter.draw(model, replicates * k, rng, world)
    return np.asarray(out).reshape(replicates, k)


def distill_once(world, family, n_real, n_synthetic, teacher=None, teacher_n=None,
                 replicates=1, seed=None, filter=None):
    """One round of distillation: a student trained once on teacher samples plus real data.

    The Phi regime in miniature (Gunasekar et al., 2023): a teacher that knows
    more about the world than the student's own real data, one generation, mostly
    real data. Nothing is recursive: the student is never trained on its own output.

    Parameters
    ----------
    world : Distribution
        The real world (unbatched).
    family : Family
        The student's model family (and the teacher's, when ``teacher_n`` is given).
    n_real : int >= 0
        Fresh real samples in the student's training set.
    n_synthetic : int >= 0
        Teacher samples in the student's training set (``n_real + n_synthetic >= 1``).
    teacher : Distribution or "self", optional
        A ready teacher (unbatched, or a batch of ``replicates``), or ``"self"``:
        the teacher is fitted on the student's own ``n_real`` real samples, so the
        student trains on its own output plus the data that made it (the first
        step of a loop; no new information enters).
    teacher_n : int >= 1, optional
        Instead of ``teacher``: fit one teacher per replicate on this many real
        samples (a strong teacher has ``teacher_n`` much larger than ``n_real``).
    replicates : int >= 1
        Independent repetitions, run as arrays.
    seed : int or None
        Seed of the one generator behind every draw (same seed, same result).
        The student's real points are drawn first, so calls with the same seed
        that differ only in ``teacher`` or ``n_synthetic`` share them.
    filter : Filter, optional
        Applied to the teacher's samples (default: none).

    Returns
    -------
    Distillation

    Notes
    -----
    Introduced in chapter 7, "What the Nature work does and does not show".
    """
    n_real = check_int("n_real", n_real, minimum=0)
    n_synthetic = check_int("n_synthetic", n_synthetic, minimum=0)
    replicates = check_int("replicates", replicates, minimum=1)
    if n_real + n_synthetic < 1:
        raise ValueError("n_real + n_synthetic must be >= 1 (the student needs data)")
    if (teacher is None) == (teacher_n is None):
        raise ValueError("give exactly one of teacher (a distribution or 'self') or teacher_n (real samples to fit it on)")
    if not isinstance(world, Distribution) and not callable(getattr(world, "sample", None)):
        raise TypeError("world must be a Distribution (an object with sample(size, rng))")
    if not (isinstance(family, Family) or callable(getattr(family, "fit", None))):
        raise TypeError("family must be a Family (an object with fit(data))")
    filter = NoFilter() if filter is None else filter
    if not (isinstance(filter, Filter) or callable(getattr(filter, "draw", None))):
        raise TypeError("filter must be a Filter (an object with draw(model, k, rng, world))")
    seed = None if seed is None else check_int("seed", seed, minimum=0)
    largest = n_real + n_synthetic + (0 if teacher_n is None else check_int("teacher_n", teacher_n, minimum=1))
    check_budget("replicates * (n_real + n_synthetic + teacher_n)", replicates * largest)
    family = family.prepare(world) if hasattr(family, "prepare") else family
    rng = np.random.default_rng(seed)

    def real(k):
        return world.sample(replicates * k, rng).reshape(replicates, k)

    # The student's real points are drawn first, whatever the teacher: with one seed, runs that
    # differ only in the teacher or in n_synthetic share the same real data (paired comparisons).
    own = real(n_real) if n_real else None
    if isinstance(teacher, str):
        if teacher != "self":
            raise ValueError(f"teacher must be a distribution or 'self', got {teacher!r}")
        if n_real < max(1, getattr(family, "min_samples", 1)):
            raise ValueError(f"n_real must be >= {max(1, getattr(family, 'min_samples', 1))} for teacher='self', got {n_real}")
        teacher = family.fit(own)
    elif teacher is None:
        teacher_n = check_int("teacher_n", teacher_n, minimum=max(1, getattr(family, "min_samples", 1)))
        teacher = family.fit(real(teacher_n))
    elif getattr(teacher, "batch_shape", ()) not in ((), (replicates,)):
        raise ValueError(f"teacher must be unbatched or a batch of replicates={replicates}")
    parts = []
    if own is not None:
        parts.append(own)
    if n_synthetic:
        parts.append(_draw(teacher, n_synthetic, replicates, rng, world, filter))
    student = family.fit(np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0])
    return Distillation(teacher, student, n_real, n_synthetic, teacher_n)
