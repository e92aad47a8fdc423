"""Loading instrument files: every problem with its file, key path, line and reason."""

import hashlib
import re
from pathlib import Path

import pytest

from app.settings import ROOT
from app.surveys.definitions import (
    DefinitionError,
    Instrument,
    Problem,
    check_paths,
    load_battery,
    load_instrument,
    parse_instrument,
)

VALID = """\
id: sample
title: Sample
construct: testing
version: "1"
scales:
  agree:
    options:
      - {value: 1, label: Disagree}
      - {value: 2, label: Unsure}
      - {value: 3, label: Agree}
items:
  - id: first
    text: The first sentence.
    scale: agree
  - id: second
    text: The second sentence.
    scale: agree
    reverse: true
    subscale: part
  - id: third
    text: The third sentence.
    scale: agree
    subscale: part
scores:
  - name: total
    items: [first, second, third]
    aggregation: sum
    range: [3, 9]
    higher_is_better: true
    bands:
      - {label: Low, min: 3, max: 6}
      - {label: High, min: 6, max: 9}
metadata:
  licence: CC0
  validated: false
"""


def write(tmp_path: Path, text: str, name: str = "sample") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, name: str = "sample") -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        load_instrument(write(tmp_path, text, name))
    return caught.value.problems


def only(found: list[Problem]) -> Problem:
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


def edited(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_valid_file_loads_with_hash_of_its_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    instrument = load_instrument(path)
    assert [item.id for item in instrument.items] == ["first", "second", "third"]
    assert instrument.construct_name == "testing"
    assert instrument.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_content_hash_is_of_the_bytes_so_line_endings_change_it(tmp_path: Path) -> None:
    unix = load_instrument(write(tmp_path, VALID)).content_hash
    (tmp_path / "sample.yaml").write_bytes(VALID.replace("\n", "\r\n").encode())
    windows = load_instrument(tmp_path / "sample.yaml").content_hash
    assert unix != windows
    assert windows == hashlib.sha256(VALID.replace("\n", "\r\n").encode()).hexdigest()


def test_an_instrument_survives_a_json_round_trip_for_storage(tmp_path: Path) -> None:
    loaded = load_instrument(write(tmp_path, VALID))
    stored = loaded.model_dump(mode="json")
    assert stored["construct"] == "testing"
    assert Instrument.model_validate(stored).model_dump() == loaded.model_dump()
    assert Instrument.model_validate_json(loaded.model_dump_json()).model_dump() == (
        loaded.model_dump())


def test_an_instrument_built_in_memory_has_no_content_hash(tmp_path: Path) -> None:
    loaded = load_instrument(write(tmp_path, VALID))
    copy = Instrument.model_validate(loaded.model_dump())
    with pytest.raises(ValueError, match="not read from a file"):
        _ = copy.content_hash


def test_bad_yaml_gives_its_line(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, "id: sample\nitems:\n  - id: a\n   text: b\n"))
    assert problem.file.endswith("sample.yaml")
    assert problem.line == 4
    assert problem.reason.startswith("not valid YAML")


def test_duplicate_yaml_key_is_bad_yaml(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, edited("title: Sample\n", "title: A\ntitle: B\n")))
    assert problem.line == 3 and "not valid YAML" in problem.reason


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, "- one\n- two\n"))
    assert "mapping" in problem.reason


def test_id_must_match_the_file_name(tmp_path: Path) -> None:
    problem = only(problems(tmp_path, VALID, name="other"))
    assert (problem.where, problem.line) == ("id", 1)
    assert "'sample'" in problem.reason and "'other'" in problem.reason


def test_unknown_scale(tmp_path: Path) -> None:
    text = edited("    scale: agree\n  - id: second", "    scale: agrea\n  - id: second")
    problem = only(problems(tmp_path, text))
    assert problem.where == "items[0].scale"
    assert problem.line == line_of(text, "scale: agrea")
    assert "unknown scale 'agrea'" in problem.reason and "agree" in problem.reason


def test_reverse_flag_on_a_non_numeric_scale(tmp_path: Path) -> None:
    text = edited("  agree:\n", "  agree:\n    numeric: false\n")
    found = problems(tmp_path, text)
    assert found[0].where == "items[1].reverse"
    assert found[0].line == line_of(text, "reverse: true")
    assert "not numeric" in found[0].reason
    assert any(p.where == "scores[0].items" and "non-numeric" in p.reason for p in found)


def test_reverse_flag_on_a_scale_whose_values_do_not_mirror(tmp_path: Path) -> None:
    text = edited("{value: 3, label: Agree}", "{value: 9, label: Agree}")
    found = problems(tmp_path, text)
    assert found[0].where == "items[1].reverse"
    assert "2 would become 8" in found[0].reason


