"""Export writers: exact files from a small hand-built study, round trips, and streaming."""

import csv
import hashlib
import io
import json
import math
import re
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pyreadstat
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.research.exporting.model import (
    DECLINED,
    DECLINED_LABEL,
    SKIPPED,
    declined_code,
    merged_spec,
)
from app.research.exports import (
    FORMATS,
    AnswerRow,
    ExportError,
    ExportSource,
    InstrumentSpec,
    ItemSpec,
    ScoreRow,
    ScoreSpec,
    TextRow,
    WideLayout,
    instrument_spec,
    safe_names,
    write_export,
)
from app.surveys.definitions import SURVEYS_DIR, load_instrument

OFTEN = {0.0: "Never", 1.0: "Sometimes", 2.0: "Often"}
MOOD = InstrumentSpec("mood-check", "2", "Mood check", [
    ItemSpec("calm", "I felt calm.", OFTEN, True, 0.0, 2.0),
    ItemSpec("worry", "I worried <a lot> & often.", OFTEN, False, 0.0, 2.0),
], [ScoreSpec("total", "Mood check: total", "lower", 0.0, 4.0)])
PICK = InstrumentSpec("pick", "1", "Pick one", [
    ItemSpec("colour", "Which colour?", {0.5: "Red", 1.5: "Blue"}, False, 0.5, 1.5,
             numeric=False),
], [])
ANSWERS = [
    AnswerRow("p1", "pre", 0, "mood-check", "2", "calm", 2.0),
    AnswerRow("p1", "pre", 0, "mood-check", "2", "worry", 1.0),
    AnswerRow("p1", "pre", 1, "pick", "1", "colour", 0.5),
    AnswerRow("p1", "post", 30, "mood-check", "2", "calm", 1.0),
    AnswerRow("p1", "post", 30, "mood-check", "2", "worry", None, SKIPPED),
    AnswerRow("p2", "pre", 2, "mood-check", "2", "calm", 0.0),
    AnswerRow("p2", "pre", 2, "mood-check", "2", "worry", 2.0),
]
SCORES = [
    ScoreRow("p1", "pre", 0, "mood-check", "2", "total", 1.0),
    ScoreRow("p1", "post", 30, "mood-check", "2", "total", None),
    ScoreRow("p2", "pre", 2, "mood-check", "2", "total", 4.0),
    ScoreRow("p3", "pre", 5, "mood-check", "2", "total", 2.5),  # scored, answers not exported
]


def study(answers: list[AnswerRow] = ANSWERS, **extra: object) -> ExportSource:
    return ExportSource(study="Pilot 2026", waves=["pre", "post"], instruments=[MOOD, PICK],
                        answers=lambda: iter(answers), scores=lambda: iter(SCORES),
                        filters={"cohort": "Spring"}, **extra)  # type: ignore[arg-type]


def written(fmt: str, source: ExportSource | None = None) -> tuple[int, bytes]:
    out = io.BytesIO()
    rows = write_export(source or study(), fmt, out)
    return rows, out.getvalue()


def saved(tmp_path: Path, fmt: str, source: ExportSource | None = None) -> Path:
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(written(fmt, source)[1])
    return path


def test_long_csv_has_one_row_per_answer_with_numbers_as_written() -> None:
    rows, data = written("long")
    assert rows == 7
    assert data.decode() == (
        "participant,wave,days_since_enrolment,instrument,instrument_version,item,value,"
        "answer_status\n"
        "p1,pre,0,mood-check,2,calm,2,answered\n"
        "p1,pre,0,mood-check,2,worry,1,answered\n"
        "p1,pre,1,pick,1,colour,0.5,answered\n"
        "p1,post,30,mood-check,2,calm,1,answered\n"
        "p1,post,30,mood-check,2,worry,,skipped\n"
        "p2,pre,2,mood-check,2,calm,0,answered\n"
        "p2,pre,2,mood-check,2,worry,2,answered\n"
    )


