"""collapse_lib against the public reference code, experiment by experiment (issue 13).

Usage (from the repository root)::

    .venv/bin/python bench/bench_peers.py            # the table in README's Performance section
    .venv/bin/python bench/bench_peers.py --quick    # a smaller smoke run (numbers not comparable)

For every experiment the public model-collapse code runs, this script times two
implementations of the *same* experiment on the *same* settings:

- the peer: the published loop, one replicate at a time, rewritten here in our
  own words with its logic kept (the repository and file are named above each
  function); it uses numpy's global generator and scikit-learn, as the original;
- collapse_lib: one :func:`collapse_lib.simulate` call over all replicates
  (the exact path where it exists, ``stop=`` for run-until-collapse,
  :class:`~collapse_lib.AccumulateSubsample`, :class:`~collapse_lib.KDEFit`,
  :class:`~collapse_lib.GaussianMixtureFit`, :class:`~collapse_lib.Blobs`).

Each side is timed as the best of three runs, in CPU seconds of this process
(``time.process_time``; the wall clock of a shared machine mostly measures the
other jobs), with BLAS and OpenMP pinned to one thread for both sides
(threadpoolctl). The row prints the ratio peer time / collapse_lib time and its
target (>= 100x for the Gaussian rows, >= 10x for the others).

Statistics check: for each recorded quantity (e.g. the fitted variance, the
held-out negative log-likelihood) and each generation, the mean over replicates
of the peer and of collapse_lib are compared by
``z = (mean_peer - mean_lib) / sqrt(se_peer^2 + se_lib^2)``; the row prints the
largest ``|z|`` over generations and quantities. The two implementations use
different random streams, so ``z`` is roughly standard normal per comparison
when the laws agree; over the tens to hundreds of comparisons a row makes,
``max |z| < 4`` is expected.

The settings are scaled down from the papers' (fewer replicates and generations,
smaller samples; given in each row's label) so that the whole script runs in
under three minutes on the 2-core development machine. Not a unit test: nothing
here asserts a speed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

import collapse_lib as cl

REPEATS = 3


def best_time(fn, repeats=REPEATS):
    """Best CPU time over ``repeats`` calls, and the last call's result."""
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t0)
    return best, out


def max_abs_z(peer, lib):
    """Largest |z| between per-generation means of two dicts of (G, R) arrays.

    The standard error of each mean is its sample std / sqrt(replicates); a
    quantity that is constant across both sets of replicates (e.g. exactly 0 at
    every replicate) gives no comparison and is skipped.
    """
    worst = 0.0
    count = 0
    for key in peer:
        a, b = np.asarray(peer[key], float), np.asarray(lib[key], float)
        if a.ndim == 1:
            a, b = a[None], b[None]
        if a.shape[0] != b.shape[0]:  # runs until collapse: pad the shorter with its last row
            rows = max(a.shape[0], b.shape[0])
            a = np.concatenate([a, np.repeat(a[-1:], rows - a.shape[0], axis=0)])
            b = np.concatenate([b, np.repeat(b[-1:], rows - b.shape[0], axis=0)])
        se2 = a.var(axis=1, ddof=1) / a.shape[1] + b.var(axis=1, ddof=1) / b.shape[1]
        diff = a.mean(axis=1) - b.mean(axis=1)
        ok = se2 > 0
        if np.any(~ok & (diff != 0)):
            return np.inf, count
        if np.any(ok):
            worst = max(worst, float(np.max(np.abs(diff[ok]) / np.sqrt(se2[ok]))))
            count += int(ok.sum())
    return worst, count


