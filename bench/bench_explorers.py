"""How long each chapter explorer takes to redraw, at its defaults.

Usage (from the repository root)::

    .venv/bin/python bench/bench_explorers.py            # the figures in README's Performance section
    .venv/bin/python bench/bench_explorers.py --updates 3

For each explorer of chapters 2-5 (the settings its chapter uses: the defaults), builds it
once without a display (matplotlib's Agg backend; the first build also loads its world),
then calls ``update()`` ``--updates`` times (10 by default) and prints the median wall
and CPU seconds of one update: computing the result, drawing the figure and rendering it
to PNG, which is what a reader waits for after moving a control (the browser's decoding
of the PNG is not included). The target is 0.5 s. CPU time is the honest figure on a
shared machine, whose wall clock mostly measures the other jobs; on an idle core the two
agree.

Also prints how long each chapter's player (the static site's copy) takes to build. Not
a unit test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")

import collapse_lib as cl  # noqa: E402

TARGET = 0.5

#: (chapter, explorer class, the control its chapter's player varies)
EXPLORERS = [
    (2, cl.AnchorExplorer, "anchor"),
    (3, cl.RareModeExplorer, "n"),
    (4, cl.GaussianRefitExplorer, "n"),
    (5, cl.VocabularyExplorer, "anchor"),
]


def measure(cls, updates):
    start = time.perf_counter()
    explorer = cls()
    build = time.perf_counter() - start
    wall, cpu = [], []
    for _ in range(updates):
        explorer.update()
        wall.append(explorer.last_update_seconds)
        cpu.append(explorer.last_update_cpu_seconds)
    return explorer, build, statistics.median(wall), statistics.median(cpu)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=10, help="updates per explorer (default 10)")
    parser.add_argument("--no-players", action="store_true", help="skip timing the players")
    args = parser.parse_args(argv)
    if args.updates < 1:
        parser.error("--updates must be >= 1")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"explorer update times, median of {args.updates} updates at the defaults "
          f"(target {TARGET} s; load average {load:.1f} on {os.cpu_count()} cores)")
    print(f"{'chapter':>7}  {'explorer':<22} {'wall s':>7} {'CPU s':>7}  {'first build s':>13}  {'player s':>8}")
    over = []
    for chapter, cls, vary in EXPLORERS:
        explorer, build, wall, cpu = measure(cls, args.updates)
        player = float("nan")
        if not args.no_players:
            start = time.process_time()
            explorer.player(vary, alt="benchmark", name="bench")
            player = time.process_time() - start
        flag = "" if cpu <= TARGET else "  over target (CPU)"
        if cpu > TARGET:
            over.append(cls.__name__)
        print(f"{chapter:>7}  {cls.__name__:<22} {wall:7.3f} {cpu:7.3f}  {build:13.2f}  {player:8.2f}{flag}")
    print("player: CPU seconds to precompute and render every frame of the chapter's player")
    if over:
        print("over the target in CPU time: " + ", ".join(over))
    return 0


if __name__ == "__main__":
    sys.exit(main())
