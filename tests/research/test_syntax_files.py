"""The bundle's analysis.R and analysis.sps, run by R and PSPP on the exported files,
give Telos's own paired tests and mixed models."""

import csv
import io
import random
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from app.research.exporting.syntax import variables
from app.research.exports import (
    ExportSource,
    InstrumentSpec,
    ItemSpec,
    ScoreRow,
    ScoreSpec,
    write_export,
)
from app.research.mixed import fit_waves
from app.research.outcomes import Observation, OutcomeReport, analyse
from tests.references import require_pspp, require_rscript

WAVES = ["baseline", "week6", "week12"]
WELLBEING = InstrumentSpec("well-being", "1", "Well-being", [
    ItemSpec("cheer", "I felt cheerful.", {0.0: "Never", 4.0: "Always"}, False, 0.0, 4.0),
], [ScoreSpec("total", "Well-being: total", "higher", 0.0, 20.0),
    ScoreSpec("o'calm", "Well-being: calm", "lower", 0.0, 10.0)])


def _scores() -> list[ScoreRow]:
    """Twelve participants; a few miss a wave, so completers and the model differ."""
    rng = random.Random(13)
    rows = []
    for number in range(1, 13):
        participant = f"P{number:03d}"
        level = rng.gauss(10, 3)
        for index, wave in enumerate(WAVES):
            for name, gain in (("total", 1.5), ("o'calm", -0.7)):
                missing = (number, index) in {(3, 1), (7, 2), (9, 1), (11, 2)}
                value = None if missing else round(level + gain * index + rng.gauss(0, 1.5), 2)
                rows.append(ScoreRow(participant, wave, 7 * index, "well-being", "1", name,
                                     value))
    return rows


SCORES = _scores()
SOURCE = ExportSource(study="Synthetic 'study'", waves=WAVES, instruments=[WELLBEING],
                      answers=lambda: iter(()), scores=lambda: iter(SCORES))
NAMES = {"total": "well-being.total", "o'calm": "well-being.o'calm"}