def test_wide_csv_has_one_row_per_participant_from_answers_and_scores() -> None:
    rows, data = written("wide")
    assert rows == 3
    assert data.decode() == (
        "participant,pre_days,pre_mood-check_version,pre_mood-check_calm,pre_mood-check_worry,"
        "pre_mood-check_total,pre_pick_version,pre_pick_colour,post_days,"
        "post_mood-check_version,post_mood-check_calm,post_mood-check_worry,"
        "post_mood-check_total,post_pick_version,post_pick_colour\n"
        "p1,0,2,2,1,1,1,0.5,30,2,1,,,,\n"
        "p2,2,2,0,2,4,,,,,,,,,\n"
        "p3,5,2,,,2.5,,,,,,,,,\n"
    )


def test_long_csv_leaves_unknown_days_empty_and_keeps_odd_values_exact() -> None:
    rows = [AnswerRow("p1", "pre", None, "pick", "1", "colour", 1.5),
            AnswerRow("p1", "pre", None, "pick", "1", "colour", 0.1 + 0.2),
            AnswerRow("p1", "pre", None, "pick", "1", "colour", -3.0)]
    assert written("long", study(rows))[1].decode().splitlines()[1:] == [
        "p1,pre,,pick,1,colour,1.5,answered",
        "p1,pre,,pick,1,colour,0.30000000000000004,answered",
        "p1,pre,,pick,1,colour,-3,answered",
    ]


def test_wide_columns_follow_the_waves_each_wave_gave() -> None:
    source = study(wave_instruments={"pre": ["mood-check", "pick"], "post": ["mood-check"]})
    header = written("wide", source)[1].decode().splitlines()[0]
    assert header.endswith("post_mood-check_worry,post_mood-check_total")


def test_scores_csv_lists_every_score() -> None:
    rows, data = written("scores")
    assert rows == 4
    assert data.decode().splitlines() == [
        "participant,wave,days_since_enrolment,instrument,instrument_version,score,value",
        "p1,pre,0,mood-check,2,total,1",
        "p1,post,30,mood-check,2,total,",
        "p2,pre,2,mood-check,2,total,4",
        "p3,pre,5,mood-check,2,total,2.5",
    ]


def test_wide_refuses_rows_out_of_participant_order() -> None:
    shuffled = [ANSWERS[5], *ANSWERS]
    with pytest.raises(ExportError, match="not ordered by participant: 'p1' came after 'p2'"):
        written("wide", study(shuffled))


def test_wide_refuses_an_answer_its_specs_do_not_list() -> None:
    stray = [*ANSWERS[:2], AnswerRow("p1", "pre", 0, "mood-check", "2", "sleep", 1.0)]
    with pytest.raises(ExportError, match="item 'sleep' of instrument 'mood-check'"):
        written("wide", study(stray))


def test_unknown_format_is_named_in_the_error() -> None:
    with pytest.raises(ExportError, match="unknown export format 'xlsx'"):
        written("xlsx")


def test_progress_counts_every_row() -> None:
    class Counter:
        total = 0

        def advance(self, n: int) -> None:
            self.total += n

    for fmt, expected in [("long", 7), ("wide", 3), ("scores", 4), ("sav", 3), ("parquet", 7)]:
        counter = Counter()
        assert write_export(study(), fmt, io.BytesIO(), counter) == expected
        assert counter.total == expected


def codebook() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(written("codebook")[1].decode())))


def test_codebook_lists_every_column_of_the_long_and_wide_files() -> None:
    entries = codebook()
    wide = [entry["column"] for entry in entries if entry["file"].startswith("wide")]
    long = [entry["column"] for entry in entries if entry["file"].startswith("long")]
    assert wide == written("wide")[1].decode().splitlines()[0].split(",")
    assert long == written("long")[1].decode().splitlines()[0].split(",")


