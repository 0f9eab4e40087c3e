"""Web drift answered by provenance: a pipeline that knows which scraped samples are real.

:class:`ProvenanceCap` is a data scheme: each generation scrapes a web whose
synthetic share drifts upward (as :class:`collapse_lib.SyntheticShare`), keeps
every sample it labels real and caps the share of synthetic ones, with
provenance labels as accurate as ``detect`` and, optionally, an archive of all
the real data it has verified. :class:`KeepAllCrawls` is its baseline without
provenance: it keeps every crawl it ever scraped, real and synthetic mixed, so it
holds the same real data as the archive and every synthetic sample besides.

Introduced in chapter 9, "Web drift".
"""

from __future__ import annotations

import numpy as np

from .._validate import check_fraction, check_fraction_array
from ..schemes import Scheme, SyntheticShare, _compose, _Pool

__all__ = ["ProvenanceCap", "KeepAllCrawls"]


def _schedule(schedule):
    """A SyntheticShare from ``schedule``; a sequence must hold shares in [0, 1] (1-D)."""
    if isinstance(schedule, SyntheticShare):
        return schedule
    if not callable(schedule):
        shares = check_fraction_array("schedule", schedule)
        if shares.ndim != 1:
            raise ValueError(f"schedule must be a 1-D sequence of shares (one per generation), got shape {shares.shape}")
    return SyntheticShare(schedule)


class ProvenanceCap(Scheme):
    """A pipeline that knows which scraped samples are real and caps the synthetic share.

    Each generation a corpus of ``n`` samples is scraped from a web whose
    synthetic share follows ``schedule(t)`` (the same drift as
    :class:`collapse_lib.SyntheticShare`). The pipeline reads each sample's
    provenance: it keeps every real sample and at most enough synthetic samples
    for them to make up ``cap`` of the training data. When the web is mostly
    synthetic, the training set therefore shrinks rather than drifts.

    Parameters
    ----------
    schedule : SyntheticShare, array_like or callable
        The synthetic share of the scraped corpus per generation, as in
        :class:`collapse_lib.SyntheticShare` (``schedule[t - 1]`` or
        ``schedule(t)`` for generation ``t >= 1``), or a SyntheticShare itself.
    cap : float in [0, 1)
        Largest share of synthetic samples allowed in the training data.
    detect : float in [0.5, 1]
        Share of samples whose provenance label is right (1: perfect
        provenance; 0.5: labels are coin flips, i.e. no provenance). A share
        ``1 - detect`` of each kind is mislabelled, as exact rounded counts so
        that every replicate's training set has the same size. A mislabelled
        synthetic sample is kept as if it were real.
    archive : bool
        False (default): each generation trains on this crawl only. True: every
        sample ever labelled real is kept (the generation-0 sample included) and
        the cap applies to the archive, the way a pipeline that knows what is
        real can keep its verified real data across crawls.

    Notes
    -----
    The training set of generation ``t`` has ``r + min(s, floor(cap r / (1 - cap)))``
    samples, with ``r`` the samples labelled real and ``s`` those labelled
    synthetic. Introduced in chapter 9, "Web drift".
    """

    def __init__(self, schedule, cap, detect=1.0, archive=False):
        self.drift = _schedule(schedule)
        self.cap = check_fraction("cap", cap)
        if self.cap >= 1.0:
            raise ValueError("cap must be in [0, 1) (a cap of 1 is no cap: use SyntheticShare)")
        self.detect = check_fraction("detect", detect)
        if self.detect < 0.5:
            raise ValueError(f"detect must be in [0.5, 1], got {self.detect}")
        if not isinstance(archive, bool):
            raise TypeError(f"archive must be True or False, got {archive!r}")
        self.archive = archive

    def share(self, t):
        """The scraped corpus's synthetic share at generation ``t``."""
        return self.drift.share(t)

    def split(self, n, t):
        """``(n_synthetic, n_real)`` scraped at generation ``t`` (before the cap)."""
        return self.drift.split(t, n)

    def check(self, n, generations):
        """Raise ValueError if the schedule is too short for the run."""
        self.drift.check(n, generations)

    def next_data(self, t, n, synthetic, real, state):
        n_syn, n_real = self.split(n, t)
        syn = synthetic(n_syn) if n_syn else None
        rea = real(n_real) if n_real else None
        if self.detect < 1.0:
            # Provenance labels are right with probability `detect`: the pipeline's view of
            # which samples are real is itself a draw. Mislabelled synthetic samples count
            # as real; mislabelled real samples count as synthetic. Same count per replicate
            # (binomial counts would give ragged rows), so we use the expected numbers.
            wrong_syn = int(round(n_syn * (1.0 - self.detect)))
            wrong_real = int(round(n_real * (1.0 - self.detect)))
        else:
            wrong_syn = wrong_real = 0
        labelled_real = [a for a in (
            syn[:, :wrong_syn] if syn is not None and wrong_syn else None,
            rea[:, wrong_real:] if rea is not None and n_real - wrong_real else None) if a is not None]
        labelled_syn = [a for a in (
            syn[:, wrong_syn:] if syn is not None and n_syn - wrong_syn else None,
            rea[:, :wrong_real] if rea is not None and wrong_real else None) if a is not None]
        if self.archive:
            state["archive"] = np.concatenate([state["archive"]] + labelled_real, axis=-1)
            labelled_real = [state["archive"]]
        r = sum(a.shape[1] for a in labelled_real)
        s = sum(a.shape[1] for a in labelled_syn)
        allowed = int(np.floor(self.cap * r / (1.0 - self.cap) + 1e-9)) if r else 0
        keep_syn = min(s, allowed)
        parts = list(labelled_real)
        if keep_syn:
            parts.append(np.concatenate(labelled_syn, axis=-1)[:, :keep_syn])
        if not parts:
            # Nothing labelled real and the cap allows no synthetic data: keep the previous
            # training data rather than train on nothing.
            return state["last"]
        data = np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]
        state["last"] = data
        return data

    def initial(self, real_data, state):
        state["last"] = real_data
        state["archive"] = real_data
        return real_data

    def __repr__(self):
        extra = ", archive=True" if self.archive else ""
        return f"ProvenanceCap(cap={self.cap:g}, detect={self.detect:g}{extra})"