# ---------------------------------------------------------------------------------------
# Gaussian fitting, replace and accumulate.
# Peer: Kazdan et al., github.com/RylanSchaeffer/KoyejoLab-Collapse-or-Thrive,
# src/fit_gaussians/fit_gaussians.py. Per run: seed the global generator; draw the
# initial data with np.random.multivariate_normal (mean 0, covariance sigma^2 I);
# each iteration fits the mean and the covariance with np.cov(bias=True) (the MLE),
# records the fit, draws n new points from the fitted Normal with
# np.random.multivariate_normal, and either replaces the data with them or
# concatenates them to it (one setting per run here; the file runs both side by side
# from the same initial data).
# ---------------------------------------------------------------------------------------

def peer_gaussian(setting, n, iterations, replicates, dim=1, sigma2=1.0, seed=0):
    means = np.empty((iterations, replicates))
    vars_ = np.empty((iterations, replicates))
    for r in range(replicates):
        np.random.seed(seed + r)
        mu0, cov0 = np.zeros(dim), sigma2 * np.eye(dim)
        data = np.random.multivariate_normal(mean=mu0, cov=cov0, size=n)
        for it in range(iterations):
            mu = data.mean(axis=0)
            cov = np.cov(data, rowvar=False, bias=True).reshape(dim, dim)
            means[it, r] = mu[0]
            vars_[it, r] = cov[0, 0]
            new = np.random.multivariate_normal(mean=mu, cov=cov, size=n)
            data = new if setting == "Replace" else np.concatenate((data, new))
    return {"mean": means, "var": vars_}


def lib_gaussian(scheme, n, iterations, replicates, seed=0, method="auto"):
    run = cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(ddof=0), n, iterations - 1, scheme=scheme,
                      replicates=replicates, seed=seed, method=method, keep=[],
                      metrics={"mean": lambda m: m.mean, "var": lambda m: m.var})
    return {"mean": run.metrics["mean"], "var": run.metrics["var"]}, run.method


# ---------------------------------------------------------------------------------------
# Gaussian accumulate-subsample.
# Peer: Kazdan et al., same repository: the Accumulate-Subsample step exactly as
# src/fit_kdes/fit_kdes.py and src/fit_discrete_distributions/fit_discrete_distributions.py
# write it, around the Gaussian fit and draw of src/fit_gaussians/fit_gaussians.py (the
# stored versions of that file we read run Replace and Accumulate only; the combination
# is ours): the pool keeps every point; each iteration picks n pool indices with
# np.random.choice(np.arange(len(pool)), n, replace=False), fits mean and covariance
# (bias=True) on them, draws n new points and appends them to the pool.
# ---------------------------------------------------------------------------------------

def peer_gaussian_subsample(n, iterations, replicates, seed=0):
    means = np.empty((iterations, replicates))
    vars_ = np.empty((iterations, replicates))
    for r in range(replicates):
        np.random.seed(seed + r)
        pool = np.random.multivariate_normal(mean=np.zeros(1), cov=np.eye(1), size=n)
        for it in range(iterations):
            if it == 0:
                train = pool  # the first fit sees the real sample (the pool holds only it)
            else:
                idx = np.random.choice(np.arange(pool.shape[0]), size=n, replace=False)
                train = pool[idx]
            mu = train.mean(axis=0)
            cov = np.cov(train, rowvar=False, bias=True).reshape(1, 1)
            means[it, r] = mu[0]
            vars_[it, r] = cov[0, 0]
            new = np.random.multivariate_normal(mean=mu, cov=cov, size=n)
            pool = np.concatenate((pool, new))
    return {"mean": means, "var": vars_}


# ---------------------------------------------------------------------------------------
# Discrete distribution, 10 outcomes, replace until collapse.
# Peer: Kazdan et al., same repository,
# src/fit_discrete_distributions/fit_discrete_distributions.py. Uniform proportions
# over the outcomes; initial data by np.random.choice with those proportions; then,
# until the entropy of the fitted proportions falls below 1e-8: fit proportions
# (np.bincount / total), compute the entropy (np.nansum of -p log p), draw n new
# outcomes with np.random.choice(p=proportions), replace the data. Records the
# iteration at which the loop stopped (here: the generation, counting the fit to the
# real sample as generation 0, and the entropy per generation).
# ---------------------------------------------------------------------------------------

