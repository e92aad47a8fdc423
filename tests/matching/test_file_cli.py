"""`telos match file`: members and mentors from CSV files, no database."""

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli

runner = CliRunner()

MEMBERS = """\
id,text,themes,languages,utc_offset,wishes
ana,"I want to help teenagers in my town love reading and writing.",youth;arts,es;en,-5,career
ben,"Protect our rivers and cut emissions with the neighbours.",climate,fr,1,
cai,"Start a food garden for the school.",food,de,,
"""
MENTORS = """\
id,text,themes,languages,places,offers,accepting
tomas,"Twenty years teaching teenagers reading and writing in a library club.",youth,es,1,\
career;listening,yes
lea,"Climate campaigner: I help neighbours cut emissions and protect rivers.",climate,fr;en,2,,
ines,"Accountant for small firms.",enterprise,en,3,,no
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def run(tmp_path: Path, members: str, mentors: str, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(cli, [
        "match", "file", "--members", str(write(tmp_path, "members.csv", members)),
        "--mentors", str(write(tmp_path, "mentors.csv", mentors)),
        "--out", str(tmp_path / "assignments.csv"), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, " ".join(result.stderr.split())


def test_matches_the_files_and_explains_each_pair(tmp_path: Path) -> None:
    code, _, said = run(tmp_path, MEMBERS, MENTORS, "--capacity-column", "places",
                        "--scores-out", str(tmp_path / "scores.csv"))
    assert code == 0, said
    assert "Matched 2 of 3 members with 2 mentors" in said
    assigned = rows(tmp_path / "assignments.csv")
    assert list(assigned[0]) == ["member_id", "mentor_id", "score", "explanation"]
    by_member = {row["member_id"]: row for row in assigned}
    assert by_member["ana"]["mentor_id"] == "tomas"
    assert by_member["ana"]["explanation"].startswith("both care about youth; ")
    assert "apart" not in by_member["ana"]["explanation"]  # tomas gave no time zone
    assert "both speak Spanish" in by_member["ana"]["explanation"]
    assert by_member["ben"]["mentor_id"] == "lea"
    assert "both speak French" in by_member["ben"]["explanation"]
    # cai speaks German only; ines is not accepting and speaks English.
    assert by_member["cai"]["mentor_id"] == "" and "no mentor fits" in by_member["cai"][
        "explanation"]
    scores = rows(tmp_path / "scores.csv")
    assert {(r["member_id"], r["mentor_id"]) for r in scores} == {
        ("ana", "tomas"), ("ana", "lea"), ("ben", "lea")}
    assert {r["assigned"] for r in scores if r["mentor_id"] == "tomas"} == {"yes"}
    for r in scores:
        assert 0 <= float(r["score"]) <= 1 and r["explanation"]


def test_a_full_mentor_leaves_a_member_unmatched_with_the_reason(tmp_path: Path) -> None:
    members = "id,text\na,reading\nb,reading\n"
    mentors = "id,text,capacity\nt,reading,1\n"
    code, _, said = run(tmp_path, members, mentors)
    assert code == 0, said
    assigned = rows(tmp_path / "assignments.csv")
    assert [row["mentor_id"] for row in assigned].count("t") == 1
    assert any(row["explanation"] == "not matched: every mentor who fits is full"
               for row in assigned)


def test_weights_from_the_command_line(tmp_path: Path) -> None:
    members = "id,text,themes\na,reading teenagers,youth\n"
    mentors = "id,text,themes,capacity\nt,tax audits,youth,1\n"
    code, _, said = run(tmp_path, members, mentors, "--weights", "text=0,themes=1,time_zone=0,"
                        "wishes=0")
    assert code == 0, said
    assert rows(tmp_path / "assignments.csv")[0]["score"] == "1.0000"


@pytest.mark.parametrize(("members", "mentors", "message"), [
    (MEMBERS, "id,text,capacity\nt1,x,1\nt2,y,two\n",
     "mentors.csv:3: capacity 'two' is not a whole number of places, 0 or more"),
    (MEMBERS, "id,text,capacity\nt1,x,-1\n", "mentors.csv:2: capacity '-1' is not a whole"),
    (MEMBERS, "id,text\nt1,x\n", "mentors.csv:1: no 'capacity' column"),
    ("id,text,langauges\na,x,en\n", "id,text,capacity\nt,y,1\n",
     "members.csv:1: unknown column 'langauges': did you mean 'languages'?"),
    ("id,Text\na,x\n", "id,text,capacity\nt,y,1\n",
     "members.csv:1: unknown column 'Text': did you mean 'text'?"),
    ("id,text\na,x\n", "id,text,capcity\nt,y,1\n",
     "mentors.csv:1: unknown column 'capcity': did you mean 'capacity'?"),
    ("text\nx\n", "id,text,capacity\nt,y,1\n", "members.csv:1: no 'id' column"),
    ("id,text\na,x\nb,y\na,z\n", "id,text,capacity\nt,y,1\n",
     "members.csv:4: id 'a' is already on line 2"),
    ("id,text\na,x,extra\n", "id,text,capacity\nt,y,1\n", "members.csv:2: 3 values for 2 columns"),
    ("id,text\n,x\n", "id,text,capacity\nt,y,1\n", "members.csv:2: the id is empty"),
    ("id,text,utc_offset\na,x,+30\n", "id,text,capacity\nt,y,1\n",
     "members.csv:2: utc_offset '+30' is not hours from UTC between -12 and 14"),
    ("id,text\n", "id,text,capacity\nt,y,1\n", "members.csv:1: no rows after the header"),
    ("", "id,text,capacity\nt,y,1\n", "members.csv:1: empty: the first line must name"),
    ("id,text\na,x\n", "id,text,capacity,accepting\nt,y,1,maybe\n",
     "mentors.csv:2: accepting 'maybe' is not yes or no"),
])
def test_bad_files_get_file_line_and_reason(tmp_path: Path, members: str, mentors: str,
                                            message: str) -> None:
    code, out, said = run(tmp_path, members, mentors)
    assert code == 1
    assert message in said
    assert "Traceback" not in said and out == ""
    assert not (tmp_path / "assignments.csv").exists()


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / "members.csv").write_bytes(b"id,text\na,caf\xe9\n")
    result = runner.invoke(cli, ["match", "file", "--members", str(tmp_path / "members.csv"),
                                 "--mentors", str(write(tmp_path, "t.csv", MENTORS)),
                                 "--out", str(tmp_path / "a.csv")])
    assert result.exit_code == 1
    assert "members.csv:1: not UTF-8 text" in " ".join(result.stderr.split())


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["match", "file", "--members", str(tmp_path / "none.csv"),
                                 "--mentors", str(write(tmp_path, "t.csv", MENTORS)),
                                 "--out", str(tmp_path / "a.csv")])
    assert result.exit_code == 1
    assert "none.csv:1: cannot read: No such file or directory" in " ".join(
        result.stderr.split())


@pytest.mark.parametrize(("extra", "message"), [
    (["--encoder", "word2vec"], "unknown encoder 'word2vec': choose one of tfidf, minilm"),
    (["--weights", "text=lots"], "--weights: 'lots' is not a number"),
    (["--weights", "colour=1"], "--weights: 'colour=1' is not NAME=NUMBER"),
    (["--weights", "text=-1"], "--weights: every weight must be a number of at least 0"),
])
def test_bad_options_get_a_clear_message(tmp_path: Path, extra: list[str], message: str) -> None:
    code, _, said = run(tmp_path, MEMBERS, MENTORS.replace("places", "capacity"), *extra)
    assert code == 1
    assert message in said


def test_the_encoder_comes_from_telos_encoder(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELOS_ENCODER", "nonsense")
    code, _, said = run(tmp_path, MEMBERS, MENTORS.replace("places", "capacity"))
    assert code == 1 and "unknown encoder 'nonsense'" in said


def test_columns_the_matcher_does_not_use_are_ignored_and_named_once(tmp_path: Path) -> None:
    members = "id,email,text,phone,languages\na,a@example.org,reading with teenagers,555,en\n" \
              "b,b@example.org,rivers and climate,556,en\n"
    mentors = "id,text,capacity,email,notes\nt,teenagers reading club,2,t@example.org,VIP\n"
    code, _, said = run(tmp_path, members, mentors)
    assert code == 0, said
    assert said.count("warning:") == 2
    assert ("members.csv:1: ignoring column(s) 'email', 'phone': the matcher does not use "
            "them") in said
    assert "mentors.csv:1: ignoring column(s) 'email', 'notes'" in said
    assert {row["mentor_id"] for row in rows(tmp_path / "assignments.csv")} == {"t"}