def test_score_with_an_unknown_item(tmp_path: Path) -> None:
    text = edited("items: [first, second, third]", "items: [first, second, thrid]")
    problem = only(problems(tmp_path, text))
    assert problem.where == "scores[0].items[2]"
    assert problem.line == line_of(text, "thrid")
    assert problem.reason == "unknown item 'thrid'"


def test_score_with_an_unknown_subscale(tmp_path: Path) -> None:
    text = edited("    items: [first, second, third]\n    aggregation: sum\n    range: [3, 9]",
                  "    subscale: prat\n    aggregation: sum\n    range: [2, 6]")
    text = text.replace("min: 3, max: 6", "min: 2, max: 4").replace("min: 6, max: 9",
                                                                     "min: 4, max: 6")
    problem = only(problems(tmp_path, text))
    assert problem.where == "scores[0].subscale"
    assert "no item has subscale 'prat'" in problem.reason


def test_duplicate_item_ids(tmp_path: Path) -> None:
    text = edited("  - id: third", "  - id: first")
    found = problems(tmp_path, text)
    assert found[0].where == "items[2].id"
    assert found[0].line == text.splitlines().index("  - id: first", 15) + 1
    assert "duplicate id 'first' (first at items[0])" in found[0].reason


def test_impossible_range(tmp_path: Path) -> None:
    text = edited("range: [3, 9]", "range: [3, 15]")
    found = problems(tmp_path, text)
    assert found[0].where == "scores[0].range"
    assert found[0].line == line_of(text, "range: [3, 15]")
    assert "can produce [3, 9]" in found[0].reason


def test_band_gap(tmp_path: Path) -> None:
    text = edited("{label: High, min: 6, max: 9}", "{label: High, min: 7, max: 9}")
    problem = only(problems(tmp_path, text))
    assert problem.where == "scores[0].bands[1].min"
    assert problem.reason.startswith("gap: band 'Low' ends at 6 but 'High' starts at 7")


def test_band_overlap(tmp_path: Path) -> None:
    text = edited("{label: High, min: 6, max: 9}", "{label: High, min: 5.5, max: 9}")
    problem = only(problems(tmp_path, text))
    assert problem.where == "scores[0].bands[1].min"
    assert problem.reason.startswith("overlap: band 'Low' ends at 6 but 'High' starts at 5.5")


def test_bands_must_cover_the_whole_range(tmp_path: Path) -> None:
    text = edited("{label: Low, min: 3, max: 6}", "{label: Low, min: 4, max: 6}")
    text = text.replace("{label: High, min: 6, max: 9}", "{label: High, min: 6, max: 8}")
    found = problems(tmp_path, text)
    assert [(p.where, p.reason) for p in found] == [
        ("scores[0].bands[0].min", "must be 3, the bottom of the range"),
        ("scores[0].bands[1].max", "must be 9, the top of the range"),
    ]


def test_unknown_key_is_reported_with_its_line(tmp_path: Path) -> None:
    text = edited("    reverse: true", "    reverce: true")
    problem = only(problems(tmp_path, text))
    assert (problem.where, problem.line) == ("items[1].reverce", line_of(text, "reverce"))
    assert "unknown key" in problem.reason


@pytest.mark.parametrize(("old", "new", "where", "reason"), [
    ('version: "1"', "version: 1.10", "version", "must be text, not 1.1 (put it in quotes)"),
    ("reverse: true", "reverse: yes", "items[1].reverse", "must be true or false, not 'yes'"),
    ("{value: 2, label: Unsure}", '{value: "2", label: Unsure}', "scales.agree.options[1].value",
     "must be a number, not '2'"),
    ("aggregation: sum", "aggregation: average", "scores[0].aggregation", "'sum' or 'mean'"),
    ("  licence: CC0\n", "", "metadata.licence", "this required key is missing"),
])
def test_values_are_strict(tmp_path: Path, old: str, new: str, where: str, reason: str) -> None:
    problem = only(problems(tmp_path, edited(old, new)))
    assert problem.where == where
    assert reason in problem.reason


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (edited("    scale: agree\n  - id: second", "    scale: nope\n  - id: second")
            .replace("  - id: third", "  - id: second")
            .replace("range: [3, 9]", "range: [0, 9]"))
    found = problems(tmp_path, text, name="renamed")
    assert [p.where for p in found] == ["id", "items[0].scale", "items[2].id", "scores[0].items[2]"]
    text = text.replace("scale: nope", "scale: agree").replace("  - id: second\n    text: The t",
                                                               "  - id: third\n    text: The t")
    found = problems(tmp_path, text, name="renamed")
    # The bands are checked against what the items produce, not against the wrong range.
    assert [p.where for p in found] == ["id", "scores[0].range"]