def peer_discrete(n, replicates, outcomes=10, seed=0):
    stopped = np.empty(replicates)
    surviving = []
    for r in range(replicates):
        np.random.seed(seed + r)
        props = np.full(outcomes, 1.0 / outcomes)
        data = np.random.choice(np.arange(outcomes), size=n, p=props, replace=True)
        it = 0
        alive = []
        surviving.append(alive)
        while True:
            props = np.bincount(data, minlength=outcomes) / data.size
            alive.append(np.count_nonzero(props))
            with np.errstate(divide="ignore", invalid="ignore"):
                entropy = -np.nansum(props * np.log(props))
            if entropy < 1e-8:
                break
            data = np.random.choice(np.arange(outcomes), size=n, p=props)
            it += 1
        stopped[r] = it
    # Surviving outcomes per generation; a collapsed replicate keeps its one outcome.
    rows = np.ones((max(len(a) for a in surviving), replicates))
    for r, alive in enumerate(surviving):
        rows[:len(alive), r] = alive
    return {"generations to collapse": stopped, "surviving": rows}


def lib_discrete(n, replicates, outcomes=10, seed=0):
    run = cl.simulate(cl.Categorical(np.full(outcomes, 1.0 / outcomes)), cl.CategoricalFit(outcomes), n,
                      200 * n, replicates=replicates, seed=seed, keep=[], metrics=["surviving"],
                      stop=lambda m: m.surviving == 1)
    if np.any(run.stopped_at < 0):
        raise RuntimeError("a replicate did not collapse within the generations allowed")
    return {"generations to collapse": run.stopped_at.astype(float),
            "surviving": np.asarray(run.metrics["surviving"], float)}, run.method


# ---------------------------------------------------------------------------------------
# Kernel density estimation with held-out log-likelihood (1-D Normal data, 2-D blobs).
# Peer: Kazdan et al., same repository, src/fit_kdes/fit_kdes.py. Training data of n
# points and a held-out set of 500 real points; each iteration fits
# sklearn.neighbors.KernelDensity(kernel, bandwidth) to the data, records the mean
# negative log-likelihood of the held-out set (score_samples), draws n points from the
# KDE (kde.sample) and replaces the data (setting "Replace").
# ---------------------------------------------------------------------------------------

def peer_kde(world_sampler, n, iterations, replicates, bandwidth, heldout=500, seed=0):
    from sklearn.neighbors import KernelDensity

    nll = np.empty((iterations, replicates))
    for r in range(replicates):
        np.random.seed(seed + r)
        data = world_sampler(n)
        test = world_sampler(heldout)
        kde = KernelDensity(kernel="gaussian", bandwidth=bandwidth)
        for it in range(iterations):
            kde.fit(data)
            nll[it, r] = -np.mean(kde.score_samples(test))
            data = kde.sample(n_samples=n)
    return {"held-out NLL": nll}


def lib_kde(world, n, iterations, replicates, bandwidth, heldout=500, seed=0, dim=None):
    rng = np.random.default_rng(seed + 10_000)
    # One held-out set of real points per replicate, as each of the peer's runs has its own.
    test = np.asarray(world.sample(replicates * heldout, rng))
    test = test.reshape((replicates, heldout) + (() if dim is None else (dim,)))
    run = cl.simulate(world, cl.KDEFit(bandwidth), n, iterations - 1, replicates=replicates, seed=seed,
                      keep=[], metrics={"nll": lambda m: cl.metrics.heldout_nll(m, test)})
    return {"held-out NLL": run.metrics["nll"]}, run.method


