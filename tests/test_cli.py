"""`python -m collapse_lib`: the source's experiment from a terminal (run as a subprocess)."""

import subprocess
import sys

import numpy as np
import pytest

from collapse_lib import source as src


def cli(*args):
    return subprocess.run([sys.executable, "-m", "collapse_lib", *args],
                          capture_output=True, text=True, timeout=120)


def table(stdout):
    """Rows of numbers below the two header lines."""
    return [line.split() for line in stdout.strip().splitlines()[2:]]


def test_default_prints_the_source_procedure_exactly():
    res = cli()
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    rows = table(res.stdout)
    run = src.source_experiment()
    assert len(rows) == 8
    assert [int(r[0]) for r in rows] == list(range(8))
    np.testing.assert_allclose([float(r[1]) for r in rows], run.data_tail, atol=5e-5)
    np.testing.assert_allclose([float(r[2]) for r in rows], run.model_tail, atol=5e-6)
    np.testing.assert_allclose([float(r[4]) for r in rows], run.std, atol=5e-5)


def test_flags_reach_the_procedure():
    res = cli("--n", "300", "--generations", "4", "--anchor", "0.25", "--seed", "3")
    assert res.returncode == 0, res.stderr
    run = src.source_experiment(n=300, generations=4, anchor=0.25, seed=3)
    rows = table(res.stdout)
    assert len(rows) == 4
    np.testing.assert_allclose([float(r[3]) for r in rows], run.mean, atol=5e-5)
    assert "anchor=0.25" in res.stdout


def test_replicates_print_mean_and_band_per_generation():
    res = cli("--n", "200", "--generations", "3", "--replicates", "50", "--anchor", "0.1")
    assert res.returncode == 0, res.stderr
    assert "replicates=50" in res.stdout
    rows = table(res.stdout)
    assert len(rows) == 3
    for r in rows:
        # gen, then three columns "mean [lo, hi]"
        mean, lo, hi = float(r[1]), float(r[2].strip("[,")), float(r[3].strip("]"))
        assert lo <= mean <= hi or np.isclose(lo, hi)
    # same seed, same output
    assert cli("--n", "200", "--generations", "3", "--replicates", "50", "--anchor", "0.1").stdout == res.stdout


@pytest.mark.parametrize("args,word", [(["--n", "0"], "n"), (["--anchor", "1.5"], "anchor")])
def test_invalid_values_exit_nonzero_with_one_line(args, word):
    res = cli(*args)
    assert res.returncode != 0
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert word in lines[0] and "Traceback" not in res.stderr


@pytest.mark.parametrize("args,word", [
    (["--n", "abc"], "n"), (["--generations", "0"], "generations"), (["--anchor", "-0.1"], "anchor"),
    (["--anchor", "nan"], "anchor"), (["--seed", "-1"], "seed"), (["--replicates", "0"], "replicates"),
    (["--threshold", "inf"], "threshold"), (["--bogus"], "unrecognized"),
])
def test_every_invalid_value_is_one_line_in_process(args, word, capsys):
    # the same entry point in-process (a subprocess per case would only add start-up time)
    from collapse_lib.__main__ import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and word in err
