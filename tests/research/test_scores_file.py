"""The columnar reading of scores and answers files: CSV and Parquet agree, every bad row
is named with its line, and the arrays give exactly the numbers the per-row route gave."""

import csv
import io
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.research import outcomes
from app.research.answers_file import AnswersFileError, read_answers, reliabilities
from app.research.outcomes import Observation, analyse
from app.research.outcomes_cli import ScoresFileError, battery_directions
from app.research.scores_file import read_scores

runner = CliRunner()
HEADER = ["participant", "wave", "days_since_enrolment", "instrument", "instrument_version",
          "score", "value"]


def scores_csv(path: Path, people: int = 40, seed: int = 5) -> Path:
    rng = np.random.default_rng(seed)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for instrument, score in (("stress", "stress"), ("hope", "agency"), ("hope", "hope")):
            for i in rng.permutation(people):
                before = round(float(rng.normal(20, 4)), 2)
                writer.writerow([f"P{i:03}", "pre", 0, instrument, "1", score, before])
                after = "" if i % 9 == 0 else round(before + float(rng.normal(1, 3)), 2)
                writer.writerow([f"P{i:03}", "post", 70, instrument, "1", score, after])
    return path


def as_parquet(source: Path) -> Path:
    target = source.with_suffix(".parquet")
    pq.write_table(pa_csv.read_csv(source), target)
    return target


