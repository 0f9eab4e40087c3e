"""Regression collapse: least squares retrained on labels from its own previous fit.

The loop of Dohmatob, Feng and Kempe (2024) and Gerstgrasser et al. (2024), run for
many replicates at once. Generation 0 fits a least-squares family to ``T`` examples
labelled by the world; every later generation draws ``T`` inputs (new ones, or the
same design again) and labels them with the previous generation's model plus fresh
label noise, then refits:

- ``scheme="replace"``: on the newest labels only;
- ``scheme="accumulate"``: on every labelled example so far (the pool grows by ``T``
  rows per generation; only ``X'X`` and ``X'y`` are kept, never the rows).

``design="fresh"`` draws new inputs each generation (Dohmatob et al.'s data
generators); ``design="fixed"`` reuses the generation-0 design (Gerstgrasser et al.'s
proved setting). Optionally a *downstream* model is trained on ``T_downstream`` new
examples labelled by each generation's model (Dohmatob et al.'s ``w_pred``), so the
effect of ``n`` rounds of synthetic labels on one final fit can be measured.

Introduced in chapter 14, "Regression collapse, in its own setting".
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import check_budget, check_choice, check_int, check_real
from ..models.regression import LinearModel, OLSFit, RidgeFit, _LeastSquares

__all__ = ["RegressionRun", "regression_recursion"]

_SCHEMES = ("replace", "accumulate")
_DESIGNS = ("fresh", "fixed")


@dataclass
class RegressionRun:
    """What :func:`regression_recursion` measured.

    Attributes
    ----------
    errors : ndarray of shape (generations + 1, replicates)
        Excess test error ``(w_t - w0)' cov (w_t - w0)`` of the model of generation
        ``t`` (row ``t``), which has gone through ``t + 1`` fits.
    downstream : dict of str -> ndarray of shape (generations + 2, replicates)
        For each downstream family (by its ``repr``), the excess test error of a model
        trained on ``T_downstream`` new examples labelled by the ``n``-th data
        generator (row ``n``): row 0 uses the world's labels, row ``n >= 1`` the model
        of generation ``n - 1``. Empty without downstream families.
    scheme, design : str
    T, d, replicates : int
    label_noise : float
        Noise of the synthetic labels (``sigma_0``).

    Introduced in chapter 14, "Regression collapse, in its own setting".
    """

    errors: np.ndarray
    downstream: dict = field(default_factory=dict)
    scheme: str = "replace"
    design: str = "fresh"
    T: int = 0
    d: int = 0
    replicates: int = 0
    label_noise: float = 1.0

    @property
    def fits(self):
        """Number of fits behind each row of :attr:`errors` (``1 .. generations + 1``)."""
        return np.arange(1, self.errors.shape[0] + 1)


def _families(downstream):
    if downstream is None:
        return {}
    if isinstance(downstream, _LeastSquares):
        downstream = [downstream]
    if isinstance(downstream, dict):
        items = list(downstream.items())
    else:
        try:
            items = [(repr(f), f) for f in downstream]
        except TypeError:
            raise TypeError("downstream must be an OLSFit/RidgeFit, a list of them or a dict name -> family") from None
    for name, fam in items:
        if not isinstance(fam, _LeastSquares):
            raise TypeError(f"downstream family {name!r} must be an OLSFit or RidgeFit, got {type(fam).__name__}")
    return dict(items)


def regression_recursion(world, fit, T, generations, *, scheme="replace", design="fresh",
                         replicates=1000, seed=None, label_noise=None, downstream=None,
                         T_downstream=None, downstream_at=None):
    """Retrain a least-squares model on labels from its own previous fit, for many replicates.

    Parameters
    ----------
    world : LinearRegressionWorld
        The true linear model ``w0`` with its label noise ``sigma`` and input law.
    fit : OLSFit or RidgeFit
        The family refitted each generation (the data generators).
    T : int >= d
        Labelled examples drawn per generation.
    generations : int >= 0
        Generations after generation 0.
    scheme : {"replace", "accumulate"}
        Train on the newest labels only, or on all labels so far.
    design : {"fresh", "fixed"}
        New inputs every generation, or the generation-0 inputs relabelled.
    replicates : int >= 1
    seed : int or None
        Seed of the one generator behind every draw (same arguments and seed give the
        same result).
    label_noise : float >= 0, optional
        Label noise ``sigma_0`` of every generation's training data, generation 0's
        labels from the world included, as in Dohmatob et al.'s chain of data
        generators (default: the world's ``sigma``). Downstream models always see the
        world's ``sigma``.
    downstream : OLSFit, RidgeFit, list or dict of them, optional
        Final models trained on ``T_downstream`` new examples labelled by each
        generation's model with the world's noise ``sigma``; all of them see the same
        examples (common random numbers), so their errors can be compared pairwise.
    T_downstream : int, optional
        Examples for each downstream fit (default ``T``).
    downstream_at : iterable of int, optional
        Generator indices ``n`` (``0 .. generations + 1``) at which to train the
        downstream models (default: all); the other rows of ``downstream`` are NaN.

    Returns
    -------
    RegressionRun

    Notes
    -----
    Cost per generation: one ``(R, T, d)`` design (``"fresh"``), its ``X'X`` and a
    batched ``d x d`` solve per family. Memory does not grow with the generations.

    Introduced in chapter 14, "Regression collapse, in its own setting".

    Examples
    --------
    >>> import numpy as np, collapse_lib as cl
    >>> world = cl.LinearRegressionWorld(np.ones(5), noise=1.0)
    >>> run = cl.regression_recursion(world, cl.OLSFit(), T=20, generations=3,
    ...                               replicates=100, seed=0)
    >>> run.errors.shape
    (4, 100)
    """
    if not isinstance(world, LinearModel) or world.coef.ndim != 1:
        raise TypeError(f"world must be a LinearRegressionWorld (unbatched coefficients), got {world!r}")
    if not isinstance(fit, _LeastSquares):
        raise TypeError(f"fit must be an OLSFit or RidgeFit, got {type(fit).__name__}")
    d = world.d
    T = check_int("T", T, minimum=1)
    if isinstance(fit, OLSFit) and T < d:
        raise ValueError(f"T must be >= d = {d} for OLS (one solution per generation), got T = {T}")
    generations = check_int("generations", generations, minimum=0)
    replicates = check_int("replicates", replicates, minimum=1)
    check_choice("scheme", scheme, _SCHEMES)
    check_choice("design", design, _DESIGNS)
    seed = None if seed is None else check_int("seed", seed, minimum=0)
    if label_noise is None:
        label_noise = world.noise
    else:
        label_noise = check_real("label_noise", label_noise)
        if label_noise < 0:
            raise ValueError(f"label_noise must be a finite number >= 0, got {label_noise}")
    families = _families(downstream)
    T_down = T if T_downstream is None else check_int("T_downstream", T_downstream, minimum=1)
    check_budget("replicates * T * d", replicates * T * d)
    check_budget("replicates * T_downstream * d", replicates * T_down * d)
    check_budget("generations * replicates", (generations + 2) * replicates * max(1, len(families)))
    for name, fam in families.items():
        if isinstance(fam, OLSFit) and T_down < d:
            raise ValueError(f"T_downstream must be >= d = {d} for an OLS downstream model, got {T_down}")

    if downstream_at is None:
        wanted = set(range(generations + 2))
    else:
        wanted = {check_int("downstream_at", n, minimum=0, maximum=generations + 1) for n in downstream_at}

    rng = np.random.default_rng(seed)
    R = replicates
    errors = np.empty((generations + 1, R))
    down = {name: np.full((generations + 2, R), np.nan) for name in families}

    def downstream_fit(n, labeller):
        if not families or n not in wanted:
            return
        Xd = world.design(T_down, rng, replicates=R)
        yd = labeller.label(Xd, rng, noise=world.noise)
        xtx = np.swapaxes(Xd, -1, -2) @ Xd
        xty = np.einsum("rtd,rt->rd", Xd, yd)
        for name, fam in families.items():
            down[name][n] = world.test_error(fam.fit_stats(xtx, xty, T_down).coef)

    X0 = world.design(T, rng, replicates=R)
    y0 = world.label(X0, rng, noise=label_noise)
    xtx0 = np.swapaxes(X0, -1, -2) @ X0
    xtx, xty, rows = xtx0.copy(), np.einsum("rtd,rt->rd", X0, y0), T
    downstream_fit(0, world)
    model = fit.fit_stats(xtx, xty, rows, noise=label_noise, cov=world.cov)
    errors[0] = world.test_error(model.coef)
    for t in range(1, generations + 1):
        downstream_fit(t, model)
        X = X0 if design == "fixed" else world.design(T, rng, replicates=R)
        y = model.label(X, rng, noise=label_noise)
        gram = xtx0 if design == "fixed" else np.swapaxes(X, -1, -2) @ X
        moment = np.einsum("rtd,rt->rd", X, y)
        if scheme == "replace":
            xtx, xty, rows = gram, moment, T
        else:
            xtx, xty, rows = xtx + gram, xty + moment, rows + T
        model = fit.fit_stats(xtx, xty, rows, noise=label_noise, cov=world.cov)
        errors[t] = world.test_error(model.coef)
    downstream_fit(generations + 1, model)
    return RegressionRun(errors=errors, downstream=down, scheme=scheme, design=design, T=T, d=d,
                         replicates=R, label_noise=float(label_noise))