def test_codebook_describes_items_scores_and_written_names() -> None:
    by_column = {entry["column"]: entry for entry in codebook() if entry["file"].startswith("wide")}
    calm = by_column["post_mood-check_calm"]
    assert calm["label"] == "I felt calm."
    assert calm["values"] == ("0 = Never; 1 = Sometimes; 2 = Often; -9 (.sav, user-missing) "
                              "or .a (.dta) = Prefer not to answer")
    assert calm["reverse_scored"] == "yes"
    assert (calm["instrument"], calm["instrument_version"]) == ("mood-check", "2")
    assert (calm["spss_name"], calm["stata_name"]) == ("post_mood_check_calm",) * 2
    total = by_column["pre_mood-check_total"]
    assert (total["label"], total["better"], total["values"]) == (
        "Mood check: total", "lower", "0 to 4")
    colour = by_column["pre_pick_colour"]
    assert colour["values"].startswith("0.5 = Red; 1.5 = Blue; -9 (.sav")
    assert "no value labels in the .dta file" in colour["note"]
    assert by_column["pre_mood-check_worry"]["reverse_scored"] == "no"


def test_codebook_html_is_a_standalone_escaped_document() -> None:
    rows, data = written("codebook-html")
    page = data.decode()
    assert rows == len(codebook())
    assert page.startswith("<!doctype html>")
    assert "I worried &lt;a lot&gt; &amp; often." in page
    assert "<code>pre_mood_check_calm</code>" in page
    assert "Spring" in page
    assert "style=" not in page and "<script" not in page and "base.html" not in page


def test_sav_reads_back_with_the_same_values_and_labels(tmp_path: Path) -> None:
    frame, meta = pyreadstat.read_sav(saved(tmp_path, "sav"))
    assert list(frame["participant"]) == ["p1", "p2", "p3"]
    assert _values(frame["pre_mood_check_calm"]) == [2.0, 0.0, None]
    assert _values(frame["post_mood_check_worry"]) == [None, None, None]
    assert _values(frame["pre_pick_colour"]) == [0.5, None, None]
    assert _values(frame["pre_mood_check_total"]) == [1.0, 4.0, 2.5]
    assert _values(frame["post_days"]) == [30.0, None, None]
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["pre_mood_check_worry"] == "I worried <a lot> & often."
    assert labels["post_mood_check_total"] == "Mood check: total"
    assert meta.variable_value_labels["pre_mood_check_calm"] == {**OFTEN, -9.0: DECLINED_LABEL}
    assert meta.variable_value_labels["pre_pick_colour"] == {0.5: "Red", 1.5: "Blue",
                                                            -9.0: DECLINED_LABEL}
    assert meta.variable_measure["pre_pick_colour"] == "nominal"
    assert meta.variable_measure["pre_mood_check_calm"] == "ordinal"
    assert meta.variable_measure["pre_mood_check_total"] == "scale"


def test_dta_reads_back_with_the_same_values_and_whole_number_labels(tmp_path: Path) -> None:
    frame, meta = pyreadstat.read_dta(saved(tmp_path, "dta"))
    assert list(frame["participant"]) == ["p1", "p2", "p3"]
    assert _values(frame["post_mood_check_calm"]) == [1.0, None, None]
    assert _values(frame["pre_pick_colour"]) == [0.5, None, None]
    assert _values(frame["pre_mood_check_total"]) == [1.0, 4.0, 2.5]
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["pre_mood_check_calm"] == "I felt calm."
    assert meta.variable_value_labels["post_mood_check_calm"] == {
        0: "Never", 1: "Sometimes", 2: "Often", "a": DECLINED_LABEL}
    # 0.5 and 1.5 cannot be labelled; the declined value can
    assert meta.variable_value_labels["pre_pick_colour"] == {"a": DECLINED_LABEL}


