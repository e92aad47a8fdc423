"""Analysis syntax for the bundle: an R script and an SPSS syntax file written for the
study's own scores and waves, which refit Telos's paired tests and mixed models from the
exported files (see docs/research.md)."""

import json
from dataclasses import dataclass
from typing import BinaryIO

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.research.exporting.columns import WideLayout, shorten
from app.research.exporting.model import ExportSource, Progress
from app.settings import ROOT


@dataclass(frozen=True)
class Variable:
    """One score: its name in Telos's reports, and where the exported files hold it."""

    name: str
    instrument: str
    score: str
    label: str
    sav_names: dict[str, str]  # wave → column of wide.sav, for the waves that asked it


def variables(source: ExportSource) -> list[Variable]:
    layout = WideLayout(source)
    names = layout.sav_names
    found = []
    for spec in source.instruments:
        for score in spec.scores:
            columns = {wave: names[layout.score_cells[wave, spec.key, score.name]]
                       for wave in source.waves
                       if (wave, spec.key, score.name) in layout.score_cells}
            found.append(Variable(f"{spec.key}.{score.name}", spec.key, score.name,
                                  score.label, columns))
    return found


def _r_string(text: str) -> str:
    # JSON's escapes (\", \\, \n, \u0001) are R's too; other characters stay as they are.
    return json.dumps(text, ensure_ascii=False)


def _sps_string(text: str) -> str:
    return "'" + shorten(_one_line(text), max_bytes=120).replace("'", "''") + "'"


def _one_line(text: str) -> str:
    """For a comment: a line break in a study's name would end it and start code."""
    return " ".join(text.split())


_environment = Environment(loader=FileSystemLoader(ROOT / "templates"),
                           autoescape=select_autoescape(["html"]), keep_trailing_newline=True,
                           trim_blocks=True, lstrip_blocks=True)
_environment.filters.update(r=_r_string, sps=_sps_string, line=_one_line)


def _write(template: str, source: ExportSource, out: BinaryIO) -> int:
    found = variables(source)
    waves = list(source.waves)
    paired = [v for v in found if len(waves) >= 2 and waves[0] in v.sav_names
              and waves[1] in v.sav_names]
    text = _environment.get_template(template).render(
        study=source.study, waves=waves, variables=found, paired=paired)
    out.write(text.encode())
    return len(found)


def write_analysis_r(source: ExportSource, out: BinaryIO,
                     progress: Progress | None = None) -> int:
    return _write("research/syntax/analysis.R.j2", source, out)


def write_analysis_sps(source: ExportSource, out: BinaryIO,
                       progress: Progress | None = None) -> int:
    return _write("research/syntax/analysis.sps.j2", source, out)