class KeepAllCrawls(Scheme):
    """Keep every crawl ever scraped, real and synthetic mixed: data kept without provenance.

    Each generation scrapes ``n`` samples from a web whose synthetic share follows
    ``schedule(t)`` (as :class:`collapse_lib.SyntheticShare`) and adds the whole crawl
    to a pool that starts as the generation-0 real sample; the model trains on the
    pool. Generation ``t`` therefore trains on ``(t + 1) n`` samples. It holds
    exactly the real samples that ``ProvenanceCap(..., detect=1, archive=True)``
    archives, plus every synthetic sample ever scraped: the baseline that tells
    what provenance adds beyond keeping data.

    Parameters
    ----------
    schedule : SyntheticShare, array_like or callable
        The synthetic share of each crawl, as in :class:`ProvenanceCap`.

    Notes
    -----
    The pool grows by ``n`` per generation (amortised appends), so memory grows
    with the generations. Introduced in chapter 9, "Web drift".
    """

    def __init__(self, schedule):
        self.drift = _schedule(schedule)

    def share(self, t):
        """The scraped corpus's synthetic share at generation ``t``."""
        return self.drift.share(t)

    def split(self, n, t):
        """``(n_synthetic, n_real)`` scraped at generation ``t``."""
        return self.drift.split(t, n)

    def check(self, n, generations):
        """Raise ValueError if the schedule is too short for the run."""
        self.drift.check(n, generations)

    def initial(self, real_data, state):
        state["_pool"] = _Pool(real_data)
        state["pool"] = real_data
        return real_data

    def next_data(self, t, n, synthetic, real, state):
        n_syn, n_real = self.split(n, t)
        state["pool"] = state["_pool"].append(_compose((synthetic, n_syn), (real, n_real)))
        return state["pool"]

    def __repr__(self):
        return f"KeepAllCrawls({self.drift!r})"
