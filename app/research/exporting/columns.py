"""The columns of the wide file, and the names SPSS and Stata can hold.

The column set comes from the specs and waves alone, before any row is read, so the
wide writers can stream one participant at a time.
"""

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from app.research.exporting.model import (
    ExportError,
    ExportSource,
    InstrumentSpec,
    ItemSpec,
    ScoreSpec,
)


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: str  # "participant" | "days" | "version" | "item" | "score"
    wave: str | None = None
    instrument: InstrumentSpec | None = None
    item: ItemSpec | None = None
    score: ScoreSpec | None = None
    parts: tuple[str, ...] = ()  # wave, instrument, item: what to keep when names must be short

    @property
    def numeric(self) -> bool:
        return self.kind in ("days", "item", "score")


STATA_NAME_MAX = 27


class WideLayout:
    """Columns in order: participant, then per wave its days, and per instrument its
    version, items and scores."""

    def __init__(self, source: ExportSource) -> None:
        self.columns: list[Column] = [Column("participant", "Participant (pseudonym)",
                                             "participant")]
        self.days: dict[str, int] = {}
        self.versions: dict[tuple[str, str], int] = {}
        self.cells: dict[tuple[str, str, str], int] = {}  # (wave, instrument, item) → index
        self.score_cells: dict[tuple[str, str, str], int] = {}
        self._taken = {"participant"}
        for wave in source.waves:
            self.days[wave] = self._add(Column(
                f"{wave}_days", f"Days from enrolment to the {wave} wave (earliest response)",
                "days", wave))
            for spec in _instruments_of(source, wave):
                self._add_instrument(wave, spec)

    def _add(self, column: Column) -> int:
        # Nothing stops an instrument having an item and a score both called `hope`, or
        # an item called `version`; the later column then says what it is.
        if column.name in self._taken:
            column = replace(column, name=f"{column.name}_{column.kind}",
                             parts=(*column.parts[:2], f"{column.parts[2]}_{column.kind}"))
        if column.name in self._taken:
            raise ExportError(f"two columns of the wide file would be called {column.name!r}")
        self._taken.add(column.name)
        self.columns.append(column)
        return len(self.columns) - 1

    def _add_instrument(self, wave: str, spec: InstrumentSpec) -> None:
        prefix = f"{wave}_{spec.key}"
        self.versions[wave, spec.key] = self._add(Column(
            f"{prefix}_version", f"Version of {spec.title} answered in the {wave} wave",
            "version", wave, spec, parts=(wave, spec.key, "version")))
        for item in spec.items:
            self.cells[wave, spec.key, item.id] = self._add(Column(
                f"{prefix}_{item.id}", item.text, "item", wave, spec, item=item,
                parts=(wave, spec.key, item.id)))
        for score in spec.scores:
            self.score_cells[wave, spec.key, score.name] = self._add(Column(
                f"{prefix}_{score.name}", score.label, "score", wave, spec, score=score,
                parts=(wave, spec.key, score.name)))

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @cached_property
    def sav_names(self) -> list[str]:
        return safe_names(self._short_parts(64), limit=64, reserved=SPSS_RESERVED)

    @cached_property
    def dta_names(self) -> list[str]:
        # Stata allows 32 characters, but pyreadstat names each value-label set after its
        # variable plus a running number, and that name must fit in 32 too: 27 leaves room
        # for five digits.
        return safe_names(self._short_parts(STATA_NAME_MAX), limit=STATA_NAME_MAX,
                          reserved=STATA_RESERVED)

    def _short_parts(self, limit: int) -> list[tuple[str, ...]]:
        """Each instrument key cut to one length across all its columns, so that in
        Stata `pre_career_deci_plan` and `followup_career_deci_hold_course` read alike."""
        room: dict[str, int] = {}
        for column in self.columns:
            if column.parts:
                wave, key, name = column.parts
                space = limit - len(wave) - len(name) - 2
                # A name too long even beside a 4-letter key is cut at its end instead.
                room[key] = min(room.get(key, limit), space if space >= 4 else limit)
        return [(column.parts[0], _abbreviate(column.parts[1], room[column.parts[1]]),
                 column.parts[2]) if column.parts else (column.name,)
                for column in self.columns]


def _instruments_of(source: ExportSource, wave: str) -> list[InstrumentSpec]:
    if source.wave_instruments is None:
        return list(source.instruments)
    keys = source.wave_instruments.get(wave, ())
    by_key = {spec.key: spec for spec in source.instruments}
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise ExportError(f"wave {wave!r} lists instruments without a spec: {', '.join(unknown)}")
    return [by_key[key] for key in keys]


def _abbreviate(key: str, room: int) -> str:
    return key[:max(room, 4)].rstrip("_-") or key[:4]


# Compared case-insensitively: SPSS names ignore case, and a Stata user typing `In`
# for a column should not meet a keyword either.
SPSS_RESERVED = frozenset({"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or",
                           "to", "with"})
STATA_RESERVED = frozenset({"_all", "_b", "byte", "_coef", "_cons", "double", "float", "if",
                            "in", "int", "long", "_n", "_pi", "_pred", "_rc", "_skip", "str",
                            "strl", "using", "with"})


def safe_names(names: Sequence[str | Sequence[str]], *, limit: int,
               reserved: Iterable[str]) -> list[str]:
    """Names of ASCII letters, digits and `_`, starting with a letter, at most `limit`
    long and unique ignoring case; the same input always gives the same names.

    A name given as parts (wave, instrument, item) is shortened in its middle parts
    first, so the wave at the front and the item at the end stay readable."""
    reserved = frozenset(reserved)
    taken: set[str] = set()
    result = []
    for name in names:
        parts = [name] if isinstance(name, str) else list(name)
        candidate = _fit([re.sub(r"[^A-Za-z0-9_]+", "_", part) for part in parts], limit)
        if candidate.lower() in reserved:
            candidate = _fit([candidate, ""], limit)
        if candidate.lower() in taken:
            candidate = _with_hash(candidate, "_".join(parts), limit, taken)
        taken.add(candidate.lower())
        result.append(candidate)
    return result


def _fit(parts: list[str], limit: int) -> str:
    if not re.match(r"[A-Za-z]", parts[0]):
        parts[0] = f"v{parts[0]}"
    while len("_".join(parts)) > limit and len(parts) > 2:
        middle = max(range(1, len(parts) - 1), key=lambda index: len(parts[index]))
        if len(parts[middle]) <= 4:
            break
        parts[middle] = parts[middle][:-1]
    return "_".join(parts)[:limit]


def _with_hash(candidate: str, original: str, limit: int, taken: set[str]) -> str:
    digest = hashlib.sha256(original.encode()).hexdigest()
    for width in range(4, len(digest)):
        tail = f"_{digest[:width]}"
        attempt = candidate[:limit - len(tail)] + tail
        if attempt.lower() not in taken:
            return attempt
    raise ExportError(f"cannot find a unique short name for column {original!r}")


def shorten(text: str, *, max_bytes: int | None = None, max_chars: int | None = None) -> str:
    """`text` cut at a character boundary to fit a file format's label limit."""
    if max_chars is not None:
        text = text[:max_chars]
    if max_bytes is not None:
        text = text.encode()[:max_bytes].decode(errors="ignore")
    return text
