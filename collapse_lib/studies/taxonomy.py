"""The risk taxonomy: the source's three-knob rule, and every row of its table measured.

The source chapter sorts data practices by three knobs (is the training
recursive? is it anchored by fresh real data? is the synthetic data
filtered?) and assigns each a risk. This module does two things with that:

* :func:`classify` applies the source's rule as stated, so that a practice
  can be placed from its three knobs alone;
* :class:`Scenario` describes a practice as data (how many rounds, which
  share of fresh real data, which filter, which teacher) and :func:`measure`
  simulates it on one common world with a rare tail and one expressive model
  family, scores the final model (tail retained, Wasserstein-2 distance to
  the world) and maps the scores to low / moderate / high by stated
  thresholds (:class:`Thresholds`).

:data:`SOURCE_TABLE` holds one scenario per row of the source's table; an
instructor adds a row by writing one more :class:`Scenario`.

Introduced in chapter 10, "The risk taxonomy, measured"; chapter 12 quotes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .._validate import check_budget, check_fraction, check_fraction_array, check_int, check_real
from ..distributions import NormalMixture
from ..filters import Filter, NoFilter
from ..schemes import Anchor, AccumulateSubsample, Augment, Replace, Scheme, SyntheticShare, _Pool, subset_indices
from ..simulate import simulate

__all__ = [
    "classify",
    "CLAIM_LEVELS",
    "running_world",
    "expressive_family",
    "Thresholds",
    "Scenario",
    "SyntheticPoolSubsample",
    "SOURCE_TABLE",
    "VARIANTS",
    "Measurement",
    "measure",
    "measure_table",
    "w2_to_world",
    "agrees",
]

#: Risk levels a measurement can land in, in order.
LEVELS = ("low", "moderate", "high")

#: The source's claimed labels and the measured levels each one is consistent with.
CLAIM_LEVELS = {
    "low": ("low",),
    "low to moderate": ("low", "moderate"),
    "moderate": ("moderate",),
    "moderate to high": ("moderate", "high"),
    "high": ("high",),
    "uncontrolled": (),  # no prediction: the risk depends on knobs nobody controls
}


def classify(recursive, anchored, filtered):
    """The source's three-knob rule: the risk it claims for a practice.

    Parameters
    ----------
    recursive : bool
        Is the model trained, round after round, on model output?
    anchored : bool or None
        Does fresh real data enter every round? ``None`` means unknown.
    filtered : bool or None
        Is the synthetic data filtered before use? ``None`` means unknown,
        "usually" or "weak".

    Returns
    -------
    str
        One of ``"low"``, ``"low to moderate"``, ``"moderate"``,
        ``"moderate to high"``, ``"high"``, ``"uncontrolled"``.

    Notes
    -----
    The rule, as the source states it: the dangerous quadrant is recursive +
    unanchored + unfiltered (high); every safe practice neutralises at least
    one knob. One round (no recursion) with both other knobs safe is low, and
    low to moderate when one of them is unsure or missing; a recursive loop
    held by both an anchor and a filter is moderate, by only one of them
    moderate to high; recursion with a knob nobody knows is uncontrolled.

    Examples
    --------
    >>> classify(recursive=True, anchored=False, filtered=False)
    'high'
    >>> classify(recursive=False, anchored=True, filtered=True)
    'low'

    Introduced in chapter 10, "The risk taxonomy, measured".
    """
    for name, value in (("recursive", recursive), ("anchored", anchored), ("filtered", filtered)):
        if value is not None and not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be True, False or None (unknown), got {value!r}")
    if recursive is None:
        raise ValueError("recursive must be True or False (whether the loop feeds on model output is a design fact)")
    if not recursive:
        return "low" if (anchored and filtered) else "low to moderate"
    if anchored is None or filtered is None:
        return "uncontrolled"
    safe = int(bool(anchored)) + int(bool(filtered))
    return ("high", "moderate to high", "moderate")[safe]


def agrees(claimed, measured):
    """True if a measured level is consistent with the source's claimed label.

    ``"uncontrolled"`` is no prediction and agrees with nothing (``None`` is
    returned: the measurement settles what the claim left open).

    Introduced in chapter 10, "The risk taxonomy, measured".
    """
    if claimed not in CLAIM_LEVELS:
        raise ValueError(f"claimed must be one of {list(CLAIM_LEVELS)}, got {claimed!r}")
    if measured not in LEVELS:
        raise ValueError(f"measured must be one of {LEVELS}, got {measured!r}")
    ok = CLAIM_LEVELS[claimed]
    return None if not ok else measured in ok


def running_world():
    """The book's running world: 97% N(0, 1) core and a 3% N(8, 1) rare tail.

    The world of chapter 1's :func:`~collapse_lib.studies.source.source_world`,
    here the common world of chapter 10's measurements (the default of
    :func:`measure`). Introduced in chapter 10, "The risk taxonomy, measured".
    """
    return NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])


def expressive_family():
    """Chapter 10's common model family: a two-component Gaussian mixture.

    It can represent the running world exactly, so what it loses is
    statistical error and the practice's own doing, not a missing component.
    EM starts at the world's two centres (0 and 8), the warm start of a
    model retrained from where the last one was; it reaches the same fits as
    the default quantile start, several times faster.

    Introduced in chapter 10, "The risk taxonomy, measured".
    """
    from ..models.mixture import GaussianMixtureFit

    return GaussianMixtureFit(2, init=[0.0, 8.0])


# ----------------------------------------------------------------------------- metrics

def _quantiles(cdf, grid, levels):
    """Invert row-wise cdf values on a grid at ``levels`` (linear interpolation), vectorised."""
    r, g = cdf.shape
    offset = np.arange(r, dtype=float)[:, None]
    flat = (np.maximum.accumulate(cdf, axis=1) + offset).ravel()
    pos = np.searchsorted(flat, (levels[None, :] + offset).ravel(), side="left").reshape(r, -1)
    pos -= (np.arange(r) * g)[:, None]
    hi = np.clip(pos, 1, g - 1)
    lo = hi - 1
    c_lo = np.take_along_axis(cdf, lo, axis=1)
    c_hi = np.take_along_axis(cdf, hi, axis=1)
    span = c_hi - c_lo
    frac = np.where(span > 0, (levels[None, :] - c_lo) / np.where(span > 0, span, 1.0), 1.0)
    return grid[lo] + np.clip(frac, 0.0, 1.0) * (grid[hi] - grid[lo])


def w2_to_world(model, world, lo=-15.0, hi=25.0, points=8001, levels=2000):
    """Wasserstein-2 distance between each replicate's model and the world (1-D).

    Computed from the quantile functions, ``W2^2 = int_0^1 (F^-1(u) - G^-1(u))^2 du``,
    with both cdfs evaluated exactly on a fine grid over ``[lo, hi]`` and the
    integral taken at ``levels`` midpoints. Both distributions need an exact
    ``tail_mass``.

    Parameters
    ----------
    model, world : Distribution
        One-dimensional, with an exact ``tail_mass`` (``model`` may be a batch).
    lo, hi : float, lo < hi
        The grid's ends. It must hold both distributions: if more than half a
        quantile level (``0.5 / levels``) of either one's mass lies below ``lo``
        or above ``hi``, the extreme quantiles would be clamped to the grid's
        ends and the distance would come out too small, so that is refused.
    points : int >= 10
        Grid points.
    levels : int >= 10
        Quantile levels of the integral.

    Returns
    -------
    float or ndarray of shape (R,)

    Introduced in chapter 10, "The risk taxonomy, measured".
    """
    for name, d in (("model", model), ("world", world)):
        if not callable(getattr(d, "tail_mass", None)):
            raise TypeError(f"{name} must be a distribution with an exact tail_mass, got {type(d).__name__}")
    lo = check_real("lo", lo)
    hi = check_real("hi", hi)
    if not lo < hi:
        raise ValueError(f"lo and hi must satisfy lo < hi (the grid [lo, hi] must hold both distributions), "
                         f"got lo={lo}, hi={hi}")
    points = check_int("points", points, minimum=10)
    levels = check_int("levels", levels, minimum=10)
    batch = max(int(np.prod(getattr(model, "batch_shape", ()) or (1,))),
                int(np.prod(getattr(world, "batch_shape", ()) or (1,))))
    check_budget("points", points * batch)
    check_budget("levels", levels * batch)
    grid = np.linspace(lo, hi, points)
    u = (np.arange(levels) + 0.5) / levels
    cm = 1.0 - np.asarray(model.tail_mass(grid), dtype=float)
    cw = 1.0 - np.asarray(world.tail_mass(grid), dtype=float)
    edge = 0.5 / levels
    for name, c in (("model", cm), ("world", cw)):
        if np.any(c[..., 0] > edge) or np.any(c[..., -1] < 1.0 - edge):
            raise ValueError(f"lo and hi must hold both distributions: more than 0.5 / levels = {edge:.3g} of the "
                             f"{name}'s mass lies outside [lo, hi] = [{lo:g}, {hi:g}]; widen the grid")
    qm = _quantiles(np.atleast_2d(cm), grid, u)
    qw = _quantiles(np.atleast_2d(cw), grid, u)
    out = np.sqrt(np.mean((qm - qw) ** 2, axis=1))
    return out if np.ndim(cm) == 2 else float(out[0])


# ----------------------------------------------------------------------------- thresholds

@dataclass(frozen=True)
class Thresholds:
    """Stated thresholds that turn measured scores into low / moderate / high.

    A practice is scored on its final model by two numbers, each relative to
    the same family trained once on real data only (the unavoidable sampling
    error): ``tail`` (tail retained, i.e. the model's mass above the threshold
    over the world's, capped at 1 and averaged over replicates, divided by
    the real-only value) and ``w2`` (median Wasserstein-2 distance to the
    world over the real-only median distance). Each score gives a
    level; the verdict is the worse of the two.

    Attributes
    ----------
    tail_low, tail_high : float
        A tail score at or above ``tail_low`` is low risk, below
        ``tail_high`` high risk, in between moderate.
    w2_low, w2_high : float
        A distance ratio at or below ``w2_low`` is low risk, above
        ``w2_high`` high risk, in between moderate.

    Introduced in chapter 10, "The risk taxonomy, measured".
    """

    tail_low: float = 0.8
    tail_high: float = 0.5
    w2_low: float = 1.5
    w2_high: float = 3.0

    def __post_init__(self):
        for name in ("tail_low", "tail_high", "w2_low", "w2_high"):
            check_real(name, getattr(self, name))
        if not 0 <= self.tail_high <= self.tail_low:
            raise ValueError(f"need 0 <= tail_high <= tail_low, got {self.tail_high}, {self.tail_low}")
        if not 0 < self.w2_low <= self.w2_high:
            raise ValueError(f"need 0 < w2_low <= w2_high, got {self.w2_low}, {self.w2_high}")

    def level_tail(self, tail):
        """Risk level of a tail-retained score."""
        return "low" if tail >= self.tail_low else ("high" if tail < self.tail_high else "moderate")

    def level_w2(self, ratio):
        """Risk level of a distance ratio."""
        return "low" if ratio <= self.w2_low else ("high" if ratio > self.w2_high else "moderate")

    def verdict(self, tail, ratio):
        """The worse of the two levels."""
        return LEVELS[max(LEVELS.index(self.level_tail(tail)), LEVELS.index(self.level_w2(ratio)))]


# ----------------------------------------------------------------------------- schemes

class SyntheticPoolSubsample(Scheme):
    """Self-improvement with no real data kept: a growing pool of the model's own outputs.

    Generation 0 is fitted on the real sample, which is then discarded. Every
    generation ``t >= 1`` adds ``n`` outputs of the current model to a pool that
    holds only model outputs (``t * n`` points after ``t`` generations) and trains
    on ``n`` points drawn uniformly without replacement from it, so the training
    budget stays ``n`` per generation. It is the accumulate-subsample workflow of
    Kazdan et al. (2024) with the real sample left out of the pool: no real data
    enters or stays after generation 0. Generation 1 trains on the first ``n``
    outputs themselves, as :class:`~collapse_lib.Replace` does.

    Notes
    -----
    Beside it, :class:`~collapse_lib.AccumulateSubsample` keeps the generation-0
    real sample in the pool (its share falls as ``1 / (t + 1)``). The subset is
    drawn with the run's generator (``state["rng"]``), as there.

    Introduced in chapter 10, "The risk taxonomy, measured".
    """

    def initial(self, real_data, state):
        state.pop("_synthetic_pool", None)
        return real_data

    def next_data(self, t, n, synthetic, real, state):
        more = synthetic(n)
        pool = state.get("_synthetic_pool")
        if pool is None:
            state["_synthetic_pool"] = _Pool(more)
            return more
        points = pool.append(more)
        rng = state.get("rng")
        if rng is None:
            raise ValueError("SyntheticPoolSubsample needs state['rng'] (simulate provides it)")
        idx = subset_indices(rng, points.shape[0], points.shape[1], n)
        return np.take_along_axis(points, idx.reshape(idx.shape + (1,) * (points.ndim - 2)), axis=1)


# ----------------------------------------------------------------------------- scenarios

def _make_filter(spec):
    """A Filter from a scenario's filter description."""
    if spec is None:
        return NoFilter()
    if isinstance(spec, Filter) or callable(getattr(spec, "draw", None)):
        return spec
    if not (isinstance(spec, tuple) and len(spec) == 2 and isinstance(spec[0], str)):
        raise TypeError("filter must be None, a Filter, ('oracle', accuracy), ('density', m) or ('quality', keep); "
                        f"got {spec!r}")
    kind, value = spec
    from .. import filters as _filters

    if kind in ("oracle", "verifier"):   # "verifier" is the earlier name of the oracle's spec
        return _filters.OracleVerifier(value)
    if kind == "density":
        return _filters.DensityVerifier(value, holdout=0)
    if kind == "quality":
        return _filters.QualityFilter(value)
    raise ValueError("filter must be None, a Filter, ('oracle', accuracy), ('density', m) or ('quality', keep); "
                     f"got {spec!r}")


