"""The zip bundle: every file of an export and a manifest that lets a reader check them.

Each file is streamed straight into its zip entry through a hashing writer, so the
bundle costs no more memory than its largest single writer.
"""

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

import app
from app.research.exporting.model import ExportSource, Progress

Writer = Callable[[ExportSource, BinaryIO, Progress | None], int]


@dataclass(frozen=True)
class Part:
    format: str
    filename: str
    write: Writer


class HashingWriter(io.BufferedIOBase):
    """Passes bytes on and keeps their SHA-256 and count; `tell` is for pyarrow."""

    def __init__(self, target: BinaryIO) -> None:
        super().__init__()
        self._target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._target.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def tell(self) -> int:
        return self.size


def write_bundle(source: ExportSource, out: BinaryIO, progress: Progress | None,
                 parts: Sequence[Part], *, now: datetime | None = None) -> int:
    """Writes the zip to `out` (which must be seekable) and returns the number of answers."""
    exported_at = (now or datetime.now(UTC)).replace(microsecond=0)
    stamp = exported_at.timetuple()[:6]
    files = []
    answers = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as bundle:
        for part in parts:
            entry = zipfile.ZipInfo(part.filename, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with bundle.open(entry, "w", force_zip64=True) as stream:
                writer = HashingWriter(stream)  # type: ignore[arg-type]
                rows = part.write(source, writer, progress)  # type: ignore[arg-type]
            answers = rows if part.format == "long" else answers
            files.append({"name": part.filename, "format": part.format, "rows": rows,
                          "bytes": writer.size, "sha256": writer.digest.hexdigest()})
        manifest = _manifest(source, exported_at, files)
        info = zipfile.ZipInfo("manifest.json", date_time=stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        bundle.writestr(info, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return answers


def _manifest(source: ExportSource, exported_at: datetime, files: list[dict[str, object]],
              ) -> dict[str, object]:
    return {
        "study": source.study,
        "exported_at": exported_at.isoformat().replace("+00:00", "Z"),
        "app_version": app.__version__,
        "filters": dict(source.filters),
        "waves": list(source.waves),
        "instruments": [{"key": spec.key, "version": spec.version,
                         "versions": list(spec.all_versions), "title": spec.title}
                        for spec in source.instruments],
        "files": files,
    }