def test_long_labels_are_shortened_for_each_format_and_the_codebook_says_so(
        tmp_path: Path) -> None:
    text = "é" * 150 + " end"
    long_item = InstrumentSpec("long-text", "1", "Long", [
        ItemSpec("q", text, {1.0: "Yes " + "x" * 130}, False, 1.0, 1.0)], [])
    source = ExportSource(study="S", waves=["pre"], instruments=[long_item],
                          answers=lambda: iter([AnswerRow("a", "pre", 0, "long-text", "1", "q",
                                                          1.0)]),
                          scores=lambda: iter(()))
    _, sav = pyreadstat.read_sav(saved(tmp_path, "sav", source))
    _, dta = pyreadstat.read_dta(saved(tmp_path, "dta", source))
    assert sav.column_labels[-1] == "é" * 128
    assert dta.column_labels[-1] == "é" * 80
    assert len(sav.variable_value_labels["pre_long_text_q"][1.0].encode()) <= 120
    entries = list(csv.DictReader(io.StringIO(written("codebook", source)[1].decode())))
    entry = next(entry for entry in entries if entry["column"] == "pre_long-text_q")
    assert entry["label"] == text
    assert "label shortened in the .sav file" in entry["note"]
    assert "label shortened in the .dta file" in entry["note"]
    assert "value labels shortened in the .sav file" in entry["note"]


def _values(column: object) -> list[float | None]:
    return [None if math.isnan(value) else value for value in column]  # type: ignore[attr-defined]


def test_parquet_reads_back_in_the_long_layout(tmp_path: Path) -> None:
    table = pq.read_table(saved(tmp_path, "parquet"))
    assert table.column_names == ["participant", "wave", "days_since_enrolment", "instrument",
                                  "instrument_version", "item", "value", "answer_status"]
    assert table.to_pylist()[2] == {
        "participant": "p1", "wave": "pre", "days_since_enrolment": 1, "instrument": "pick",
        "instrument_version": "1", "item": "colour", "value": 0.5, "answer_status": "answered"}
    assert table.column("value").to_pylist() == [row.value for row in ANSWERS]


def test_bundle_manifest_matches_the_zipped_files() -> None:
    rows, data = written("bundle")
    assert rows == 7
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        names = [file["name"] for file in manifest["files"]]
        assert sorted([*names, "manifest.json"]) == sorted(bundle.namelist())
        for file in manifest["files"]:
            content = bundle.read(file["name"])
            assert file["sha256"] == hashlib.sha256(content).hexdigest()
            assert file["bytes"] == len(content)
        wide = bundle.read("wide.csv")
    assert names == ["long.csv", "wide.csv", "scores.csv", "answers.parquet", "wide.sav",
                     "wide.dta", "codebook.csv", "codebook.html", "analysis.R", "analysis.sps",
                     "apa_table.csv", "apa_table.md"]
    assert wide == written("wide")[1]
    assert {file["format"]: file["rows"] for file in manifest["files"]}["wide"] == 3
    assert manifest["study"] == "Pilot 2026"
    assert manifest["filters"] == {"cohort": "Spring"}
    assert manifest["exported_at"].endswith("Z")
    assert manifest["app_version"]
    assert manifest["instruments"][0] == {"key": "mood-check", "version": "2",
                                          "versions": ["2"], "title": "Mood check"}


def test_bundle_carries_free_text_only_when_the_source_has_it() -> None:
    texts = [TextRow("p1", "post", 30, "reflection", "what_changed", "More, \"quoted\"\nlines")]
    _, data = written("bundle", study(texts=lambda: iter(texts)))
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        assert "texts.csv" in bundle.namelist()
        read = list(csv.reader(io.StringIO(bundle.read("texts.csv").decode(), newline="")))
    assert read[1] == ["p1", "post", "30", "reflection", "what_changed", "More, \"quoted\"\nlines"]
    with zipfile.ZipFile(io.BytesIO(written("bundle")[1])) as bundle:
        assert "texts.csv" not in bundle.namelist()


