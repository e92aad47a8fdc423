"""Parquet in the long layout, written in row groups so memory holds one batch."""

from itertools import islice
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from app.research.exporting.model import ExportSource, Progress

BATCH = 65_536
SCHEMA = pa.schema([
    pa.field("participant", pa.string(), nullable=False),
    pa.field("wave", pa.string(), nullable=False),
    pa.field("days_since_enrolment", pa.int32()),
    pa.field("instrument", pa.string(), nullable=False),
    pa.field("instrument_version", pa.string(), nullable=False),
    pa.field("item", pa.string(), nullable=False),
    pa.field("value", pa.float64()),
    pa.field("answer_status", pa.string(), nullable=False),
])


def write_parquet(source: ExportSource, out: BinaryIO, progress: Progress | None = None) -> int:
    rows = ((row.participant, row.wave, row.days_since_enrolment, row.instrument,
             row.instrument_version, row.item, row.value, row.status)
            for row in source.answers())
    metadata = {b"telos.study": source.study.encode()}
    count = 0
    with pq.ParquetWriter(out, SCHEMA.with_metadata(metadata), compression="zstd") as writer:
        while batch := list(islice(rows, BATCH)):
            columns = list(zip(*batch, strict=True))
            writer.write_batch(pa.record_batch(
                [pa.array(values, type=field.type) for values, field in zip(columns, SCHEMA,
                                                                            strict=True)],
                schema=SCHEMA.with_metadata(metadata)))
            count += len(batch)
            if progress is not None:
                progress.advance(len(batch))
    return count
