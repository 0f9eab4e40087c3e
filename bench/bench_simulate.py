"""Speed and memory of collapse_lib.simulate, measured in one run.

Usage (from the repository root)::

    .venv/bin/python bench/bench_simulate.py            # the figures in README's Performance section
    .venv/bin/python bench/bench_simulate.py --quick    # a smaller smoke run (numbers not comparable)

Prints one block per measurement:

(a) the source chapter's experiment (97/3 mixture world, n = 5000, 8 generations,
    10% anchor, fit mean/std, draw) over 1,000 replicates: simulate vs a plain
    per-replicate Python loop of the source's procedure. Two versions of simulate:
    recording the fraction of each generation's *training data* above 5.0 (the
    number the source prints; needs the points, so the points path runs) and
    recording the fitted *model's* tail mass P(X > 5) (the exact path runs).
(b) Normal refit, n = 5000, 8 generations, 1,000 replicates (exact path) vs
    drawing the same number of normal variates with numpy (the sampling floor).
(c) Normal refit, n = 100, 10,000 replicates x 10,000 generations (exact path,
    metrics only), in seconds, with its peak memory beside the same run with
    n = 10^6 and with a tenth of the generations.
(d) peak memory of points-path runs against replicates x n x 8 bytes (one
    float64 copy of a generation's training data).

(e) categorical refit on a 10^5-word Zipf vocabulary, 5 replicates, 30 generations,
    recording heterozygosity and surviving words and keeping two generations'
    models, for n = 10^4 and 10^6 (exact path) and n = 10^4 (points path).

Timings are the best of a few repeats, in CPU seconds of this process (the wall
clock of a shared machine mostly measures the other jobs);
memory is the peak traced by tracemalloc (numpy reports its buffers to it).
Not a unit test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import collapse_lib as cl

THRESHOLD = 5.0
CORE, TAIL = (0.97, 0.0, 1.0), (0.03, 8.0, 1.0)


def best_time(fn, repeats):
    """Best CPU time of the process over ``repeats`` calls, in seconds.

    CPU time (``time.process_time``) rather than wall clock: on a shared machine
    the wall clock mostly measures the other jobs. Everything timed here runs on
    one thread (numpy's random generators and reductions).
    """
    best = np.inf
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def peak_memory(fn):
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# --- (a) the source's procedure as a plain per-replicate loop --------------------------

def source_real(k, rng):
    """The source's real sample: int(0.97 k) core points, then the rest from the tail."""
    n_core = int(CORE[0] * k)
    return np.concatenate([rng.normal(CORE[1], CORE[2], n_core), rng.normal(TAIL[1], TAIL[2], k - n_core)])


def source_loop(replicates, n, generations, anchor, seed):
    """One replicate at a time, as the source's procedure is written."""
    n_syn = int(n * (1.0 - anchor))
    data_tail = np.empty((replicates, generations))
    model_std = np.empty((replicates, generations))
    for r in range(replicates):
        rng = np.random.default_rng([seed, r])
        data = source_real(n, rng)
        for g in range(generations):
            data_tail[r, g] = np.mean(data > THRESHOLD)
            mu, sigma = np.mean(data), np.std(data)
            model_std[r, g] = sigma
            generated = rng.normal(mu, sigma, n)
            data = np.concatenate([generated[:n_syn], source_real(n - n_syn, rng)])
    return data_tail, model_std


def bench_source(replicates, repeats):
    n, gens, anchor = 5000, 8, 0.10
    world = cl.NormalMixture([CORE[0], TAIL[0]], [CORE[1], TAIL[1]], [CORE[2], TAIL[2]])
    kw = dict(n=n, generations=gens - 1, scheme=cl.Anchor(anchor), replicates=replicates, seed=0)
    out = {}

    def loop():
        out["loop"] = source_loop(replicates, n, gens, anchor, seed=0)

    def points():
        out["points"] = cl.simulate(world, cl.NormalFit(), data_metrics={
            "data_tail": lambda d: (d > THRESHOLD).mean(axis=1)}, **kw)

    def exact():
        out["exact"] = cl.simulate(world, cl.NormalFit(), metrics={
            "model_tail": lambda m: m.tail_mass(THRESHOLD)}, **kw)

    t_loop = best_time(loop, 1)
    t_points = best_time(points, repeats)
    t_exact = best_time(exact, repeats)
    assert out["points"].method == "points" and out["exact"].method == "exact"
    print(f"(a) source experiment, n={n}, {gens} generations (generation 0-{gens - 1}), 10% anchor, "
          f"{replicates} replicates")
    print(f"    per-replicate Python loop           {t_loop:8.3f} s")
    print(f"    simulate, training-data tail (points) {t_points:6.3f} s   speed-up {t_loop / t_points:6.1f}x")
    print(f"    simulate, model tail mass (exact)   {t_exact:8.3f} s   speed-up {t_loop / t_exact:6.1f}x")
    # sanity: the three agree on what they measure (mean over replicates, last generation)
    print(f"    check: data tail at generation {gens - 1}: loop {out['loop'][0][:, -1].mean():.4f}, "
          f"simulate {out['points'].data_metrics['data_tail'][-1].mean():.4f}; fitted std: loop "
          f"{out['loop'][1][:, -1].mean():.4f}, exact {out['exact'].models[-1].std.mean():.4f}")
    return t_loop / t_points, t_loop / t_exact


# --- (b) the sampling floor -----------------------------------------------------------

def bench_floor(replicates, repeats):
    n, gens = 5000, 8
    variates = replicates * n * (gens + 1)

    def sim():
        cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=n, generations=gens, replicates=replicates, seed=0)

    def floor():
        np.random.default_rng(0).standard_normal(variates)

    t_sim, t_floor = best_time(sim, repeats), best_time(floor, repeats)
    print(f"(b) Normal refit, n={n}, {gens} generations, {replicates} replicates (exact path)")
    print(f"    simulate                             {t_sim:8.4f} s")
    print(f"    numpy: {variates:,} normal variates  {t_floor:8.4f} s   ratio simulate/floor {t_sim / t_floor:.4f}")
    return t_sim / t_floor