@dataclass(frozen=True)
class Scenario:
    """A data practice described as data, ready for :func:`measure`.

    Parameters
    ----------
    name : str
        Row label.
    workflow : {"recursive", "accumulate", "augment", "distill", "drift"}
        How each round's training data is made:

        - ``"recursive"``: every round trains on ``n`` points, the previous
          model's output plus a share ``real_fraction`` of fresh real data
          (:class:`~collapse_lib.Anchor`; 0 is the pure self-consuming loop);
        - ``"accumulate"``: every round adds ``n`` outputs of the current model
          to a pool and trains on ``n`` points drawn from the pool; the pool
          starts with the real sample (:class:`~collapse_lib.AccumulateSubsample`)
          or, with ``pool_keeps_real=False``, holds model outputs only
          (:class:`SyntheticPoolSubsample`: no real data after generation 0);
        - ``"augment"``: one round: a teacher generates ``synthetic_ratio * n``
          points, added to ``n`` real points (the student trains on both). The
          teacher is set by ``teacher``: ``"self"``, the student's own family
          fitted on those ``n`` real points; ``"fitted"``, a teacher fitted on
          ``teacher_factor * n`` real points of its own (a stronger teacher);
          ``"world"``, the world itself (an **oracle** teacher, the ceiling);
        - ``"distill"``: one round: a teacher fitted on ``teacher_factor * n``
          real points generates the synthetic part of the student's ``n``
          points, the rest (``real_fraction``) is fresh real data;
        - ``"drift"``: every round scrapes ``n`` points of which a share rising
          linearly from ``drift[0]`` to ``drift[1]`` is the previous model's
          output (:class:`~collapse_lib.SyntheticShare`), nobody chose which.
    rounds : int or None
        Rounds of training on generated data: None runs the ``generations`` of
        :func:`measure`; one-shot workflows use 1.
    real_fraction : float in [0, 1]
        Share of fresh real data per round (``"recursive"``, ``"distill"``).
    filter : None, Filter, ("verifier", accuracy) or ("quality", keep)
        What is done to generated samples before training.
    synthetic_ratio : float
        ``"augment"`` only: synthetic points per real point.
    teacher_factor : int
        ``"distill"``, and ``"augment"`` with ``teacher="fitted"``: the teacher
        saw this many times more real data than the student's ``n``.
    teacher_family : Family, optional
        ``"distill"`` and ``"augment"``: the teacher's own family (default: the student's).
        A family that cannot represent the tail (``NormalFit()``) makes a
        teacher that is strong on the core and blind to the rare case.
    drift : (float, float)
        ``"drift"`` only: synthetic share at the first and the last round.
    pool_keeps_real : bool
        ``"accumulate"`` only: does the pool keep the generation-0 real sample?
    teacher : {"self", "fitted", "world"}
        ``"augment"`` only: who generates the synthetic points (see ``workflow``).
    knobs : (bool, bool or None, bool or None)
        The source's recursive / anchored / filtered for this row (for
        :func:`classify`; ``None`` means unknown, "usually" or weak).
    claimed : str, optional
        The source's claimed risk; default ``classify(*knobs)``.
    note : str
        What the source's row says, in a few words.

    Examples
    --------
    An instructor's extra row: a self-consuming loop kept 30% real.

    >>> import collapse_lib as cl
    >>> row = cl.Scenario("loop, 30% fresh real", "recursive", real_fraction=0.3,
    ...                   knobs=(True, True, False))
    >>> row.claimed
    'moderate to high'

    Introduced in chapter 10, "The risk taxonomy, measured".
    """

    name: str
    workflow: str
    rounds: int | None = None
    real_fraction: float = 0.0
    filter: object = None
    synthetic_ratio: float = 1.0
    teacher_factor: int = 10
    teacher_family: object = None
    drift: tuple = (0.1, 0.9)
    pool_keeps_real: bool = True
    teacher: str = "self"
    knobs: tuple = (True, False, False)
    claimed: str | None = None
    note: str = ""

    def __post_init__(self):
        if self.workflow not in ("recursive", "accumulate", "augment", "distill", "drift"):
            raise ValueError(f"workflow must be one of recursive, accumulate, augment, distill, drift; got {self.workflow!r}")
        if self.rounds is not None:
            check_int("rounds", self.rounds, minimum=1)
        check_fraction("real_fraction", self.real_fraction)
        check_int("teacher_factor", self.teacher_factor, minimum=1)
        if check_real("synthetic_ratio", self.synthetic_ratio) < 0:
            raise ValueError(f"synthetic_ratio must be >= 0, got {self.synthetic_ratio}")
        if not isinstance(self.pool_keeps_real, (bool, np.bool_)):
            raise TypeError(f"pool_keeps_real must be True or False, got {self.pool_keeps_real!r}")
        if self.teacher not in ("self", "fitted", "world"):
            raise ValueError(f"teacher must be one of 'self', 'fitted', 'world'; got {self.teacher!r}")
        drift = check_fraction_array("drift", self.drift)
        if drift.shape != (2,):
            raise ValueError(f"drift must be (start, stop) synthetic shares, got {self.drift!r}")
        _make_filter(self.filter)   # refuses a wrong filter description now, not when measure runs
        if self.teacher_family is not None and not callable(getattr(self.teacher_family, "fit", None)):
            raise TypeError(f"teacher_family must be None or a Family (an object with fit(data)), "
                            f"got {type(self.teacher_family).__name__}")
        if len(self.knobs) != 3:
            raise ValueError(f"knobs must be (recursive, anchored, filtered), got {self.knobs!r}")
        if self.claimed is None:
            object.__setattr__(self, "claimed", classify(*self.knobs))
        elif self.claimed not in CLAIM_LEVELS:
            raise ValueError(f"claimed must be one of {list(CLAIM_LEVELS)}, got {self.claimed!r}")

    @property
    def one_shot(self):
        """True for the workflows that train once on generated data."""
        return self.workflow in ("augment", "distill")

    def with_(self, **changes):
        """A copy with some fields changed (e.g. ``row.with_(real_fraction=0.5)``).

        Changing ``knobs`` without giving ``claimed`` recomputes the claim with
        :func:`classify` (the old claim belonged to the old knobs).
        """
        if "knobs" in changes and "claimed" not in changes:
            changes["claimed"] = None
        return replace(self, **changes)


