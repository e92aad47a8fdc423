"""SPSS `.sav` and Stata `.dta`: the wide layout with variable and value labels.

pyreadstat writes a whole DataFrame to a path, so the wide rows are gathered into one
float matrix (participants by numeric columns: 10,000 by a few hundred is tens of MB),
written to a temporary file and copied to `out`.
"""

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyreadstat

from app.research.exporting.columns import Column, WideLayout, shorten
from app.research.exporting.model import ExportSource, Progress
from app.research.exporting.tables import wide_records

CHUNK = 2_048
STATA_INT = 2_147_483_620  # Stata's largest labelable long is a little under 2**31


@dataclass(frozen=True)
class StatFormat:
    suffix: str
    names: Callable[[WideLayout], list[str]]
    label: Callable[[str], str]
    value_label: Callable[[str], str]


SAV = StatFormat(".sav", lambda layout: layout.sav_names,
                 lambda text: shorten(text, max_bytes=256),
                 lambda text: shorten(text, max_bytes=120))
DTA = StatFormat(".dta", lambda layout: layout.dta_names,
                 lambda text: shorten(text, max_chars=80),
                 lambda text: shorten(text, max_chars=32_000))


def dta_value_labels(values: Mapping[float, str]) -> bool:
    """Stata labels whole numbers only; any other option value gets no labels at all
    rather than a label on a rounded value that was never given."""
    return all(float(value).is_integer() and abs(value) <= STATA_INT for value in values)


def write_sav(source: ExportSource, out: BinaryIO, progress: Progress | None = None) -> int:
    return _write(source, out, progress, SAV)


def write_dta(source: ExportSource, out: BinaryIO, progress: Progress | None = None) -> int:
    return _write(source, out, progress, DTA)


def _write(source: ExportSource, out: BinaryIO, progress: Progress | None,
           kind: StatFormat) -> int:
    layout = WideLayout(source)
    frame = _frame(source, layout, kind.names(layout), progress)
    labels: list[str | None] = [kind.label(column.label) for column in layout.columns]
    value_labels = _value_labels(layout, kind)
    with tempfile.TemporaryDirectory(prefix="telos-export-") as directory:
        path = Path(directory) / f"export{kind.suffix}"
        if kind is SAV:
            measures = {name: _measure(column)
                        for name, column in zip(frame.columns, layout.columns, strict=True)}
            pyreadstat.write_sav(frame, path, file_label=shorten(source.study, max_bytes=64),
                                 column_labels=labels, variable_value_labels=value_labels,
                                 variable_measure=measures)
        else:
            pyreadstat.write_dta(frame, path, file_label=shorten(source.study, max_chars=80),
                                 column_labels=labels, variable_value_labels=value_labels)
        with path.open("rb") as written:
            shutil.copyfileobj(written, out, 1 << 20)
    return len(frame)


def _frame(source: ExportSource, layout: WideLayout, names: list[str],
           progress: Progress | None) -> pd.DataFrame:
    numeric = [index for index, column in enumerate(layout.columns) if column.numeric]
    text = [index for index, column in enumerate(layout.columns) if not column.numeric]
    chunks: list[np.ndarray] = []
    strings: list[list[str]] = [[] for _ in text]
    pending: list[list[float]] = []
    for record in wide_records(source, layout):
        pending.append([np.nan if record[i] is None else record[i] for i in numeric])  # type: ignore[misc]
        for column, index in zip(strings, text, strict=True):
            column.append(record[index] or "")  # type: ignore[arg-type]
        if len(pending) == CHUNK:
            chunks.append(np.array(pending, dtype=np.float64))
            pending = []
            if progress is not None:
                progress.advance(CHUNK)
    if pending:
        chunks.append(np.array(pending, dtype=np.float64))
        if progress is not None:
            progress.advance(len(pending))
    matrix = np.concatenate(chunks) if chunks else np.empty((0, len(numeric)))
    data: dict[int, object] = {index: matrix[:, position]
                               for position, index in enumerate(numeric)}
    data.update({index: pd.Series(values, dtype=object) for index, values in zip(text, strings,
                                                                                 strict=True)})
    return pd.DataFrame({names[index]: data[index] for index in range(len(names))})


def _value_labels(layout: WideLayout, kind: StatFormat) -> dict[str, dict[int | float, str]]:
    names = kind.names(layout)
    value_labels: dict[str, dict[int | float, str]] = {}
    for name, column in zip(names, layout.columns, strict=True):
        if column.item is None or not column.item.value_labels:
            continue
        labels = column.item.value_labels
        if kind is DTA:
            if not dta_value_labels(labels):
                continue
            value_labels[name] = {int(value): kind.value_label(text)
                                  for value, text in labels.items()}
        else:
            value_labels[name] = {float(value): kind.value_label(text)
                                  for value, text in labels.items()}
    return value_labels


def _measure(column: Column) -> str:
    if column.kind == "item":
        return "ordinal" if column.item is not None and column.item.numeric else "nominal"
    return "scale" if column.numeric else "nominal"