def test_every_format_has_a_file_name_and_media_type() -> None:
    assert set(FORMATS) == {"long", "wide", "scores", "parquet", "sav", "dta", "codebook",
                            "codebook-html", "bundle"}
    assert all(fmt.filename and fmt.media_type and fmt.label for fmt in FORMATS.values())


def test_instrument_spec_carries_labels_reverse_scoring_range_and_direction() -> None:
    spec = instrument_spec(load_instrument(SURVEYS_DIR / "anxiety.yaml"))
    assert (spec.key, spec.version, spec.title) == ("anxiety", "1", "Worry and tension")
    calm = next(item for item in spec.items if item.id == "calm")
    assert calm.reverse and calm.numeric
    assert calm.value_labels[0.0] == "Never" and calm.value_labels[4.0] == "Almost all the time"
    assert (calm.min, calm.max) == (0.0, 4.0)
    assert [(s.name, s.better, s.min, s.max) for s in spec.scores] == [
        ("anxiety", "lower", 0.0, 20.0)]


def test_written_names_are_short_valid_and_unique() -> None:
    names = [("followup", "career-decision-self-efficacy", "confidence_in_choosing"),
             ("followup", "career-decision-self-efficacy", "confidence_in_planning"),
             "1st_wave", "in", "IN", "pre days", ""]
    dta = safe_names(names, limit=32, reserved={"in"})
    assert dta[:2] == ["followup_care_confidence_in_choo", "followup_care_confidence_in_plan"]
    assert dta[2] == "v1st_wave" and dta[3] == "in_" and dta[5] == "pre_days"
    assert dta[4].startswith("IN_") and len(set(map(str.lower, dta))) == len(dta)
    assert safe_names(names, limit=32, reserved={"in"}) == dta


@given(st.lists(st.text(min_size=0, max_size=80), max_size=30))
def test_written_names_hold_for_any_input(names: list[str]) -> None:
    for limit in (27, 64):
        written = safe_names(names, limit=limit, reserved={"in", "with"})
        assert len({name.lower() for name in written}) == len(names)
        for name in written:
            assert len(name) <= limit and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name)
            assert name.lower() not in {"in", "with"}


def test_wide_names_cut_each_instrument_key_alike_for_stata() -> None:
    long_key = InstrumentSpec("career-decision-self-efficacy", "1", "Career decisions", [
        ItemSpec("plan", "I can plan.", OFTEN, False, 0.0, 2.0),
        ItemSpec("hold_course", "I can hold my course.", OFTEN, False, 0.0, 2.0)], [])
    layout = WideLayout(ExportSource(study="S", waves=["pre", "followup"],
                                     instruments=[long_key], answers=lambda: iter(()),
                                     scores=lambda: iter(())))
    assert layout.dta_names == [
        "participant", "pre_days", "pre_career_version", "pre_career_plan",
        "pre_career_hold_course", "followup_days", "followup_career_version",
        "followup_career_plan", "followup_career_hold_course"]
    assert layout.sav_names[-1] == "followup_career_decision_self_efficacy_hold_course"


def test_wide_names_stay_unique_when_an_item_and_a_score_share_a_name() -> None:
    clash = InstrumentSpec("hope", "1", "Hope", [
        ItemSpec("hope", "I feel hopeful.", OFTEN, False, 0.0, 2.0),
        ItemSpec("version", "Which version of me showed up?", OFTEN, False, 0.0, 2.0)],
        [ScoreSpec("hope", "Hope: hope", "higher")])
    answer = AnswerRow("a", "pre", 0, "hope", "1", "hope", 2.0)
    score = ScoreRow("a", "pre", 0, "hope", "1", "hope", 1.0)
    source = ExportSource(study="S", waves=["pre"], instruments=[clash],
                          answers=lambda: iter([answer]), scores=lambda: iter([score]))
    assert written("wide", source)[1].decode().splitlines() == [
        "participant,pre_days,pre_hope_version,pre_hope_hope,pre_hope_version_item,"
        "pre_hope_hope_score",
        "a,0,1,2,,1",
    ]


