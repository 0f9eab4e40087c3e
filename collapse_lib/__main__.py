"""Command line: run the source chapter's experiment and print its per-generation table.

    python -m collapse_lib                      # the source's settings, no anchor
    python -m collapse_lib --anchor 0.1         # with a tenth of fresh real data
    python -m collapse_lib --replicates 1000    # mean and 5-95% band over replicates

With ``--replicates 1`` (the default) the source's procedure runs exactly as it
states it (:func:`collapse_lib.studies.source.source_experiment`); with more, the
experiment runs through :func:`collapse_lib.simulate` and each generation
shows the mean and the 5th and 95th percentiles across replicates. Invalid
values exit with status 2 and a one-line message.

Introduced in chapter 2, "A simulation you can run".
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from .studies import source as src
from .families import NormalFit
from .schemes import Anchor, Replace
from .simulate import simulate

_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors on one line and exits with status 2."""

    def error(self, message):
        self.exit(_ERROR, f"{self.prog}: error: {message}\n")


def _int_at_least(name, minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be >= {minimum}, got {value}")
        return value
    return parse


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"anchor must be a number in [0, 1], got {text!r}") from None
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise argparse.ArgumentTypeError(f"anchor must be in [0, 1], got {text}")
    return value


def _finite(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"threshold must be a finite number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"threshold must be a finite number, got {text}")
    return value


def build_parser():
    """The argument parser of ``python -m collapse_lib``."""
    parser = _Parser(
        prog="python -m collapse_lib",
        description=("Run the source chapter's experiment: a single Gaussian refitted each generation on "
                     "samples of the previous fit, starting from 97%% N(0,1) + 3%% N(8,1), and print the "
                     "per-generation fraction of training data above the threshold, the fitted model's "
                     "tail mass, mean and standard deviation."),
    )
    parser.add_argument("--n", type=_int_at_least("n", 1), default=5000,
                        help="points per generation (default 5000)")
    parser.add_argument("--generations", type=_int_at_least("generations", 1), default=8,
                        help="generations to print, 0 .. generations-1 (default 8)")
    parser.add_argument("--anchor", type=_fraction, default=None,
                        help="fraction of fresh real data per generation, in [0, 1] (default: none)")
    parser.add_argument("--seed", type=_int_at_least("seed", 0), default=0, help="seed (default 0)")
    parser.add_argument("--replicates", type=_int_at_least("replicates", 1), default=1,
                        help="1 runs the source's procedure exactly; more runs collapse_lib.simulate "
                             "and prints mean and 5-95%% band (default 1)")
    parser.add_argument("--threshold", type=_finite, default=5.0, help="tail threshold (default 5.0)")
    return parser


def _single(args):
    run = src.source_experiment(n=args.n, generations=args.generations, anchor=args.anchor,
                                seed=args.seed, threshold=args.threshold)
    anchor = "none" if args.anchor is None else f"{args.anchor:g}"
    lines = [
        f"# source procedure: n={args.n}, generations={args.generations}, anchor={anchor}, seed={args.seed}, "
        f"threshold={args.threshold:g}",
        f"{'gen':>4} {'data>thr':>9} {'model>thr':>10} {'mean':>9} {'std':>9}",
    ]
    for row in run.rows():
        lines.append(f"{row['generation']:>4} {row['data_tail']:>9.4f} {row['model_tail']:>10.5f} "
                     f"{row['mean']:>9.4f} {row['std']:>9.4f}")
    return lines


def _replicated(args):
    world = src.source_world()
    scheme = Replace() if args.anchor is None else Anchor(args.anchor)
    thr = args.threshold
    run = simulate(world, NormalFit(ddof=0), n=args.n, generations=args.generations - 1, scheme=scheme,
                   replicates=args.replicates, seed=args.seed,
                   data_metrics={"data_tail": lambda d: (d > thr).mean(axis=-1)})
    data = run.data_metrics["data_tail"]
    model = run.trajectory(lambda m: m.tail_mass(thr))
    std = run.trajectory("std")
    anchor = "none" if args.anchor is None else f"{args.anchor:g}"
    lines = [
        f"# simulate: n={args.n}, generations={args.generations}, anchor={anchor}, seed={args.seed}, "
        f"threshold={thr:g}, replicates={args.replicates} (mean [5%, 95%])",
        f"{'gen':>4} {'data>thr':>26} {'model>thr':>29} {'std':>26}",
    ]
    for g in range(data.shape[0]):
        cols = []
        for values, digits in ((data[g], 4), (model[g], 5), (std[g], 4)):
            lo, hi = np.quantile(values, [0.05, 0.95])
            cols.append(f"{values.mean():.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]")
        lines.append(f"{g:>4} {cols[0]:>26} {cols[1]:>29} {cols[2]:>26}")
    return lines


def main(argv=None):
    """Entry point of ``python -m collapse_lib``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        lines = _single(args) if args.replicates == 1 else _replicated(args)
    except (ValueError, TypeError) as exc:  # a library check the parser did not anticipate
        print(f"{parser.prog}: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return _ERROR
    except MemoryError:  # a safety net: the library's element budget should refuse first
        print(f"{parser.prog}: error: not enough memory for n={args.n}, replicates={args.replicates}",
              file=sys.stderr)
        return _ERROR
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