def table_of(path: Path, tmp_path: Path) -> str:
    out = tmp_path / f"{path.name}.table.csv"
    result = runner.invoke(cli, ["research", "outcomes", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def test_a_parquet_file_gives_the_same_rows_as_its_csv(tmp_path):
    source = scores_csv(tmp_path / "scores.csv")
    from_csv, from_parquet = table_of(source, tmp_path), table_of(as_parquet(source), tmp_path)
    assert from_csv == from_parquet
    rows = list(csv.DictReader(io.StringIO(from_csv)))
    assert [row["variable"] for row in rows] == ["hope.agency", "hope.hope", "stress.stress"]
    assert all(row["t"] for row in rows)


def per_row_outcomes(observations: list[Observation]) -> tuple[list, list]:
    """The statistics as the per-row route computed them (dicts keyed by participant)."""
    values = outcomes._collect(observations)
    rows, attrition = [], []
    for variable in sorted(values):
        pre, post = values[variable].by_wave["pre"], values[variable].by_wave["post"]
        rows.append(outcomes._outcome(variable, variable, None, pre, post))
        attrition.append(outcomes._attrition(variable, variable, pre, post))
    return rows, attrition


def test_the_arrays_give_exactly_the_numbers_of_the_per_row_route(tmp_path):
    table = read_scores(scores_csv(tmp_path / "s.csv", people=300), name="s.csv")
    observations = list(table)
    rows, attrition = per_row_outcomes(observations)
    report = analyse(table)
    assert [replace(row, p_holm=None, p_bh=None, verdict="") for row in report.rows] \
        == rows
    assert report.attrition == attrition
    assert analyse(observations) == report


def test_bad_rows_are_named_by_the_line_they_end_on(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b"\xef\xbb\xbfparticipant,wave,variable,value\r\n"
        b"P1,pre,meaning,3\r\n"
        b"\r\n"
        b"P1,post,\"two\nlines\",lots\r\n"
        b" , , , \r\n"
        b"   \r\n"
        b"P2,pre,meaning,1,2\r\n"
        b"P3,pre,meaning,nan\r\n"
        b"P1,pre,meaning,4\r\n"
        b"P4,post,meaning, 2.5 \r\n")
    with pytest.raises(ScoresFileError) as raised:
        read_scores(path, name="bad.csv")
    assert raised.value.problems == [
        "bad.csv:5: value 'lots' is not a number (leave it empty when missing)",
        "bad.csv:8: 5 values for 4 columns",
        "bad.csv:9: value 'nan' is not a finite number",
        "bad.csv:10: participant 'P1' already has a value for 'meaning' in wave 'pre' (line 2)",
    ]


def test_an_exported_scores_file_needs_instrument_and_score(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text(",".join(HEADER) + "\nP1,pre,0,stress,1,,3\nP1,pre,0,,1,stress,3\n"
                    "P1,pre,0,stress,1,stress,\n", encoding="utf-8")
    with pytest.raises(ScoresFileError) as raised:
        read_scores(path, name="export.csv")
    reason = "no variable name (empty 'variable', or 'instrument' and 'score')"
    assert raised.value.problems == [f"export.csv:2: {reason}", f"export.csv:3: {reason}"]


def test_bad_parquet_rows_are_named_by_row(tmp_path):
    source = tmp_path / "s.csv"
    source.write_text("participant,wave,variable,value\nP1,pre,x,1\n,pre,x,2\nP1,pre,x,3\n",
                      encoding="utf-8")
    result = runner.invoke(cli, ["research", "outcomes", str(as_parquet(source))])
    assert result.exit_code == 1
    name = str(source.with_suffix(".parquet"))
    assert f"{name}:row 2: column 'participant' is empty" in result.output
    assert (f"{name}:row 3: participant 'P1' already has a value for 'x' in wave 'pre' "
            "(row 1)") in result.output
    assert "2 bad row(s); nothing was computed" in result.output


STRESS = ["too_much", "small_problems", "pulled", "room_to_rest"]


def answers_csv(path: Path, people: int = 30) -> Path:
    rng = np.random.default_rng(2)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["participant", "wave", "days_since_enrolment", "instrument",
                         "instrument_version", "item", "value"])
        for i in range(people):
            for wave in ("pre", "post"):
                for item in STRESS:
                    value = "" if (i, item) == (3, "pulled") else int(rng.integers(0, 5))
                    writer.writerow([f"P{i:02}", wave, 0, "stress", "1", item, value])
    return path


def test_answers_from_parquet_give_the_same_alpha_as_from_csv(tmp_path):
    instruments = battery_directions().instruments
    source = answers_csv(tmp_path / "a.csv")
    from_csv = reliabilities(read_answers(source, name="a.csv", instruments=instruments),
                             instruments)
    from_parquet = reliabilities(read_answers(as_parquet(source), name="a.parquet",
                                              instruments=instruments), instruments)
    assert from_csv == from_parquet
    assert [(r.instrument, r.wave, r.n, r.items) for r in from_csv] == [
        ("stress", "pre", 29, 4), ("stress", "post", 29, 4)]


def test_alpha_is_the_listwise_alpha_of_the_keyed_answers(tmp_path):
    instruments = battery_directions().instruments
    source = answers_csv(tmp_path / "a.csv")
    keyed: dict[str, list[float | None]] = {}
    for row in csv.DictReader(source.open(encoding="utf-8")):
        if row["wave"] == "pre":
            value = float(row["value"]) if row["value"] else None
            if value is not None and row["item"] == "room_to_rest":
                value = 4 - value
            keyed.setdefault(row["participant"], []).append(value)
    found = reliabilities(read_answers(source, name="a.csv", instruments=instruments),
                          instruments)[0]
    assert found.alpha == outcomes.cronbach_alpha([keyed[p] for p in sorted(keyed)])


def test_a_repeated_answer_after_a_bad_one_is_not_a_repeat(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("participant,wave,instrument,item,value\n"
                    "P1,pre,stress,pulled,x\n"
                    "P1,pre,stress,pulled,2\n"
                    "P1,pre,stress,pulled,3\n"
                    "P1,pre,other,q,1\n", encoding="utf-8")
    with pytest.raises(AnswersFileError) as raised:
        read_answers(path, name="a.csv", instruments=battery_directions().instruments)
    assert raised.value.problems == [
        "a.csv:2: value 'x' is not a number",
        "a.csv:4: participant 'P1' already answered 'pulled' in wave 'pre'",
    ]


def test_a_file_that_is_not_utf8_is_refused_with_where(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("participant,wave,variable,value\nJosé,pre,x,1\n".encode("latin-1"))
    result = runner.invoke(cli, ["research", "outcomes", str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert f"cannot read {path}: 'utf-8' codec can't decode byte 0xe9" in result.output


def test_a_broken_parquet_file_is_refused_without_a_traceback(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 and then nothing a Parquet reader can use")
    result = runner.invoke(cli, ["research", "outcomes", str(path)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert f"cannot read {path}: not a readable Parquet file" in result.output
