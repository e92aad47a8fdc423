"""`telos surveys`: check, score and import-redcap, run in-process."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.surveys.cli import surveys_cli

DATA = Path(__file__).parent / "data"
runner = CliRunner()

INSTRUMENT = """\
id: mini
title: Mini
construct: testing
version: "1"
scales:
  agree:
    options:
      - {value: 1, label: Disagree}
      - {value: 2, label: Unsure}
      - {value: 3, label: Agree}
items:
  - {id: q1, text: One., scale: agree}
  - {id: q2, text: Two., scale: agree, reverse: true}
  - {id: q3, text: Three., scale: agree}
scores:
  - name: total
    items: [q1, q2, q3]
    aggregation: sum
    missing: prorate
    min_answered: 2
    range: [3, 9]
    higher_is_better: true
  - name: average
    items: [q1, q2, q3]
    aggregation: mean
    range: [1, 3]
    higher_is_better: true
metadata: {licence: CC0, validated: false}
"""


@pytest.fixture
def instrument(tmp_path: Path) -> Path:
    path = tmp_path / "mini.yaml"
    path.write_text(INSTRUMENT)
    return path


def answers(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.csv"
    path.write_text(text)
    return path


def test_check_the_default_battery() -> None:
    result = runner.invoke(surveys_cli, ["check"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("✓ ") and "no problems" in result.stdout
    assert len(result.stdout.strip().splitlines()) == 1


def test_check_prints_each_problem_with_file_line_and_place(tmp_path: Path) -> None:
    (tmp_path / "mini.yaml").write_text(INSTRUMENT.replace("scale: agree, reverse", "scale: agre,"
                                                           " reverse"))
    (tmp_path / "other.yaml").write_text(INSTRUMENT)
    result = runner.invoke(surveys_cli, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path}/mini.yaml:13: items[1].scale: unknown scale 'agre' (this file defines: "
        "agree)",
        f"{tmp_path}/other.yaml:1: id: is 'mini' but must equal the file name without .yaml "
        "('other')",
    ]
    assert "2 problem(s) in 2 file(s)" in result.stderr


def test_score_to_stdout(tmp_path: Path, instrument: Path) -> None:
    csv = answers(tmp_path, "participant,q1,q2,q3\np1,3,1,3\np2,2,,3\np3,1,,\n")
    result = runner.invoke(surveys_cli, ["score", "--instrument", str(instrument),
                                         "--answers", str(csv)])
    assert result.exit_code == 0, result.output
    # p1: 3 + (4 - 1) + 3. p2: (2 + 3) / 2 * 3 = 7.5; the mean needs all three answers.
    assert result.stdout == "participant,total,average\np1,9,3\np2,7.5,\np3,,\n"


def test_score_to_a_file_in_full_precision(tmp_path: Path, instrument: Path) -> None:
    csv = answers(tmp_path, "q3,participant,q2,q1\n2,x,1,\n2,y,3,2\n")
    out = tmp_path / "scores.csv"
    result = runner.invoke(surveys_cli, ["score", "--instrument", str(instrument),
                                         "--answers", str(csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    # x: (2 + (4 - 1)) / 2 * 3 = 7.5. y: 2 + (4 - 3) + 2 = 5 and the mean 5/3.
    assert out.read_text() == "participant,total,average\nx,7.5,\ny,5,1.6666666666666667\n"
    assert "Scored 2 participants" in result.stderr


@pytest.mark.parametrize(("text", "message"), [
    ("participant,q1,q2,q3,q9\np1,1,1,1,1\n", "line 1: column 'q9' is not an item of 'mini'"),
    ("participant,q1,q2\np1,1,1\n", "line 1: no column for item(s) q3"),
    ("q1,q2,q3\n1,1,1\n", "line 1: no 'participant' column"),
    ("participant,q1,q2,q3\np1,1,1,1\np2,1,7,1\n",
     "line 3 (participant 'p2'), column 'q2': 7.0 is not an allowed answer to 'q2'"),
    ("participant,q1,q2,q3\np1,1,n/a,1\n",
     "line 2 (participant 'p1'), column 'q2': 'n/a' is not a number"),
    ("participant,q1,q2,q3\np1,1,1,1\np1,2,2,2\n", "line 3: participant 'p1' appears twice"),
    ("participant,q1,q2,q3\np1,1,1\n", "line 2: 3 values for 4 columns"),
])
def test_score_names_the_line_and_column_of_bad_input(
    tmp_path: Path, instrument: Path, text: str, message: str
) -> None:
    result = runner.invoke(surveys_cli, ["score", "--instrument", str(instrument),
                                         "--answers", str(answers(tmp_path, text))])
    assert result.exit_code == 1
    assert message in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_score_with_a_bad_instrument_prints_its_problems(tmp_path: Path) -> None:
    bad = tmp_path / "mini.yaml"
    bad.write_text(INSTRUMENT.replace("range: [3, 9]", "range: [3, 10]"))
    csv = answers(tmp_path, "participant,q1,q2,q3\n")
    result = runner.invoke(surveys_cli, ["score", "--instrument", str(bad), "--answers", str(csv)])
    assert result.exit_code == 1
    assert f"{bad}:" in result.stdout and "scores[0].range" in result.stdout


def test_import_redcap_writes_files_that_pass_check(tmp_path: Path) -> None:
    result = runner.invoke(surveys_cli, ["import-redcap", str(DATA / "redcap_dictionary.csv"),
                                         "--out", str(tmp_path / "imported")])
    assert result.exit_code == 0, result.output
    assert "not carried over: line 9: weekly_checkin.wc_days_total: calculated field" in (
        result.stdout)
    assert "2 instrument(s), 8 note(s)" in result.stdout
    check = runner.invoke(surveys_cli, ["check", str(tmp_path / "imported")])
    assert check.exit_code == 0, check.output


def test_import_redcap_refuses_to_overwrite(tmp_path: Path) -> None:
    shutil.copy(DATA / "redcap_dictionary.csv", tmp_path / "dictionary.csv")
    (tmp_path / "study_habits.yaml").write_text("mine")
    result = runner.invoke(surveys_cli, ["import-redcap", str(tmp_path / "dictionary.csv"),
                                         "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "would replace existing files" in result.stderr
    assert (tmp_path / "study_habits.yaml").read_text() == "mine"


def test_import_redcap_of_a_file_that_is_not_a_dictionary(tmp_path: Path) -> None:
    path = answers(tmp_path, "participant,q1\np1,1\n")
    result = runner.invoke(surveys_cli, ["import-redcap", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "not a REDCap data dictionary" in result.stderr
