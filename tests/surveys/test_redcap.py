"""REDCap data dictionary → instruments that pass `check`, with everything else listed."""

from pathlib import Path

import pytest

from app.surveys import redcap
from app.surveys.definitions import check_paths, load_instrument
from app.surveys.scoring import AnswerError, check_answers

DICTIONARY = Path(__file__).parent / "data" / "redcap_dictionary.csv"


@pytest.fixture
def conversion() -> redcap.Conversion:
    return redcap.convert_file(DICTIONARY)


def test_one_instrument_per_form_that_passes_check(
    conversion: redcap.Conversion, tmp_path: Path
) -> None:
    written = redcap.write(conversion, tmp_path)
    assert sorted(path.name for path in written) == ["study_habits.yaml", "weekly_checkin.yaml"]
    assert check_paths([tmp_path]) == []


def test_choices_become_options_with_their_codes(
    conversion: redcap.Conversion, tmp_path: Path
) -> None:
    redcap.write(conversion, tmp_path)
    weekly = load_instrument(tmp_path / "weekly_checkin.yaml")
    assert [item.id for item in weekly.items] == [
        "wc_rested", "wc_outdoors", "wc_talked", "wc_talk_helped"]
    rested, outdoors, talked, _ = weekly.items
    assert rested.scale == outdoors.scale == "wc_days"  # one scale, named after the matrix
    assert [(o.value, o.label) for o in weekly.options_of(rested)] == [
        (1, "Never"), (2, "Some days"), (3, "Most days"), (4, "Every day")]
    assert [(o.value, o.label) for o in weekly.options_of(talked)] == [(1, "Yes"), (0, "No")]
    habits = load_instrument(tmp_path / "study_habits.yaml")
    plan, quiet, hours = habits.items
    assert [o.value for o in habits.options_of(plan)] == [0, 1, 2, 3]
    assert [(o.value, o.label) for o in habits.options_of(quiet)] == [(1, "True"), (0, "False")]
    assert hours.text == "Roughly how many hours & minutes do you study on a school day?"


def test_required_follows_the_dictionary(conversion: redcap.Conversion, tmp_path: Path) -> None:
    redcap.write(conversion, tmp_path)
    habits = load_instrument(tmp_path / "study_habits.yaml")
    assert [item.required for item in habits.items] == [True, False, True]


def test_what_cannot_be_mapped_is_listed(conversion: redcap.Conversion) -> None:
    notes = {note.field: note for note in conversion.notes}
    assert set(notes) == {"record_id", "wc_intro", "wc_talk_helped", "wc_talk_topic",
                          "wc_days_total", "wc_weather", "wc_energy", "wc_activities"}
    assert "calculated field" in notes["wc_days_total"].reason
    assert "'sun' is not a number" in notes["wc_weather"].reason
    assert "checkbox" in notes["wc_activities"].reason
    assert "slider" in notes["wc_energy"].reason
    assert "free-text" in notes["wc_talk_topic"].reason
    assert notes["wc_days_total"].line == 9
    assert str(notes["wc_weather"]).startswith("line 10: weekly_checkin.wc_weather: ")


def test_a_field_with_branching_logic_is_kept_optional_and_listed(
    conversion: redcap.Conversion, tmp_path: Path
) -> None:
    note = next(n for n in conversion.notes if n.field == "wc_talk_helped")
    assert "[wc_talked] = '1'" in note.reason
    redcap.write(conversion, tmp_path)
    helped = load_instrument(tmp_path / "weekly_checkin.yaml").items_by_id["wc_talk_helped"]
    assert helped.required is False


def test_answers_in_redcap_codes_are_accepted_by_the_imported_instrument(
    conversion: redcap.Conversion, tmp_path: Path
) -> None:
    redcap.write(conversion, tmp_path)
    weekly = load_instrument(tmp_path / "weekly_checkin.yaml")
    assert check_answers(weekly, {"wc_rested": 4, "wc_talked": 0})["wc_talked"] == 0
    with pytest.raises(AnswerError):
        check_answers(weekly, {"wc_talked": 2})


def test_imported_files_have_no_scores_and_are_not_marked_validated(
    conversion: redcap.Conversion, tmp_path: Path
) -> None:
    redcap.write(conversion, tmp_path)
    weekly = load_instrument(tmp_path / "weekly_checkin.yaml")
    assert weekly.scores == []
    assert weekly.metadata.validated is False
    assert "redcap_dictionary.csv" in weekly.metadata.note


def test_write_refuses_to_replace_a_file(conversion: redcap.Conversion, tmp_path: Path) -> None:
    (tmp_path / "study_habits.yaml").write_text("mine")
    with pytest.raises(redcap.RedcapError, match="would replace"):
        redcap.write(conversion, tmp_path)
    assert (tmp_path / "study_habits.yaml").read_text() == "mine"
    assert not (tmp_path / "weekly_checkin.yaml").exists()


def test_a_csv_without_the_dictionary_columns_is_refused() -> None:
    with pytest.raises(redcap.RedcapError, match="no column for 'form', 'type'"):
        redcap.convert("Variable / Field Name,Field Label,Choices\nx,y,z\n")


@pytest.mark.parametrize(("choices", "reason"), [
    ("1, One", "at least two choices"),
    ("1, One | 1, Again", "code is used twice"),
    ("1, Same | 2, Same", "label is used twice"),
    ("1 One | 2, Two", "cannot read the choice"),
])
def test_bad_choices_are_listed(choices: str, reason: str) -> None:
    header = "Variable / Field Name,Form Name,Field Type,Field Label,Choices\n"
    conversion = redcap.convert(header + f'q1,form_a,radio,A question?,"{choices}"\n')
    assert conversion.documents == {}
    assert [reason in note.reason for note in conversion.notes] == [True]
