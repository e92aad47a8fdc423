"""`telos research outcomes` on real files, good and bad, run in-process."""

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.research.outcomes import Observation, analyse
from app.research.outcomes_cli import CSV_COLUMNS, battery_directions

runner = CliRunner()


def long_file(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["participant", "wave", "variable", "value"])
        writer.writerows(rows)
    return path


def simulated_rows(variables: dict[str, float], people: int = 30,
                   seed: int = 7) -> list[tuple[str, str, str, str]]:
    rng = np.random.default_rng(seed)
    rows = []
    for variable, effect in variables.items():
        for i in range(people):
            before = round(float(rng.normal(20, 4)), 1)
            rows.append((f"P{i:02}", "pre", variable, str(before)))
            if i < people - 4:
                after = round(before + 4 * effect + float(rng.normal(0, 4)), 1)
                rows.append((f"P{i:02}", "post", variable, str(after)))
    return rows


def run(*args: str):
    return runner.invoke(cli, ["research", "outcomes", *args])


def observations_of(rows: list[tuple[str, str, str, str]]) -> list[Observation]:
    return [Observation(p, w, v, float(x) if x else None) for p, w, v, x in rows]


def test_a_long_file_gives_the_table_the_summary_and_both_files(tmp_path):
    rows = simulated_rows({"meaning": 1.0, "mood": 0.0})
    rows += [("P90", "pre", "rare", "3"), ("P90", "post", "rare", "4")]
    source = long_file(tmp_path / "scores.csv", rows)
    out, html = tmp_path / "table.csv", tmp_path / "report.html"
    result = run(str(source), "--better", "meaning=higher", "--out", str(out),
                 "--html", str(html))
    assert result.exit_code == 0, result.output
    expected = analyse(observations_of(rows), better={"meaning": "higher"})
    assert expected.summary in result.output
    assert expected.summary.startswith("1 of 3 variables improved")
    assert "rare: only 1 participant answered both waves; at least 3 are needed" in result.output
    assert "no better direction for mood, rare" in result.output

    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(table[0]) == CSV_COLUMNS
    by_variable = {line["variable"]: line for line in table}
    meaning = next(row for row in expected.rows if row.variable == "meaning")
    assert float(by_variable["meaning"]["t"]) == meaning.t  # full precision, not rounded
    assert float(by_variable["meaning"]["p_holm"]) == meaning.p_holm
    assert by_variable["meaning"]["result"] == "improved"
    assert by_variable["rare"]["t"] == ""
    assert by_variable["rare"]["reason"] == meaning_reason(1)

    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert expected.summary in page
    assert page.count("<svg") == 2
    assert "114 values of 31 participants" in page


def meaning_reason(n: int) -> str:
    return f"only {n} participant answered both waves; at least 3 are needed"


def test_an_exported_scores_file_takes_directions_from_the_battery(tmp_path):
    rng = np.random.default_rng(3)
    path = tmp_path / "export-scores.csv"
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["participant", "wave", "days_since_enrolment", "instrument",
                         "instrument_version", "score", "value"])
        for i in range(25):
            before = round(float(rng.normal(30, 5)), 1)
            writer.writerow([f"P{i}", "pre", 0, "stress", "1", "stress", before])
            writer.writerow([f"P{i}", "post", 70, "stress", "1", "stress",
                             round(before - 4 + float(rng.normal(0, 3)), 1)])
    result = run(str(path), "--out", str(tmp_path / "t.csv"))
    assert result.exit_code == 0, result.output
    line = next(csv.DictReader((tmp_path / "t.csv").open(encoding="utf-8")))
    assert (line["variable"], line["better"], line["result"]) == (
        "stress.stress", "lower", "improved")
    assert "1 of 1 variables improved significantly after Holm correction" in result.output


def test_a_better_override_wins_over_the_battery(tmp_path):
    rows = [(p, w, "stress.stress", v) for p, w, _, v in simulated_rows({"x": -1.0})]
    source = long_file(tmp_path / "s.csv", rows)
    assert "improved" in run(str(source)).output
    result = run(str(source), "--better", "stress.stress=higher")
    assert result.exit_code == 0
    assert "worsened" in result.output
    assert "0 of 1 variables improved" in result.output


def test_the_battery_gives_directions_by_full_and_bare_names():
    battery = battery_directions()
    assert battery.better["stress.stress"] == "lower"
    assert battery.better["life_satisfaction"] == "higher"
    assert battery.better["hope.pathways"] == "higher"
    assert battery.labels["hope.pathways"].endswith(": pathways")


def test_bad_rows_are_listed_with_file_and_line_and_nothing_is_computed(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "participant,wave,variable,value\n"
        "P1,pre,meaning,3\n"
        "P1,post,meaning,lots\n"
        ",pre,meaning,2\n"
        "P2,pre,meaning\n"
        "P1,pre,meaning,4\n"
        "P3,pre,meaning,inf\n"
        "P4,pre,,2\n",
        encoding="utf-8")
    result = run(str(path), "--out", str(tmp_path / "t.csv"))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    name = str(path)
    for expected in (
        f"{name}:3: value 'lots' is not a number (leave it empty when missing)",
        f"{name}:4: column 'participant' is empty",
        f"{name}:5: 3 values for 4 columns",
        f"{name}:6: participant 'P1' already has a value for 'meaning' in wave 'pre' (line 2)",
        f"{name}:7: value 'inf' is not a finite number",
        f"{name}:8: no variable name",
        "6 bad row(s); nothing was computed",
    ):
        assert expected in result.output
    assert not (tmp_path / "t.csv").exists()


