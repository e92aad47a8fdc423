"""The codebook: every column of the long, scores and wide files, and what its values mean."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.research.exporting.columns import Column, WideLayout
from app.research.exporting.model import (
    ANSWERED,
    DECLINED,
    DECLINED_LABEL,
    SKIPPED,
    STATA_DECLINED,
    ExportSource,
    ItemSpec,
    Progress,
    declined_code,
    number_text,
)
from app.research.exporting.statfiles import DTA, SAV, dta_value_labels
from app.research.exporting.tables import write_rows
from app.settings import ROOT

HEADER = ["file", "column", "spss_name", "stata_name", "label", "values", "reverse_scored",
          "instrument", "instrument_version", "better", "note"]


@dataclass(frozen=True)
class Entry:
    file: str
    column: str
    label: str
    values: str = ""
    spss_name: str = ""
    stata_name: str = ""
    reverse_scored: str = ""
    instrument: str = ""
    instrument_version: str = ""
    better: str = ""
    note: str = ""

    def row(self) -> list[str]:
        return [getattr(self, name) for name in HEADER]


def entries(source: ExportSource) -> list[Entry]:
    return [*_long_entries(source), *_scores_entries(source), *_text_entries(source),
            *_wide_entries(source)]


def _long_entries(source: ExportSource) -> Iterator[Entry]:
    file = "long (long.csv, answers.parquet)"
    yield from _common(file, source)
    yield Entry(file, "item", "Item id within the instrument",
                note="the wide rows named {wave}_{instrument}_{item} give each item's text "
                     "and values")
    yield Entry(file, "value", "The answer as given (raw, not reverse-keyed)",
                note="empty when the item was skipped or declined; answer_status says which")
    yield Entry(file, "answer_status", "Whether the item was answered",
                f"{ANSWERED} = an answer was given; {SKIPPED} = left empty; "
                f"{DECLINED} = “{DECLINED_LABEL}” was chosen",
                note="declined is a declared missing value: in the .sav file a user-missing "
                     "code with that label, in the .dta file the extended missing value "
                     f".{STATA_DECLINED}, in the wide CSV an empty cell like a skipped item")


def _scores_entries(source: ExportSource) -> Iterator[Entry]:
    file = "scores (scores.csv)"
    yield from _common(file, source)
    yield Entry(file, "score", "Score name within the instrument",
                note="the wide rows named {wave}_{instrument}_{score} describe each score")
    yield Entry(file, "value", "The score, computed from the reverse-keyed answers",
                note="empty when too few items were answered")


def _text_entries(source: ExportSource) -> Iterator[Entry]:
    if source.texts is None:
        return
    file = "texts (texts.csv)"
    yield Entry(file, "participant", "Participant (pseudonym)")
    yield Entry(file, "wave", "Survey wave", "; ".join(source.waves))
    yield Entry(file, "days_since_enrolment", "Days from enrolment to when the text was saved")
    yield Entry(file, "source", "Where the text was written")
    yield Entry(file, "field", "The question or prompt the text answers")
    yield Entry(file, "text", "The text as written")


def _common(file: str, source: ExportSource) -> Iterator[Entry]:
    yield Entry(file, "participant", "Participant (pseudonym)")
    yield Entry(file, "wave", "Survey wave", "; ".join(source.waves))
    yield Entry(file, "days_since_enrolment", "Days from enrolment to the response",
                "whole days")
    yield Entry(file, "instrument", "Instrument key",
                "; ".join(f"{spec.key} = {spec.title}" for spec in source.instruments))
    yield Entry(file, "instrument_version", "Version of the instrument that was answered",
                "; ".join(f"{spec.key}: {', '.join(spec.all_versions)}"
                          for spec in source.instruments),
                note=_revised_note(source))


def _wide_entries(source: ExportSource) -> Iterator[Entry]:
    layout = WideLayout(source)
    file = "wide (wide.csv, .sav, .dta)"
    for column, spss, stata in zip(layout.columns, layout.sav_names, layout.dta_names,
                                   strict=True):
        spec = column.instrument
        yield Entry(
            file, column.name, column.label, _values(column), spss, stata,
            reverse_scored=_yes_no(column.item.reverse) if column.item else "",
            instrument=spec.key if spec else "", instrument_version=_versions_of(column),
            better=column.score.better if column.score else "", note=_note(column))


def _revised_note(source: ExportSource) -> str:
    revised = [spec.key for spec in source.instruments if len(spec.all_versions) > 1]
    if not revised:
        return ""
    return (f"answered in more than one version: {', '.join(revised)}; the wide columns are "
            "every item and score of any version, empty where the version answered lacks it")


def _versions_of(column: Column) -> str:
    spec = column.instrument
    if spec is None:
        return ""
    part = column.item or column.score
    return ", ".join(part.versions if part is not None and part.versions else spec.all_versions)


def _values(column: Column) -> str:
    if column.item is not None:
        return "; ".join(filter(None, (value_text(column.item), _declined_text(column.item))))
    if column.score is not None and column.score.min is not None:
        return f"{number_text(column.score.min)} to {number_text(column.score.max)}"
    if column.kind == "days":
        return "whole days"
    if column.kind == "version" and column.instrument is not None:
        return ", ".join(column.instrument.all_versions)
    return ""


def _declined_text(item: ItemSpec) -> str:
    return (f"{number_text(declined_code(item))} (.sav, user-missing) or .{STATA_DECLINED} "
            f"(.dta) = {DECLINED_LABEL}")


def value_text(item: ItemSpec) -> str:
    return "; ".join(f"{number_text(value)} = {label}"
                     for value, label in sorted(item.value_labels.items()))


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _note(column: Column) -> str:
    notes = []
    if column.item is not None and not column.item.numeric:
        notes.append("codes of a nominal scale, not amounts")
    if column.item is not None and column.item.value_labels \
            and not dta_value_labels(column.item.value_labels):
        notes.append("no value labels in the .dta file: Stata labels whole numbers only")
    if SAV.label(column.label) != column.label:
        notes.append("label shortened in the .sav file (SPSS keeps 256 bytes)")
    if DTA.label(column.label) != column.label:
        notes.append("label shortened in the .dta file (Stata keeps 80 characters)")
    if column.item is not None and any(SAV.value_label(text) != text
                                       for text in column.item.value_labels.values()):
        notes.append("value labels shortened in the .sav file (SPSS keeps 120 bytes)")
    if column.kind == "days":
        notes.append("empty when the wave was not taken")
    part = column.item or column.score
    if part is not None and part.versions:
        notes.append(f"only in version {', '.join(part.versions)} of the instrument")
    if column.item is not None:
        notes.append("empty in the wide CSV when skipped or declined")
    return "; ".join(notes)


def write_codebook_csv(source: ExportSource, out: BinaryIO,
                       progress: Progress | None = None) -> int:
    return write_rows(out, HEADER, (entry.row() for entry in entries(source)), progress)


_environment = Environment(loader=FileSystemLoader(ROOT / "templates"),
                           autoescape=select_autoescape(["html"]), keep_trailing_newline=True)


def write_codebook_html(source: ExportSource, out: BinaryIO,
                        progress: Progress | None = None) -> int:
    rows = entries(source)
    files: dict[str, list[Entry]] = {}
    for entry in rows:
        files.setdefault(entry.file, []).append(entry)
    template = _environment.get_template("research/codebook.html")
    for chunk in template.generate(study=source.study, waves=source.waves, files=files,
                                   instruments=list(source.instruments),
                                   filters=source.filters):
        out.write(chunk.encode())
    if progress is not None:
        progress.advance(len(rows))
    return len(rows)