def synthetic_answers(count: int, consumed: list[int]) -> Iterator[AnswerRow]:
    for index in range(count):
        consumed[0] = index + 1
        yield AnswerRow(f"p{index // 100:06d}", "pre", 0, "mood-check", "2",
                        "calm" if index % 2 else "worry", float(index % 3))


def test_long_writer_streams_its_input() -> None:
    consumed = [0]
    seen_before_end = []

    class Watching(io.BytesIO):
        def write(self, data: bytes) -> int:  # type: ignore[override]
            seen_before_end.append(consumed[0])
            return super().write(data)

    source = study(answers=[])
    source.answers = lambda: synthetic_answers(50_000, consumed)
    write_export(source, "long", Watching())
    assert consumed[0] == 50_000
    assert min(seen_before_end) < 20_000  # bytes left before most of the input was read


def test_long_writer_memory_does_not_grow_with_the_answers() -> None:
    peaks = []
    for count in (20_000, 200_000):
        source = study(answers=[])
        source.answers = lambda count=count: synthetic_answers(count, [0])  # type: ignore[misc]
        sink = Discard()
        tracemalloc.start()
        write_export(source, "long", sink)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert sink.size > count * 20
    assert peaks[1] < peaks[0] * 1.5 + 100_000  # ten times the answers, about the same memory
    assert peaks[1] < 8_000_000


class Discard(io.RawIOBase):
    size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.size += len(data)
        return len(data)


DECLINING = [
    AnswerRow("p1", "pre", 0, "mood-check", "2", "calm", 2.0),
    AnswerRow("p1", "pre", 0, "mood-check", "2", "worry", None, DECLINED),
    AnswerRow("p2", "pre", 2, "mood-check", "2", "calm", None, SKIPPED),
    AnswerRow("p2", "pre", 2, "mood-check", "2", "worry", 1.0),
]


def declining() -> ExportSource:
    return ExportSource(study="S", waves=["pre"], instruments=[MOOD],
                        answers=lambda: iter(DECLINING), scores=lambda: iter(()))


def test_a_declined_answer_is_told_apart_from_a_skipped_one_in_the_long_files(
        tmp_path: Path) -> None:
    long = list(csv.DictReader(io.StringIO(written("long", declining())[1].decode())))
    assert [(row["value"], row["answer_status"]) for row in long] == [
        ("2", "answered"), ("", "declined"), ("", "skipped"), ("1", "answered")]
    table = pq.read_table(saved(tmp_path, "parquet", declining()))
    assert table.column("answer_status").to_pylist() == ["answered", "declined", "skipped",
                                                         "answered"]
    entries = {entry["column"]: entry for entry in csv.DictReader(io.StringIO(
        written("codebook", declining())[1].decode())) if entry["file"].startswith("long")}
    assert "declined = “Prefer not to answer” was chosen" in entries["answer_status"]["values"]
    assert ".a" in entries["answer_status"]["note"]


def test_a_declined_answer_reads_back_as_user_missing_in_spss(tmp_path: Path) -> None:
    path = saved(tmp_path, "sav", declining())
    frame, meta = pyreadstat.read_sav(path, user_missing=True)
    assert _values(frame["pre_mood_check_worry"]) == [-9.0, 1.0]
    assert _values(frame["pre_mood_check_calm"]) == [2.0, None]
    assert meta.missing_ranges["pre_mood_check_worry"] == [{"lo": -9.0, "hi": -9.0}]
    assert meta.variable_value_labels["pre_mood_check_worry"][-9.0] == DECLINED_LABEL
    plain, _ = pyreadstat.read_sav(path)
    assert _values(plain["pre_mood_check_worry"]) == [None, 1.0]


