"""Research export writers: pure functions from an `ExportSource` to the bytes of a file.

The study layer (pseudonyms, consent, filters) builds the source; the web download and
`telos research export` call `write_export`. The writers live in `app.research.exporting`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from app.research.exporting.apa import write_apa_csv, write_apa_markdown
from app.research.exporting.bundle import Part, write_bundle
from app.research.exporting.codebook import write_codebook_csv, write_codebook_html
from app.research.exporting.columns import WideLayout, safe_names
from app.research.exporting.model import (
    AnswerRow,
    ExportError,
    ExportSource,
    InstrumentSpec,
    ItemSpec,
    Progress,
    ScoreRow,
    ScoreSpec,
    TextRow,
    instrument_spec,
)
from app.research.exporting.parquet import write_parquet
from app.research.exporting.statfiles import write_dta, write_sav
from app.research.exporting.syntax import write_analysis_r, write_analysis_sps
from app.research.exporting.tables import write_long, write_scores, write_texts, write_wide

__all__ = [
    "FORMATS", "AnswerRow", "ExportError", "ExportFormat", "ExportSource", "InstrumentSpec",
    "ItemSpec", "Progress", "ScoreRow", "ScoreSpec", "TextRow", "WideLayout", "bundle_parts",
    "instrument_spec", "safe_names", "write_export",
]


@dataclass(frozen=True)
class ExportFormat:
    name: str
    filename: str
    media_type: str
    label: str
    write: Callable[[ExportSource, BinaryIO, Progress | None], int]  # returns rows written


CSV = "text/csv; charset=utf-8"
_FILES = [
    ExportFormat("long", "long.csv", CSV, "Long CSV (one row per answer)", write_long),
    ExportFormat("wide", "wide.csv", CSV, "Wide CSV (one row per participant)", write_wide),
    ExportFormat("scores", "scores.csv", CSV, "Scores only (CSV)", write_scores),
    ExportFormat("parquet", "answers.parquet", "application/vnd.apache.parquet",
                 "Parquet (one row per answer)", write_parquet),
    ExportFormat("sav", "wide.sav", "application/x-spss-sav", "SPSS (.sav, wide)", write_sav),
    ExportFormat("dta", "wide.dta", "application/x-stata-dta", "Stata (.dta, wide)", write_dta),
    ExportFormat("codebook", "codebook.csv", CSV, "Codebook (CSV)", write_codebook_csv),
    ExportFormat("codebook-html", "codebook.html", "text/html; charset=utf-8",
                 "Codebook (HTML)", write_codebook_html),
]
TEXTS = ExportFormat("texts", "texts.csv", CSV, "Free text (CSV)", write_texts)
# Only in the bundle: the scripts read its other files, the tables sit beside them.
ANALYSIS = [Part("analysis-r", "analysis.R", write_analysis_r),
            Part("analysis-sps", "analysis.sps", write_analysis_sps),
            Part("apa-table", "apa_table.csv", write_apa_csv),
            Part("apa-table-md", "apa_table.md", write_apa_markdown)]


def bundle_parts(source: ExportSource) -> list[Part]:
    """Every file, plus the free text only when the source carries it (study and consent allow)."""
    formats = [*_FILES, TEXTS] if source.texts is not None else _FILES
    return [*(Part(fmt.name, fmt.filename, fmt.write) for fmt in formats), *ANALYSIS]


def _write_bundle(source: ExportSource, out: BinaryIO, progress: Progress | None) -> int:
    return write_bundle(source, out, progress, bundle_parts(source))


FORMATS: dict[str, ExportFormat] = {fmt.name: fmt for fmt in [
    *_FILES,
    ExportFormat("bundle", "export.zip", "application/zip",
                 "Everything in one zip, with a manifest", _write_bundle),
]}


def write_export(source: ExportSource, fmt: str, out: BinaryIO,
                 progress: Progress | None = None) -> int:
    """Writes `source` as format `fmt` to `out` and returns the rows written (for the
    bundle: the answers). The bundle needs a seekable `out`."""
    try:
        export_format = FORMATS[fmt]
    except KeyError:
        raise ExportError(f"unknown export format {fmt!r}; choose one of "
                          f"{', '.join(FORMATS)}") from None
    return export_format.write(source, out, progress)