# --- (c) a long, wide run ---------------------------------------------------------------

def bench_long(replicates, generations):
    def run(n, gens):
        return lambda: cl.simulate(cl.Normal(0.0, 1.0), cl.NormalFit(), n=n, generations=gens,
                                   replicates=replicates, seed=0, record_every=gens, keep=[],
                                   metrics=["var"])

    t = best_time(run(100, generations), 1)
    peak = peak_memory(run(100, generations))
    peak_n = peak_memory(run(1_000_000, generations // 10))
    peak_g = peak_memory(run(100, generations // 10))
    print(f"(c) Normal refit, n=100, {replicates:,} replicates x {generations:,} generations (exact path)")
    print(f"    time {t:.2f} s; peak memory {peak / 1e6:.2f} MB "
          f"(= {peak / (replicates * 8):.0f} x replicates x 8 bytes)")
    print(f"    peak with {generations // 10:,} generations: {peak_g / 1e6:.2f} MB; "
          f"with n=10^6 and {generations // 10:,} generations: {peak_n / 1e6:.2f} MB")
    return t, peak


# --- (d) points-path memory -------------------------------------------------------------

def bench_points_memory(replicates):
    n, gens = 5000, 8
    unit = replicates * n * 8
    world = cl.NormalMixture([0.97, 0.03], [0.0, 8.0], [1.0, 1.0])
    print(f"(d) points path, n={n}, {gens} generations, {replicates} replicates: "
          f"peak memory / (replicates x n x 8 bytes = {unit / 1e6:.0f} MB)")
    ratios = {}
    for label, scheme in (("Replace", cl.Replace()), ("Anchor(0.1)", cl.Anchor(0.1))):
        peak = peak_memory(lambda: cl.simulate(world, cl.NormalFit(), n=n, generations=gens, scheme=scheme,
                                               replicates=replicates, seed=0, method="points"))
        ratios[label] = peak / unit
        print(f"    {label:12s} peak {peak / 1e6:7.1f} MB = {peak / unit:.2f} x")
    return ratios


# --- (e) a large vocabulary -------------------------------------------------------------

def bench_vocabulary(k, repeats):
    p = 1.0 / np.arange(1, k + 1) ** 1.1
    world = cl.Categorical(p / p.sum())
    gens, reps = 30, 5
    print(f"(e) categorical refit, K={k:,} Zipf words, {reps} replicates, {gens} generations, "
          f"metrics heterozygosity and surviving, keep=[0, {gens}]")
    for n, method in ((10_000, "exact"), (1_000_000, "exact"), (10_000, "points")):
        def run():
            return cl.simulate(world, cl.CategoricalFit(), n=n, generations=gens, replicates=reps, seed=0,
                               method=method, metrics=["heterozygosity", "surviving"], keep=[0, gens])

        t = best_time(run, repeats)
        peak = peak_memory(run)
        print(f"    n={n:>9,} {method:6s} {t:7.2f} s   peak memory {peak / 1e6:6.1f} MB "
              f"(= {peak / (reps * k * 8):.1f} x replicates x K x 8 bytes)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    reps = 100 if args.quick else 1000
    repeats = 1 if args.quick else 3
    long_reps, long_gens = (1000, 1000) if args.quick else (10_000, 10_000)
    print(f"collapse_lib {cl.__version__}, numpy {np.__version__}; times in CPU seconds"
          + (" (quick run)" if args.quick else ""))
    bench_source(reps, repeats)
    bench_floor(reps, repeats)
    bench_long(long_reps, long_gens)
    bench_points_memory(reps)
    bench_vocabulary(20_000 if args.quick else 100_000, repeats)


if __name__ == "__main__":
    main()