@pytest.fixture(scope="module")
def unzipped(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = io.BytesIO()
    write_export(SOURCE, "bundle", out)
    folder = tmp_path_factory.mktemp("bundle")
    with zipfile.ZipFile(out) as bundle:
        bundle.extractall(folder)
    return folder


def _observations() -> list[Observation]:
    return [Observation(row.participant, row.wave, NAMES[row.score], row.value)
            for row in SCORES]


def _paired() -> OutcomeReport:
    return analyse(_observations(), pre=WAVES[0], post=WAVES[1])


def _frame(variable: str) -> pd.DataFrame:
    return pd.DataFrame([(o.participant, o.wave, float("nan") if o.value is None else o.value)
                         for o in _observations() if o.variable == variable],
                        columns=["participant", "wave", "value"])


def test_the_bundle_lists_both_scripts_for_the_study_scores(unzipped: Path) -> None:
    assert (unzipped / "analysis.R").is_file() and (unzipped / "analysis.sps").is_file()
    assert "analysis.R" in (unzipped / "manifest.json").read_text()
    assert [v.name for v in variables(SOURCE)] == list(NAMES.values())


def test_analysis_r_gives_telos_paired_tests_and_mixed_models(unzipped: Path) -> None:
    rscript = require_rscript()
    run = subprocess.run([rscript, "analysis.R"], cwd=unzipped, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    found = {(row["variable"], row["term"]): row for row in csv.DictReader(io.StringIO(run.stdout))}
    paired = {row.variable: row for row in _paired().rows}
    for variable in NAMES.values():
        outcome = paired[variable]
        change = found[variable, "paired_change"]
        assert float(change["estimate"]) == pytest.approx(outcome.mean_change, abs=1e-4)
        assert float(change["t"]) == pytest.approx(outcome.t, abs=1e-4)
        assert float(change["df"]) == outcome.df
        model = fit_waves(_frame(variable), WAVES, variable=variable)
        assert model.fitted and model.waves == tuple(WAVES)
        first = model.mean(WAVES[0])
        assert first is not None
        assert float(found[variable, "Intercept"]["estimate"]) == pytest.approx(
            first.mean.value, abs=1e-4)
        for wave in WAVES[1:]:
            contrast = model.contrast(wave)
            assert contrast is not None and contrast.change.value is not None
            term = found[variable, f"wave[{wave}]"]
            assert float(term["estimate"]) == pytest.approx(contrast.change.value, abs=1e-4)
            # Telos's SE is statsmodels' (the inverse Hessian over fixed effects and
            # variances together); lme4's is the GLS one, so with missing waves they part
            # in the third decimal.
            assert float(term["se"]) == pytest.approx(contrast.change.se, rel=1e-2)


def _paired_part(unzipped: Path) -> Path:
    text = (unzipped / "analysis.sps").read_text()
    part, marker, _ = text.partition("* Part 2:")
    assert marker and "MIXED value" not in part and "T-TEST PAIRS" in part
    path = unzipped / "paired.sps"
    path.write_text("SET FORMAT=F16.8.\n" + part)  # PSPP prints 2 decimals otherwise
    return path


def test_analysis_sps_paired_tests_give_telos_t(unzipped: Path) -> None:
    pspp = require_pspp()
    syntax = _paired_part(unzipped)
    run = subprocess.run([pspp, "-O", "format=csv", "-o", "out.csv", syntax.name],
                         cwd=unzipped, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    output = (unzipped / "out.csv").read_text()
    rows = list(csv.reader(io.StringIO(output)))
    ts = _t_values(rows)
    paired = {row.variable: row for row in _paired().rows}
    pairs = [v.name for v in variables(SOURCE)]
    assert len(ts) == len(pairs) == len(paired), output
    for variable, t in zip(pairs, ts, strict=True):
        assert paired[variable].t == pytest.approx(t, abs=1e-3)


def _t_values(rows: list[list[str]]) -> list[float]:
    """The t column of PSPP's "Paired Samples Test" table, pair by pair."""
    start = next(i for i, row in enumerate(rows) if row and row[0] == "Table: Paired Samples Test")
    header = next(row for row in rows[start + 1:] if "t" in row)
    column = header.index("t")
    values = []
    for row in rows[rows.index(header) + 1:]:
        if not row or row[0].startswith("Table:"):
            break
        if len(row) > column and row[column].strip():
            values.append(float(row[column]))
    return values


def test_a_line_break_in_the_study_name_stays_in_the_comment() -> None:
    source = ExportSource(study="Pilot\nq(save = 'yes')", waves=WAVES, instruments=[WELLBEING],
                          answers=lambda: iter(()), scores=lambda: iter(SCORES))
    for fmt, comment in (("analysis.R", "#"), ("analysis.sps", "*")):
        out = io.BytesIO()
        write_export(source, "bundle", out)
        with zipfile.ZipFile(out) as bundle:
            first, second = bundle.read(fmt).decode().splitlines()[:2]
        assert first.startswith(f"{comment} Telos") and "q(save = 'yes')" in first
        assert second.startswith(comment)


def test_the_apa_table_is_telos_paired_report_rounded(unzipped: Path) -> None:
    table = list(csv.reader(io.StringIO((unzipped / "apa_table.csv").read_text())))
    header, *body, note = table
    assert header == ["Variable", "n", "baseline M (SD)", "week6 M (SD)", "Change", "95% CI",
                      "t", "df", "p", "d_z [95% CI]", "p (Holm)"]
    assert note[0].startswith("Note. Completers") and "variables improved" in note[0]
    labels = {f"well-being.{score.name}": score.label for score in WELLBEING.scores}
    for outcome, row in zip(_paired().rows, body, strict=True):
        assert row[0] == labels[outcome.variable]
        assert outcome.t is not None and outcome.p is not None and outcome.p_holm is not None
        assert row[1] == str(outcome.n) == "10"
        assert row[2] == f"{outcome.pre.mean:.2f} ({outcome.pre.sd:.2f})"
        assert float(row[6].replace("\u2212", "-")) == round(outcome.t, 2)
        assert row[8] == f"{outcome.p:.3f}".removeprefix("0")
        assert row[10] == f"{outcome.p_holm:.3f}".removeprefix("0")
    markdown = (unzipped / "apa_table.md").read_text()
    assert "| Well-being: calm | 10 |" in markdown and "*Note.* Completers" in markdown
