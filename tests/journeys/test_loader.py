"""A broken journey file is reported by file, key path, line and reason, never a traceback."""

import hashlib
import re
from collections.abc import Collection
from pathlib import Path

import pytest

from app.definitions import DefinitionError, Problem
from app.journeys.definitions import STEP_KINDS
from app.journeys.loader import load_all, load_journey

DATA = Path(__file__).parent / "data"
INSTRUMENTS = {"happiness"}


def problems_of(name: str, *, instruments: Collection[str] | None = INSTRUMENTS) -> list[Problem]:
    with pytest.raises(DefinitionError) as caught:
        load_journey(DATA / f"{name}.yaml", instruments=instruments)
    return caught.value.problems


def only_problem(name: str, **kwargs: Collection[str] | None) -> Problem:
    problems = problems_of(name, **kwargs)
    assert len(problems) == 1, problems
    return problems[0]


def test_valid_journey_loads_with_its_steps_in_order() -> None:
    loaded = load_journey(DATA / "valid.yaml", instruments=INSTRUMENTS)

    assert loaded.definition.id == "valid"
    assert [step.id for step in loaded.definition.steps()] == ["baseline", "welcome"]


def test_bad_yaml_is_reported_at_its_line() -> None:
    assert only_problem("bad_yaml") == Problem(
        file=str(DATA / "bad_yaml.yaml"), where="", line=10,
        reason="not valid YAML: mapping values are not allowed here",
    )


def test_unknown_step_kind_names_the_step_and_the_known_kinds() -> None:
    problem = only_problem("unknown_kind")

    assert (problem.file, problem.where, problem.line) == (
        str(DATA / "unknown_kind.yaml"), "phases[0].stages[0].steps[1]", 16,
    )
    assert problem.reason.startswith("unknown step kind 'quiz'; the known kinds are ")
    assert all(f"'{kind}'" in problem.reason for kind in STEP_KINDS)


def test_duplicate_step_id_is_reported_with_the_id() -> None:
    problem = only_problem("duplicate_step_ids")

    assert problem.file == str(DATA / "duplicate_step_ids.yaml")
    assert problem.reason == "step id 'welcome' is used more than once"


def test_duplicate_step_id_points_at_the_second_use() -> None:
    problem = only_problem("duplicate_step_ids")

    assert (problem.where, problem.line) == ("phases[0].stages[1].steps[0].id", 20)


def test_unknown_survey_instrument_is_reported_at_its_place_in_the_wave() -> None:
    assert only_problem("unknown_instrument") == Problem(
        file=str(DATA / "unknown_instrument.yaml"), where="waves.pre[1]", line=7,
        reason="unknown survey instrument 'hapiness' (no surveys/hapiness.yaml)",
    )


def test_unknown_instrument_in_a_named_battery_is_reported_at_its_place() -> None:
    assert only_problem("unknown_battery_instrument") == Problem(
        file=str(DATA / "unknown_battery_instrument.yaml"),
        where="waves.batteries.full.post[0]", line=12,
        reason="unknown survey instrument 'hapiness' (no surveys/hapiness.yaml)",
    )


def test_instruments_are_not_checked_when_none_are_given() -> None:
    loaded = load_journey(DATA / "unknown_instrument.yaml")

    assert loaded.definition.waves.pre == ["happiness", "hapiness"]


def test_survey_step_for_an_empty_wave_is_reported_with_the_step_and_wave() -> None:
    problem = only_problem("empty_wave")

    assert problem.file == str(DATA / "empty_wave.yaml")
    assert problem.reason == (
        "step 'closing' gives the post wave, but waves.post lists no instruments"
    )


def test_survey_step_for_an_empty_wave_points_at_its_wave_key() -> None:
    problem = only_problem("empty_wave")

    assert (problem.where, problem.line) == ("phases[0].stages[0].steps[1].wave", 22)


def test_missing_prompt_text_is_reported_at_the_prompt() -> None:
    assert only_problem("missing_text") == Problem(
        file=str(DATA / "missing_text.yaml"),
        where="phases[0].stages[0].steps[0].prompts[1].text", line=18,
        reason="this required key is missing",
    )


def test_id_that_is_not_the_file_name_is_reported_at_the_id() -> None:
    assert only_problem("wrong_id") == Problem(
        file=str(DATA / "wrong_id.yaml"), where="id", line=3,
        reason="the id 'purpose' must equal the file name 'wrong_id'",
    )


def test_unknown_key_is_reported_where_it_is_written() -> None:
    assert only_problem("unknown_key") == Problem(
        file=str(DATA / "unknown_key.yaml"),
        where="phases[0].stages[0].steps[0].guidence", line=15,
        reason="unknown key (check its spelling against the documented format)",
    )


def test_problem_reads_as_file_line_key_path_reason() -> None:
    problem = only_problem("unknown_instrument")

    assert str(problem) == (
        f"{DATA / 'unknown_instrument.yaml'}:7: waves.pre[1]: "
        "unknown survey instrument 'hapiness' (no surveys/hapiness.yaml)"
    )


def test_load_all_reports_the_problems_of_every_file(tmp_path: Path) -> None:
    for name in ("valid", "missing_text", "unknown_key"):
        (tmp_path / f"{name}.yaml").write_bytes((DATA / f"{name}.yaml").read_bytes())

    with pytest.raises(DefinitionError) as caught:
        load_all([tmp_path], instruments=INSTRUMENTS)

    assert [(Path(p.file).name, p.line) for p in caught.value.problems] == [
        ("missing_text.yaml", 18), ("unknown_key.yaml", 15),
    ]


def test_version_is_the_sha256_of_the_file_bytes() -> None:
    path = DATA / "valid.yaml"

    loaded = load_journey(path, instruments=INSTRUMENTS)

    assert loaded.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_any_edit_makes_a_new_version(tmp_path: Path) -> None:
    path = tmp_path / "valid.yaml"
    path.write_bytes((DATA / "valid.yaml").read_bytes())
    before = load_journey(path).content_hash

    path.write_text(path.read_text(encoding="utf-8").replace("Hello.", "Hello!"),
                    encoding="utf-8")

    assert load_journey(path).content_hash != before


def test_version_of_a_file_with_windows_line_endings_is_the_hash_of_its_bytes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "valid.yaml"
    path.write_bytes((DATA / "valid.yaml").read_bytes().replace(b"\n", b"\r\n"))

    loaded = load_journey(path)

    assert loaded.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_example_in_the_documentation_loads(tmp_path: Path) -> None:
    docs = (Path(__file__).parents[2] / "docs" / "journeys.md").read_text(encoding="utf-8")
    example = next(block for block in re.findall(r"```yaml\n(.*?)```", docs, re.DOTALL)
                   if block.startswith("id: "))
    path = tmp_path / "first_steps.yaml"
    path.write_text(example, encoding="utf-8")

    journey = load_journey(path).definition

    assert {step.kind for step in journey.steps()} >= {"survey", "content", "reflection"}