# ---------------------------------------------------------------------------------------
# Gaussian mixture, 2-D.
# Peer: Shumailov et al. (Nature), github.com/Zakahler/curse_recurse,
# Normals_GMM_experiments.ipynb (read in a copy of commit b48c90a). Data: sklearn.datasets.make_blobs(N, centers=[[0, 0]],
# cluster_std=1); each generation fits sklearn.mixture.GaussianMixture(n_components=2,
# tol=1e-5, covariance_type="full", max_iter=2000) and replaces the data with
# gmm.sample(N). Recorded here: the mixture's overall mean (first coordinate) and the
# trace of its overall covariance.
# ---------------------------------------------------------------------------------------

def _mixture_moments(weights, means, covs):
    mean = np.einsum("...k,...kd->...d", weights, means)
    dev = means - mean[..., None, :]
    cov = np.einsum("...k,...kde->...de", weights, covs + dev[..., :, None] * dev[..., None, :])
    return mean[..., 0], np.trace(cov, axis1=-2, axis2=-1)


def peer_gmm(n, iterations, replicates, seed=0):
    from sklearn.datasets import make_blobs
    from sklearn.mixture import GaussianMixture

    means = np.empty((iterations, replicates))
    traces = np.empty((iterations, replicates))
    for r in range(replicates):
        np.random.seed(seed + r)
        x, _ = make_blobs(n_samples=n, n_features=2, centers=[[0.0, 0.0]], cluster_std=1.0)
        for it in range(iterations):
            gmm = GaussianMixture(n_components=2, tol=1e-5, covariance_type="full", max_iter=2000).fit(x)
            means[it, r], traces[it, r] = _mixture_moments(gmm.weights_, gmm.means_, gmm.covariances_)
            x = gmm.sample(n)[0]
    return {"mean": means, "trace": traces}


def lib_gmm(n, iterations, replicates, seed=0):
    def moments(m):
        return _mixture_moments(np.asarray(m.weights), np.asarray(m.means), np.asarray(m.covs))

    run = cl.simulate(cl.Blobs(centers=[[0.0, 0.0]], std=1.0),
                      cl.GaussianMixtureFit(2, n_iter=2000, tol=1e-5), n, iterations - 1,
                      replicates=replicates, seed=seed, keep=[],
                      metrics={"mean": lambda m: moments(m)[0], "trace": lambda m: moments(m)[1]})
    return {"mean": run.metrics["mean"], "trace": run.metrics["trace"]}, run.method


# ---------------------------------------------------------------------------------------

def subsample_random_numbers(n, iterations, replicates, seed=0):
    """Only the random numbers of accumulate-subsample on the points path, nothing else.

    Every generation draws ``n`` new points per replicate (standard normals)
    and picks ``n`` pool indices per replicate (integers below the pool's size,
    one per picked point, before any redraw of a repeat). No simulation that
    draws every point can take less time than this on the same generator; its
    time bounds the ratio the row can reach.
    """
    rng = np.random.default_rng(seed)
    for it in range(iterations):
        rng.standard_normal((replicates, n))
        if it:
            rng.integers(0, (it + 1) * n, size=(replicates, n))