@pytest.mark.parametrize(("old", "new", "where", "reason"), [
    ("    range: [3, 9]", "    min_answered: 0\n    range: [3, 9]", "scores[0].min_answered",
     "between 1 and 3"),
    ("    range: [3, 9]", "    min_answered: 4\n    range: [3, 9]", "scores[0].min_answered",
     "between 1 and 3"),
    ("    range: [3, 9]", "    min_answered: 2\n    range: [3, 9]", "scores[0].min_answered",
     "not comparable between members"),
    ("aggregation: sum", "aggregation: mean\n    missing: prorate", "scores[0].missing",
     "prorate is for sums"),
    ("    scale: agree\n  - id: second",
     "    scale: agree\n    options: [{value: 0, label: No}, {value: 1, label: Yes}]\n"
     "  - id: second", "items[0]", "not both"),
    ("    text: The first sentence.\n    scale: agree\n", "    text: The first sentence.\n",
     "items[0]", "needs a scale"),
    ("    items: [first, second, third]\n", "    items: [first, second, third]\n"
     "    subscale: part\n", "scores[0]", "exactly one of"),
    ("      - {value: 2, label: Unsure}", "      - {value: 1, label: Unsure}",
     "scales.agree.options[1].value", "value 1 is used twice"),
    ("  - id: third", "  - id: participant", "items[2].id", "reserved"),
])
def test_cross_checks(tmp_path: Path, old: str, new: str, where: str, reason: str) -> None:
    found = problems(tmp_path, edited(old, new))
    assert any(p.where == where and reason in p.reason for p in found), found


MIXED = edited("    scale: agree\n    subscale: part\n",
               "    options: [{value: 0, label: No}, {value: 1, label: Yes}]\n"
               "    subscale: part\n").replace("range: [3, 9]", "range: [2, 7]").replace(
    "{label: High, min: 6, max: 9}", "{label: High, min: 6, max: 7}").replace(
    "{label: Low, min: 3, max: 6}", "{label: Low, min: 2, max: 6}")


def test_a_sum_of_items_with_different_ranges_is_fine_when_all_are_required(
    tmp_path: Path,
) -> None:
    assert load_instrument(write(tmp_path, MIXED)).scores[0].range == (2, 7)


@pytest.mark.parametrize("change", ["aggregation: mean", "missing: prorate\n    min_answered: 2"])
def test_items_with_different_ranges_cannot_be_averaged_or_prorated(
    tmp_path: Path, change: str
) -> None:
    found = problems(tmp_path, MIXED.replace("aggregation: sum", f"aggregation: sum\n    {change}"
                                             if "missing" in change else change))
    assert any(p.where == "scores[0].items" and "different ranges" in p.reason for p in found)


def test_problem_text_is_file_line_where_reason() -> None:
    assert str(Problem("a.yaml", "items[3].scale", 12, "unknown")) == (
        "a.yaml:12: items[3].scale: unknown")
    assert str(Problem("a.yaml", "", None, "no such file")) == "a.yaml: no such file"


def test_check_paths_reports_every_file(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    write(tmp_path, VALID.replace("id: sample", "id: wrong"), name="second")
    (tmp_path / "sample.yml").write_text(VALID)
    found = check_paths([tmp_path, tmp_path / "absent.yaml", tmp_path / "empty"])
    assert {(Path(p.file).name, p.where) for p in found} == {
        ("second.yaml", "id"), ("sample.yml", "id"), ("absent.yaml", ""), ("empty", "")}
    (tmp_path / "empty").mkdir()
    assert any("no instrument files" in p.reason for p in check_paths([tmp_path / "empty"]))


def test_load_battery_raises_with_the_problems(tmp_path: Path) -> None:
    write(tmp_path, VALID)
    assert list(load_battery(tmp_path)) == ["sample"]
    write(tmp_path, "title: [", name="broken")
    with pytest.raises(DefinitionError) as caught:
        load_battery(tmp_path)
    assert [Path(p.file).name for p in caught.value.problems] == ["broken.yaml"]
    assert "broken.yaml:1: not valid YAML" in str(caught.value)


def test_the_documented_example_is_valid() -> None:
    docs = (ROOT / "docs" / "surveys.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", docs, re.DOTALL)
    assert example is not None
    instrument = parse_instrument(example.group(1).encode(), source="docs/surveys.md")
    assert [score.name for score in instrument.scores] == ["evening", "ease"]


def test_a_score_may_declare_its_reliability(tmp_path: Path) -> None:
    text = edited("    higher_is_better: true\n", "    higher_is_better: true\n"
                  "    reliability: 0.84\n")
    instrument = load_instrument(write(tmp_path, text))
    assert instrument.scores[0].reliability == 0.84
    assert load_instrument(write(tmp_path, VALID)).scores[0].reliability is None


def test_a_reliability_of_1_or_more_names_file_place_and_reason(tmp_path: Path) -> None:
    text = edited("    higher_is_better: true\n", "    higher_is_better: true\n"
                  "    reliability: 1.2\n")
    problem = only(problems(tmp_path, text))
    assert problem.where == "scores[0].reliability"
    assert problem.line == line_of(text, "reliability: 1.2")
    assert "less than 1" in problem.reason
    assert "sample.yaml" in str(problem)