#: The source chapter's table, one scenario per row, in its order.
SOURCE_TABLE = (
    Scenario("one-shot augmentation, filtered, mixed with real", "augment",
             rounds=1, synthetic_ratio=1.0, teacher="fitted", teacher_factor=20, filter=("density", 200),
             knobs=(False, True, True),
             note="the Phi regime: a teacher fitted on twenty times the student's real data; its "
                  "samples kept by a density verifier learned from 200 real points"),
    Scenario("distill once from a stronger teacher, mixed with real", "distill", rounds=1,
             real_fraction=0.5, teacher_factor=10, filter=None, knobs=(False, True, None),
             note="teacher roughly aligned; filtered usually, measured unfiltered"),
    Scenario("train on this model's own output, no real data", "recursive", real_fraction=0.0,
             knobs=(True, False, False), note="the collapse regime"),
    Scenario("iteratively self-improve over many rounds, unfiltered", "accumulate",
             pool_keeps_real=False, knobs=(True, False, False),
             note="each round's outputs join a growing pool of model outputs; training draws from "
                  "the pool; no real data after generation 0"),
    Scenario("self-improve with fresh human data and filtering each round", "recursive",
             real_fraction=0.2, filter=("oracle", 0.9), knobs=(True, True, True),
             note="anchor and filter hold it; the filter is the oracle verifier"),
    Scenario("train on scraped web that is increasingly model-generated", "drift",
             drift=(0.1, 0.9), filter=("quality", 0.95), knobs=(True, None, None),
             claimed="uncontrolled", note="anchoring unknown, filtering weak; provenance matters"),
)


