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
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyreadstat

from app.research.exporting.columns import Column, WideLayout, shorten
from app.research.exporting.model import (
    DECLINED_CELL,
    DECLINED_LABEL,
    STATA_DECLINED,
    ExportSource,
    Progress,
    declined_code,
)
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
    names = kind.names(layout)
    frame, declined = _frame(source, layout, names, progress)
    labels: list[str | None] = [kind.label(column.label) for column in layout.columns]
    value_labels = _value_labels(layout, kind)
    items = {name: column.item for name, column in zip(names, layout.columns, strict=True)
             if column.item is not None}
    with tempfile.TemporaryDirectory(prefix="telos-export-") as directory:
        path = Path(directory) / f"export{kind.suffix}"
        if kind is SAV:
            _mark_declined(frame, declined, {name: declined_code(item)
                                             for name, item in items.items()})
            measures = {name: _measure(column)
                        for name, column in zip(frame.columns, layout.columns, strict=True)}
            pyreadstat.write_sav(frame, path, file_label=shorten(source.study, max_bytes=64),
                                 column_labels=labels, variable_value_labels=value_labels,
                                 variable_measure=measures,
                                 missing_ranges={name: [declined_code(item)]
                                                 for name, item in items.items()})
        else:
            _mark_declined(frame, declined, dict.fromkeys(items, STATA_DECLINED))
            pyreadstat.write_dta(frame, path, file_label=shorten(source.study, max_chars=80),
                                 column_labels=labels, variable_value_labels=value_labels,
                                 missing_user_values={key: [STATA_DECLINED] for key in items})
        with path.open("rb") as written:
            shutil.copyfileobj(written, out, 1 << 20)
    return len(frame)


def _frame(source: ExportSource, layout: WideLayout, names: list[str],
           progress: Progress | None) -> tuple[pd.DataFrame, dict[str, list[int]]]:
    """The wide rows as a frame, and per column the rows whose item was declined."""
    numeric = [index for index, column in enumerate(layout.columns) if column.numeric]
    text = [index for index, column in enumerate(layout.columns) if not column.numeric]
    chunks: list[np.ndarray] = []
    strings: list[list[str]] = [[] for _ in text]
    pending: list[list[float]] = []
    declined: dict[str, list[int]] = {}
    for row, record in enumerate(wide_records(source, layout)):
        if DECLINED_CELL in record:  # a C-speed scan; most rows have none
            for index, value in enumerate(record):
                if value is DECLINED_CELL:
                    declined.setdefault(names[index], []).append(row)
        pending.append([np.nan if record[i] is None or record[i] is DECLINED_CELL  # type: ignore[misc]
                        else record[i] for i in numeric])
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
    return pd.DataFrame({names[index]: data[index] for index in range(len(names))}), declined


def _mark_declined(frame: pd.DataFrame, declined: dict[str, list[int]],
                   codes: Mapping[str, float | str]) -> None:
    for name, rows in declined.items():
        code = codes[name]
        if isinstance(code, str):
            frame[name] = frame[name].astype(object)
        frame.loc[rows, name] = code


def _value_labels(layout: WideLayout, kind: StatFormat) -> dict[str, dict[Any, str]]:
    """Each item's labels, with its declined value (a code, or Stata's `.a`) labelled too."""
    names = kind.names(layout)
    value_labels: dict[str, dict[Any, str]] = {}
    for name, column in zip(names, layout.columns, strict=True):
        if column.item is None or not column.item.value_labels:
            continue
        labels = column.item.value_labels
        if kind is DTA:
            value_labels[name] = {int(value): kind.value_label(text)
                                  for value, text in labels.items()
                                  } if dta_value_labels(labels) else {}
            value_labels[name][STATA_DECLINED] = DECLINED_LABEL
        else:
            value_labels[name] = {float(value): kind.value_label(text)
                                  for value, text in labels.items()}
            value_labels[name][declined_code(column.item)] = DECLINED_LABEL
    return value_labels


def _measure(column: Column) -> str:
    if column.kind == "item":
        return "ordinal" if column.item is not None and column.item.numeric else "nominal"
    return "scale" if column.numeric else "nominal"