def test_a_file_without_the_columns_is_refused(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("participant,meaning_pre,meaning_post\nP1,3,4\n", encoding="utf-8")
    result = run(str(path))
    assert result.exit_code == 1
    assert f"{path}:1: the header needs the columns participant, wave, variable, value" in (
        result.output)


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("participant,wave,variable,value\n", encoding="utf-8")
    result = run(str(path))
    assert result.exit_code == 1
    assert f"{path}:1: no rows below the header" in result.output


def test_a_missing_file_is_refused(tmp_path):
    result = run(str(tmp_path / "nowhere.csv"))
    assert result.exit_code == 1
    assert "cannot read" in result.output
    assert isinstance(result.exception, SystemExit)


def test_other_wave_names_must_be_in_the_file(tmp_path):
    source = long_file(tmp_path / "s.csv", simulated_rows({"x": 1.0}))
    result = run(str(source), "--pre", "baseline", "--post", "end")
    assert result.exit_code == 1
    assert "no row has wave 'baseline' or 'end' (waves found: post, pre)" in result.output


@pytest.mark.parametrize("given", ["meaning", "meaning=up", "=higher"])
def test_a_bad_better_option_is_refused(tmp_path, given):
    source = long_file(tmp_path / "s.csv", simulated_rows({"meaning": 1.0}))
    result = run(str(source), "--better", given)
    assert result.exit_code == 1
    assert f"--better {given!r}: write NAME=higher or NAME=lower" in result.output


def test_alpha_outside_zero_and_one_is_refused(tmp_path):
    source = long_file(tmp_path / "s.csv", simulated_rows({"meaning": 1.0}))
    result = run(str(source), "--alpha", "5")
    assert result.exit_code == 1
    assert "give a number between 0 and 1" in result.output


def test_an_unwritable_output_is_an_error_not_a_traceback(tmp_path):
    source = long_file(tmp_path / "s.csv", simulated_rows({"meaning": 1.0}))
    result = run(str(source), "--out", str(tmp_path / "no-such-dir" / "t.csv"))
    assert result.exit_code == 1
    assert "cannot write" in result.output
    assert isinstance(result.exception, SystemExit)


# --- --answers: reliability from an exported long answers file ----------------------------

STRESS_ITEMS = ["too_much", "small_problems", "pulled", "room_to_rest"]  # the last is reversed


def answers_file(path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["participant", "wave", "days_since_enrolment", "instrument",
                         "instrument_version", "item", "value"])
        writer.writerows((p, w, 0, i, "1", item, v) for p, w, i, item, v in rows)
    return path


def stress_answers(people: int = 25) -> tuple[list[tuple[str, str, str, str, str]],
                                              list[list[float]]]:
    """Raw answers (0-4) and, independently, the same answers reverse-keyed by hand."""
    rng = np.random.default_rng(11)
    rows, keyed = [], []
    for i in range(people):
        level = rng.normal(2, 0.8)
        raw = [int(np.clip(round(level + rng.normal(0, 0.7)), 0, 4)) for _ in STRESS_ITEMS]
        raw[3] = 4 - raw[3]  # a stressed person disagrees with "room to rest"
        rows += [(f"P{i}", "pre", "stress", item, str(value))
                 for item, value in zip(STRESS_ITEMS, raw, strict=True)]
        keyed.append([*map(float, raw[:3]), float(4 - raw[3])])
    return rows, keyed


def test_answers_give_cronbach_alpha_per_instrument_and_wave(tmp_path):
    rows, keyed = stress_answers()
    rows.append(("P0", "pre", "not_in_battery", "q1", "3"))
    scores = long_file(tmp_path / "s.csv", simulated_rows({"stress.stress": -1.0}))
    answers = answers_file(tmp_path / "a.csv", rows)
    html = tmp_path / "r.html"
    result = run(str(scores), "--answers", str(answers), "--html", str(html))
    assert result.exit_code == 0, result.output
    expected, _ = pg.cronbach_alpha(pd.DataFrame(keyed))
    assert f"│ stress     │ pre  │          25 │     4 │  {expected:.2f} │" in result.output
    assert "not in the survey battery, so no reliability: not_in_battery" in result.output
    page = html.read_text(encoding="utf-8")
    assert "Cronbach" in page and f"{expected:.2f}" in page


def test_bad_answer_rows_are_listed_with_file_and_line(tmp_path):
    rows, _ = stress_answers(3)
    rows += [("P0", "post", "stress", "no_such_item", "1"),
             ("P1", "post", "stress", "pulled", "9"),
             ("P1", "post", "stress", "too_much", "x"),
             ("P0", "pre", "stress", "pulled", "2")]
    scores = long_file(tmp_path / "s.csv", simulated_rows({"x": 1.0}))
    answers = answers_file(tmp_path / "a.csv", rows)
    result = run(str(scores), "--answers", str(answers))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    name = str(answers)
    assert f"{name}:14: 'no_such_item' is not an item of 'stress'" in result.output
    assert f"{name}:15: 9.0 is not an allowed answer to 'pulled'" in result.output
    assert f"{name}:16: value 'x' is not a number" in result.output
    assert (f"{name}:17: participant 'P0' already answered 'pulled' in wave 'pre'"
            in result.output)
    assert "4 bad row(s); nothing was computed" in result.output