#: Variants measured beside the source's rows (chapter 10): the self-improvement loop whose
#: pool keeps the first real sample (anchored by original data, Kazdan et al.'s
#: accumulate-subsample), and the Phi row with the world itself as an oracle teacher.
VARIANTS = (
    Scenario("self-improve, pool keeps the first real sample", "accumulate", pool_keeps_real=True,
             knobs=(True, False, False),
             note="the original real sample stays in the pool; no fresh real data"),
    Scenario("one-shot augmentation from an oracle teacher (the world)", "augment", rounds=1,
             synthetic_ratio=1.0, teacher="world", filter=None, knobs=(False, True, False),
             note="the synthetic points are world draws: fresh real data under another name"),
)


# ----------------------------------------------------------------------------- measurement

@dataclass
class Measurement:
    """What :func:`measure` found for one scenario (at one number of rounds).

    Attributes
    ----------
    scenario : Scenario
    tail : ndarray (R,)
        Final model's mass above the threshold over the world's, per replicate.
    w2 : ndarray (R,)
        Wasserstein-2 distance of each final model to the world.
    tail_real, w2_real : float
        The same scores (tail retained, median distance) for the family fitted
        once on ``n`` fresh real points: the unavoidable sampling error that
        the practice is compared with.
    thresholds : Thresholds
    generations, n : int
        Rounds run and points per round.
    checkpoints : dict of int -> (tail, w2)
        Scores after fewer rounds of the same run (see ``record_every`` in
        :func:`measure`); :meth:`at` turns one into a Measurement.
    reference : (ndarray, ndarray)
        Per-replicate ``(tail, w2)`` of the real-data-only fits (same seed,
        so replicate ``i`` of the practice started from the same real sample).
    z : float
        Width of the uncertainty behind :attr:`level_range`, in standard
        errors (2: about 95% for each score).
    model : Distribution or None
        The final models, a batch of ``R`` (None after :meth:`at`, which
        scores an earlier round).

    Notes
    -----
    Introduced in chapter 10, "The risk taxonomy, measured".
    """

    scenario: Scenario
    tail: np.ndarray
    w2: np.ndarray
    tail_real: float
    w2_real: float
    thresholds: Thresholds
    generations: int
    n: int
    checkpoints: dict = field(default_factory=dict)
    reference: tuple = ()
    z: float = 2.0
    model: object = None

    @property
    def tail_retained(self):
        """The tail retained, the mean over replicates of ``min(tail, 1)``.

        A run that over-produces the tail counts as fully covering it (the
        distance score catches that distortion); a run that lost it counts
        as zero. (A median would move in steps of one tail point.)
        """
        return _retained(self.tail)

    @property
    def tail_score(self):
        """Tail retained over the real-data-only reference's value (one means no worse than real data)."""
        return self.tail_retained / self.tail_real

    @property
    def tail_score_se(self):
        """The standard error of the tail score, from the paired per-replicate differences.

        The practice and its real-only reference share each replicate's first
        real sample, so the difference of the two is far less noisy than either.
        """
        d = np.minimum(self.tail, 1.0) - np.minimum(self.reference[0], 1.0)
        r = d.size
        return float(d.std(ddof=1) / np.sqrt(r) / self.tail_real) if r > 1 else 0.0

    @property
    def tail_scores(self):
        """Per-replicate tail score, ``min(tail, 1)`` over the reference's tail retained (for :func:`~collapse_lib.compare`)."""
        return np.minimum(self.tail, 1.0) / self.tail_real

    @property
    def tail_lost(self):
        """Share of replicates that kept less than a tenth of the world's tail."""
        return float(np.mean(self.tail < 0.1))

    @property
    def w2_median(self):
        """Median Wasserstein-2 distance to the world."""
        return float(np.median(self.w2))

    @property
    def w2_ratio(self):
        """Median distance over the real-data-only reference distance."""
        return self.w2_median / self.w2_real

    @property
    def level(self):
        """The measured risk, low, moderate or high (the worse of the two scores)."""
        return self.thresholds.verdict(self.tail_score, self.w2_ratio)

    @property
    def w2_ratio_range(self):
        """Distance ratio at the median's rank plus and minus ``z`` rank standard errors.

        The median of ``R`` replicates has a rank standard error of about
        ``sqrt(R) / 2``; the order statistics ``z sqrt(R) / 2`` ranks either
        side of the middle bound it (a distribution-free interval; the
        reference distance is taken as exact).
        """
        w = np.sort(self.w2)
        r = w.size
        half = int(np.ceil(self.z * np.sqrt(r) / 2))
        lo, hi = max(0, (r - 1) // 2 - half), min(r - 1, r // 2 + half)
        return float(w[lo] / self.w2_real), float(w[hi] / self.w2_real)

    @property
    def level_range(self):
        """(best, worst) verdict over the scores' uncertainty.

        The tail score is taken at plus and minus ``z`` standard errors, the
        distance ratio over :attr:`w2_ratio_range`. When both ends give the same
        level the verdict is settled by the simulation; otherwise more
        replicates would be needed to place the practice.
        """
        t_lo, t_hi = self.tail_score - self.z * self.tail_score_se, self.tail_score + self.z * self.tail_score_se
        w_lo, w_hi = self.w2_ratio_range
        return self.thresholds.verdict(t_hi, w_lo), self.thresholds.verdict(t_lo, w_hi)

    @property
    def settled(self):
        """True if the verdict is the same across the scores' uncertainty."""
        best, worst = self.level_range
        return best == worst

    @property
    def agrees(self):
        """Does the measurement fall in the source's claim?

        ``True`` or ``False`` when every level within the uncertainty is (or is
        not) in the claim; ``"undecided"`` when it straddles the claim's edge;
        ``None`` for a row that makes no claim.
        """
        best, worst = self.level_range
        span = LEVELS[LEVELS.index(best):LEVELS.index(worst) + 1]
        verdicts = {agrees(self.scenario.claimed, lv) for lv in span}
        if verdicts == {None}:
            return None
        return verdicts.pop() if len(verdicts) == 1 else "undecided"

    def at(self, generations):
        """The same run scored after ``generations`` rounds (a recorded checkpoint)."""
        if generations not in self.checkpoints:
            raise ValueError(f"generations must be a recorded checkpoint, one of {sorted(self.checkpoints)}")
        tail, w2 = self.checkpoints[generations]
        return replace(self, tail=tail, w2=w2, generations=generations, model=None)

    def with_thresholds(self, thresholds):
        """The same scores judged by other thresholds."""
        if not isinstance(thresholds, Thresholds):
            raise TypeError("thresholds must be a Thresholds")
        return replace(self, thresholds=thresholds)

    def row(self):
        """A dict for a table (name, knobs, claim, scores, measured level, agreement)."""
        rec, anc, fil = self.scenario.knobs
        word = {True: "yes", False: "no", None: "unknown"}
        return {
            "practice": self.scenario.name,
            "recursive": word[rec], "anchored": word[anc], "filtered": word[fil],
            "claimed": self.scenario.claimed,
            "tail retained": self.tail_retained,
            "runs that lost the tail": self.tail_lost,
            "tail vs real-only": self.tail_score,
            "W2 vs real-only": self.w2_ratio,
            "measured": self.level,
            "measured range": ("" if self.settled else "{} to {}".format(*self.level_range)),
            "agrees": {True: "yes", False: "no", None: "(no claim)", "undecided": "undecided"}[self.agrees],
        }


def _retained(tail):
    return float(np.mean(np.minimum(tail, 1.0)))


def _models(scenario, world, family, generations, n, replicates, seed, record_every):
    """Simulate one scenario; return ``[(rounds, batch of models), ...]``, last = final."""
    filt = _make_filter(scenario.filter)
    g = generations if scenario.rounds is None else scenario.rounds
    wf = scenario.workflow
    if wf == "distill":
        from .distillation import distill_once

        n_real = int(round(n * scenario.real_fraction))
        teacher = None
        teacher_n = scenario.teacher_factor * n
        if scenario.teacher_family is not None:
            rng = np.random.default_rng([seed, 1])
            teacher = scenario.teacher_family.fit(
                world.sample(replicates * teacher_n, rng).reshape(replicates, teacher_n))
            teacher_n = None
        out = distill_once(world, family, n_real=n_real, n_synthetic=n - n_real, teacher=teacher,
                           teacher_n=teacher_n, replicates=replicates, seed=seed, filter=filt)
        return [(1, out.student)]
    if wf == "augment" and scenario.teacher != "self":
        from .distillation import distill_once

        k = int(np.floor(scenario.synthetic_ratio * n + 0.5))
        if scenario.teacher == "world":
            teacher, teacher_n = world, None
        elif scenario.teacher_family is not None:
            rng = np.random.default_rng([seed, 1])
            tn = scenario.teacher_factor * n
            teacher = scenario.teacher_family.fit(world.sample(replicates * tn, rng).reshape(replicates, tn))
            teacher_n = None
        else:
            teacher, teacher_n = None, scenario.teacher_factor * n
        out = distill_once(world, family, n_real=n, n_synthetic=k, teacher=teacher, teacher_n=teacher_n,
                           replicates=replicates, seed=seed, filter=filt)
        return [(1, out.student)]
    if wf == "augment":
        scheme, g = Augment(scenario.synthetic_ratio), 1
    elif wf == "recursive":
        scheme = Anchor(scenario.real_fraction) if scenario.real_fraction > 0 else Replace()
    elif wf == "accumulate":
        scheme = AccumulateSubsample() if scenario.pool_keeps_real else SyntheticPoolSubsample()
    else:  # drift
        scheme = SyntheticShare.linear(scenario.drift[0], scenario.drift[1], g)
    every = g if record_every is None else check_int("record_every", record_every, minimum=1)
    run = simulate(world, family, n=n, generations=g, scheme=scheme, filter=filt,
                   replicates=replicates, seed=seed, record_every=every)
    gens = np.asarray(run.model_generations if getattr(run, "model_generations", None) is not None
                      else run.generations)
    return [(int(t), m) for t, m in zip(gens, run.models) if t >= 1]


def measure(scenario, world=None, family=None, generations=30, replicates=200, seed=0, n=200,
            threshold=5.0, thresholds=None, record_every=None):
    """Simulate a described practice and score its final model.

    Parameters
    ----------
    scenario : Scenario
        The practice.
    world : Distribution, optional
        The real world (default :func:`collapse_lib.studies.taxonomy.running_world`); needs an exact ``tail_mass``.
    family : Family, optional
        The model family (default :func:`collapse_lib.studies.taxonomy.expressive_family`); its fits need an
        exact ``tail_mass``.
    generations : int >= 1
        Rounds for the recursive workflows (one-shot workflows run one round).
    replicates : int >= 1
        Independent repetitions, simulated together.
    seed : int
        Seed; the same arguments give bit-identical measurements.
    n : int >= 10
        Points per round.
    threshold : float
        Where the rare tail starts.
    thresholds : Thresholds, optional
        The level cut-offs (default :class:`Thresholds`).
    record_every : int, optional
        Also score the run every ``record_every`` rounds (``Measurement.at``).
        For the drift workflow the schedule still ends at ``generations``.

    Returns
    -------
    Measurement

    Raises
    ------
    ValueError
        Besides wrong arguments: when the family fitted once on ``n`` real points
        keeps none of the world's mass above ``threshold`` in every replicate (the
        tail score, retained over the real-only value, would be 0 / 0), or matches
        the world exactly (a distance ratio over 0).

    Notes
    -----
    Both scores are taken relative to the same family fitted once on ``n``
    fresh real points (same seed), so 1 means "as good as training on real
    data alone".

    Introduced in chapter 10, "The risk taxonomy, measured".
    """
    if not isinstance(scenario, Scenario):
        raise TypeError(f"scenario must be a Scenario, got {type(scenario).__name__}")
    world = running_world() if world is None else world
    family = expressive_family() if family is None else family
    if not (callable(getattr(world, "sample", None)) and callable(getattr(world, "tail_mass", None))):
        raise TypeError(f"world must be a distribution with sample and an exact tail_mass, got {type(world).__name__}")
    if not callable(getattr(family, "fit", None)):
        raise TypeError(f"family must be a Family (an object with fit(data)), got {type(family).__name__}")
    generations = check_int("generations", generations, minimum=1)
    replicates = check_int("replicates", replicates, minimum=1)
    check_budget("generations * replicates", (generations + 1) * replicates)
    n = check_int("n", n, minimum=10)
    seed = check_int("seed", seed, minimum=0)
    threshold = check_real("threshold", threshold)
    thresholds = Thresholds() if thresholds is None else thresholds
    if not isinstance(thresholds, Thresholds):
        raise TypeError("thresholds must be a Thresholds")
    true_tail = float(world.tail_mass(threshold))
    if not true_tail > 0:
        raise ValueError(f"world must have a positive tail mass above threshold={threshold}")

    def scores(model):
        tail = np.broadcast_to(np.asarray(model.tail_mass(threshold), float), (replicates,)) / true_tail
        w2 = np.broadcast_to(np.asarray(w2_to_world(model, world), float), (replicates,))
        return np.array(tail), np.array(w2)

    runs = _models(scenario, world, family, generations, n, replicates, seed, record_every)
    checkpoints = {g: scores(m) for g, m in runs}
    reference = simulate(world, family, n=n, generations=0, replicates=replicates, seed=seed).models[0]
    tail_ref, w2_ref = scores(reference)
    if not _retained(tail_ref) > 0:
        raise ValueError(f"the family fitted once on n={n} real points kept none of the world's mass above "
                         f"threshold={threshold} in any of the {replicates} replicates, so the tail score "
                         "(tail retained over the real-only value) is undefined; raise n or replicates, or "
                         "lower threshold")
    if not float(np.median(w2_ref)) > 0:
        raise ValueError("the family fitted once on real points matches the world exactly (median W2 of 0), so "
                         "the distance ratio is undefined; use a world the family cannot fit exactly")
    last = max(checkpoints)
    tail, w2 = checkpoints[last]
    return Measurement(scenario, tail, w2, _retained(tail_ref), float(np.median(w2_ref)), thresholds,
                       last, n, checkpoints, (tail_ref, w2_ref), model=runs[-1][1])


def measure_table(scenarios=SOURCE_TABLE, **kwargs):
    """Measure several scenarios with the same world, family, budget and seed.

    Returns a list of :class:`Measurement`, in order; ``kwargs`` go to :func:`measure`.

    Introduced in chapter 10, "The risk taxonomy, measured".
    """
    return [measure(s, **kwargs) for s in scenarios]