def test_a_declined_answer_reads_back_as_extended_missing_a_in_stata(tmp_path: Path) -> None:
    frame, meta = pyreadstat.read_dta(saved(tmp_path, "dta", declining()), user_missing=True)
    assert list(frame["pre_mood_check_worry"]) == ["a", 1.0]
    assert math.isnan(frame["pre_mood_check_calm"][1])
    assert meta.missing_user_values["pre_mood_check_worry"] == ["a"]
    assert meta.variable_value_labels["pre_mood_check_worry"]["a"] == DECLINED_LABEL


def test_the_declined_code_stays_clear_of_the_item_values() -> None:
    nines = ItemSpec("n", "N", {-9.0: "Low", 9.0: "High"}, False, -9.0, 9.0)
    assert declined_code(MOOD.items[0]) == -9.0
    assert declined_code(nines) == -99.0


OLD_MOOD = InstrumentSpec("mood-check", "1", "Mood check", [
    ItemSpec("calm", "I felt calm.", OFTEN, True, 0.0, 2.0),
    ItemSpec("sleep", "I slept well.", OFTEN, False, 0.0, 2.0),
], [ScoreSpec("total", "Mood check: total", "lower", 0.0, 4.0)])
REVISED = [
    AnswerRow("p1", "pre", 0, "mood-check", "1", "calm", 2.0),
    AnswerRow("p1", "pre", 0, "mood-check", "1", "sleep", 1.0),
    AnswerRow("p1", "post", 30, "mood-check", "2", "calm", 1.0),
    AnswerRow("p1", "post", 30, "mood-check", "2", "worry", 0.0),
]


def revised() -> ExportSource:
    return ExportSource(study="S", waves=["pre", "post"],
                        instruments=[merged_spec([OLD_MOOD, MOOD])],
                        answers=lambda: iter(REVISED), scores=lambda: iter(()))


def test_a_revised_instrument_gives_the_union_of_its_versions_items(tmp_path: Path) -> None:
    spec = merged_spec([OLD_MOOD, MOOD])
    assert [(item.id, item.versions) for item in spec.items] == [
        ("calm", ()), ("worry", ("2",)), ("sleep", ("1",))]
    assert (spec.version, spec.all_versions) == ("2", ("1", "2"))
    wide = list(csv.DictReader(io.StringIO(written("wide", revised())[1].decode())))
    assert {key: value for key, value in wide[0].items() if "mood" in key} == {
        "pre_mood-check_version": "1", "pre_mood-check_calm": "2", "pre_mood-check_worry": "",
        "pre_mood-check_sleep": "1", "pre_mood-check_total": "",
        "post_mood-check_version": "2", "post_mood-check_calm": "1",
        "post_mood-check_worry": "0", "post_mood-check_sleep": "", "post_mood-check_total": ""}
    sav, _ = pyreadstat.read_sav(saved(tmp_path, "sav", revised()))
    assert _values(sav["pre_mood_check_sleep"]) == [1.0]
    dta, _ = pyreadstat.read_dta(saved(tmp_path, "dta", revised()))
    assert _values(dta["post_mood_check_worry"]) == [0.0]
    rows, bundle = written("bundle", revised())
    assert rows == 4
    with zipfile.ZipFile(io.BytesIO(bundle)) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))
    assert manifest["instruments"][0]["versions"] == ["1", "2"]


def test_the_codebook_says_which_versions_ask_each_item() -> None:
    entries = list(csv.DictReader(io.StringIO(written("codebook", revised())[1].decode())))
    wide = {entry["column"]: entry for entry in entries if entry["file"].startswith("wide")}
    assert wide["pre_mood-check_sleep"]["instrument_version"] == "1"
    assert "only in version 1 of the instrument" in wide["pre_mood-check_sleep"]["note"]
    assert wide["pre_mood-check_calm"]["instrument_version"] == "1, 2"
    assert wide["pre_mood-check_version"]["values"] == "1, 2"
    [version] = [entry for entry in entries if entry["column"] == "instrument_version"
                 and entry["file"].startswith("long")]
    assert version["values"] == "mood-check: 1, 2"
    assert "answered in more than one version: mood-check" in version["note"]
