"""Tests of collapse_lib.studies.findings: chapter 12 can never drift from the chapters it summarises.

Each function in ``findings`` repeats a chapter's library calls and seeds. Here
every value it returns is compared, exactly, with the number that chapter's
stored output glues (the ``application/papermill.record`` outputs myst-nb
writes). The comparison is exact, not within a tolerance: same calls and same
seeds give bit-identical results, and a float's text form round-trips. A second
test checks that chapter 12's own stored glue shows the same numbers, so a
chapter 12 executed before a chapter changed fails too.
"""

import json
import pathlib

import pytest

from collapse_lib import findings

CHAPTERS = pathlib.Path(__file__).resolve().parent.parent / "chapters"
SUMMARY = "12-honest-summary"

# findings function -> (group prefix used by chapter 12, chapter, {result key: glue name in it})
SOURCES = {
    "source_procedure": ("source", "02-a-simulation-you-can-run", {"measured_lo": "meas_plain_lo", "measured_hi": "meas_plain_hi",
                                    "gaussian_tail": "mm_tail", "world_tail": "world_tail"}),
    "rare_mode": ("rare", "03-why-tails-go-first", {"p_mode": "p_mode", "half_life_100": "half_life_100",
                           "half_life_1000": "half_life_1000", "loss_probability": "loss_prob"}),
    "gaussian_collapse": ("gauss", "04-recursive-gaussian-fitting", {"ratio_mle": "collapse_ratio_mle",
                                    "ratio_unbiased": "collapse_ratio_unb"}),
    "words": ("words", "05-tokens-and-words", {"surv_first": "surv0_100000", "surv_last": "surv_end_100000",
                        "ppl_first": "ppl0_100000", "ppl_last": "ppl_end_100000",
                        "surv_anchor10": "a_surv_end_2"}),
    "digits_seen": ("digits", "06-collapse-you-can-see", {"vanished_total": "vanished_replace_total",
                               "rel_spread_last": "rel_spread_replace_end"}),
    "workflows_compared": ("workflows", "07-nature-vs-phi", {"rel_replace": "rel_replace", "rel_accumulate": "rel_accumulate",
                                         "lost_replace": "lost_replace"}),
    "filtering": ("filter", "08-filtering-measured", {"generations": "generations", "lost_none": "lost_none",
                             "lost_quality99": "lost_qf99"}),
    "taxonomy_rows": ("taxonomy", "10-risk-taxonomy-measured", {"collapse_tail": "own_tail", "collapse_lost": "own_lost",
                                   "collapse_level": "own_level", "phi_tail": "aug_tail",
                                   "phi_level": "aug_level"}),
    "watch": ("watch", "11-monitoring-collapse", {"alpha": "alpha", "false_alarm": "fa", "false_alarm_se": "fa_se",
                        "batch_halved": "need_half"}),
}
# Keys that are not a chapter's measurement (a constant quoted from the source).
NOT_GLUED = {("source_procedure", "claimed")}


def stored_glue(stem):
    """Every glued value stored in a chapter's outputs: name -> text (markdown if glued as Markdown)."""
    nb = json.loads((CHAPTERS / f"{stem}.ipynb").read_text())
    out = {}
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is None:
                continue
            text = data.get("application/papermill.record/text/markdown",
                            data.get("application/papermill.record/text/plain"))
            out[name] = text
    return out


def same(value, text):
    """Exact equality of a findings value with a glued text (numbers via their round-tripping repr)."""
    text = text.strip()
    if isinstance(value, str):
        return value == text
    for wrapper in ("np.float64(", "np.int64("):
        if text.startswith(wrapper):
            text = text[len(wrapper):-1]
    return float(text) == value


def test_every_function_is_checked():
    assert set(SOURCES) == set(findings.__all__) - {"running_world"}


@pytest.mark.parametrize("name", list(SOURCES))
def test_findings_match_the_chapter(name):
    _, stem, keys = SOURCES[name]
    result = getattr(findings, name)()
    assert result["chapter"] == stem
    glued = stored_glue(stem)
    assert set(keys) | {k for f, k in NOT_GLUED if f == name} | {"chapter"} == set(result)
    for key, glue_name in keys.items():
        assert glue_name in glued, f"{result['chapter']} no longer glues {glue_name!r}"
        assert same(result[key], glued[glue_name]), (
            f"findings.{name}()[{key!r}] = {result[key]!r} but {result['chapter']} shows "
            f"{glue_name} = {glued[glue_name]!r}")


def test_summary_shows_what_the_chapters_show():
    summary = stored_glue(SUMMARY)
    for group, stem, keys in SOURCES.values():
        glued = stored_glue(stem)
        for key, glue_name in keys.items():
            assert summary[f"{group}_{key}"] == glued[glue_name], (
                f"chapter 12 shows {group}_{key} = {summary[f'{group}_{key}']!r}, "
                f"{stem} shows {glue_name} = {glued[glue_name]!r}: re-execute chapter 12")