def rows(quick):
    s = 0.2 if quick else 1.0

    def sc(k, lo=2):
        return max(lo, int(round(k * s)))

    g_n, g_it, g_r = 1000, sc(50), sc(100)
    a_n, a_it, a_r = 100, sc(100), sc(50)
    d_n, d_r = 50, sc(100)
    s_n, s_it, s_r = 100, sc(60), sc(100)
    k_n, k_it, k_r = 200, sc(10), sc(40)
    b_n, b_it, b_r = 200, sc(10), sc(20)
    m_n, m_it, m_r = 500, sc(4), sc(6)
    blobs = cl.Blobs()  # make_blobs(random_state=0)'s three centres, cluster_std 1
    centers = np.asarray(blobs.centers)

    def blob_sampler(k):
        from sklearn.datasets import make_blobs
        return make_blobs(n_samples=k, n_features=2, centers=centers, cluster_std=1.0)[0]

    return [
        (f"Gaussian replace, exact path (n={g_n}, {g_it} gen, {g_r} rep)", 100,
         lambda: peer_gaussian("Replace", g_n, g_it, g_r),
         lambda: lib_gaussian(cl.Replace(), g_n, g_it, g_r)),
        (f"Gaussian accumulate, exact path (n={a_n}, {a_it} gen, {a_r} rep)", 100,
         lambda: peer_gaussian("Accumulate", a_n, a_it, a_r),
         lambda: lib_gaussian(cl.Accumulate(), a_n, a_it, a_r)),
        (f"discrete, 10 outcomes, replace until collapse (n={d_n}, {d_r} rep)", 10,
         lambda: peer_discrete(d_n, d_r),
         lambda: lib_discrete(d_n, d_r)),
        (f"Gaussian accumulate-subsample (n={s_n}, {s_it} gen, {s_r} rep)", 100,
         lambda: peer_gaussian_subsample(s_n, s_it, s_r),
         lambda: lib_gaussian(cl.AccumulateSubsample(), s_n, s_it, s_r),
         lambda: subsample_random_numbers(s_n, s_it, s_r)),
        (f"KDE 1-D + held-out NLL (n={k_n}, h=0.3, {k_it} gen, {k_r} rep)", 10,
         lambda: peer_kde(lambda k: np.random.normal(0.0, 1.0, size=(k, 1)), k_n, k_it, k_r, 0.3),
         lambda: lib_kde(cl.Normal(0.0, 1.0), k_n, k_it, k_r, 0.3)),
        (f"KDE 2-D blobs + held-out NLL (n={b_n}, h=0.5, {b_it} gen, {b_r} rep)", 10,
         lambda: peer_kde(blob_sampler, b_n, b_it, b_r, 0.5),
         lambda: lib_kde(blobs, b_n, b_it, b_r, 0.5, dim=2)),
        (f"Gaussian mixture 2-D, K=2 (n={m_n}, {m_it} gen, {m_r} rep)", 10,
         lambda: peer_gmm(m_n, m_it, m_r),
         lambda: lib_gmm(m_n, m_it, m_r)),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller settings (numbers not comparable)")
    parser.add_argument("--only", type=int, nargs="*", help="row numbers to run (1-based)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    start = time.time()
    print(f"bench_peers: {datetime.date.today().isoformat()}, numpy {np.__version__}, "
          f"{os.cpu_count()} cores (shared), best of {REPEATS}, CPU seconds, threads pinned to 1")
    header = "| experiment | peer s | collapse_lib s | ratio | target | met | max abs z (comparisons) |"
    print(header)
    print("|---|---|---|---|---|---|---|")
    missed, floors = [], []
    with threadpool_limits(limits=1):
        for i, (label, target, peer, lib, *floor) in enumerate(rows(args.quick), start=1):
            if args.only and i not in args.only:
                continue
            t_peer, out_peer = best_time(peer)
            if floor:
                floors.append((i, t_peer, best_time(floor[0])[0]))
            t_lib, (out_lib, method) = best_time(lib)
            z, count = max_abs_z(out_peer, out_lib)
            ratio = t_peer / t_lib
            met = ratio >= target
            if not met:
                missed.append(label)
            print(f"| {label} [{method}] | {t_peer:.3g} | {t_lib:.3g} | {ratio:.3g}x | >= {target}x | "
                  f"{'yes' if met else 'NO'} | {z:.2f} ({count}) |", flush=True)
    print(f"rows below target: {len(missed)}" + (": " + "; ".join(missed) if missed else ""))
    for i, t_peer, t_floor in floors:
        print(f"row {i}: its random numbers alone (the points path's normals and pool indices) take "
              f"{t_floor:.3g} s: even with everything else free, the ratio could not exceed "
              f"{t_peer / t_floor:.3g}x")
    print(f"total wall time {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
