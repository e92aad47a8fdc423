"""Research export writers on a synthetic study of the issue's target size.

10,000 participants x 3 waves x 5 instruments of 20 items (3 million answers), made
lazily by a generator as the study layer would stream them. Each format runs in a
child process of its own, so its time and peak RSS are its own; the baseline is a
plain `csv.writer` of the same rows with no formatting, measured in the same run.
Wall and CPU seconds are both shown; on a busy machine compare the CPU column.

    .venv/bin/python -m bench.exports [--participants 10000] [--formats long,sav]
"""

import argparse
import csv
import io
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from app.research.exports import (
    FORMATS,
    AnswerRow,
    ExportSource,
    InstrumentSpec,
    ItemSpec,
    ScoreRow,
    ScoreSpec,
    write_export,
)

WAVES = ["pre", "post", "followup"]
DAYS = {"pre": 0, "post": 70, "followup": 160}
OPTIONS = {1.0: "Not at all", 2.0: "A little", 3.0: "Somewhat", 4.0: "Quite a lot",
           5.0: "Very much"}
INSTRUMENTS = [InstrumentSpec(
    key=f"scale-{number}", version="1", title=f"Synthetic scale {number}",
    items=[ItemSpec(f"item_{index:02d}", f"Synthetic statement {index} of scale {number}.",
                    OPTIONS, index % 4 == 0, 1.0, 5.0) for index in range(1, 21)],
    scores=[ScoreSpec("total", f"Synthetic scale {number}: total", "higher", 20.0, 100.0)],
) for number in range(1, 6)]
TARGETS = {"long": "30 s, 500 MB", "sav": "60 s"}


def _value(participant: int, wave: int, item: int) -> float | None:
    mixed = (participant * 2_654_435_761 + wave * 97 + item * 31) % 1_000
    return None if mixed < 15 else float(mixed % 5 + 1)  # 1.5% skipped


def synthetic(participants: int) -> ExportSource:
    def answers() -> Iterator[AnswerRow]:
        for person in range(participants):
            pseudonym = f"P{person:07d}"
            for wave_index, wave in enumerate(WAVES):
                days = DAYS[wave] + person % 9
                for spec_index, spec in enumerate(INSTRUMENTS):
                    for item_index, item in enumerate(spec.items):
                        yield AnswerRow(pseudonym, wave, days, spec.key, spec.version, item.id,
                                        _value(person, wave_index, spec_index * 20 + item_index))

    def scores() -> Iterator[ScoreRow]:
        for person in range(participants):
            for wave_index, wave in enumerate(WAVES):
                for spec in INSTRUMENTS:
                    yield ScoreRow(f"P{person:07d}", wave, DAYS[wave] + person % 9, spec.key,
                                   spec.version, "total", float(40 + (person + wave_index) % 50))

    return ExportSource(study="Synthetic benchmark study", waves=WAVES, instruments=INSTRUMENTS,
                        answers=answers, scores=scores, filters={"cohort": "all"})


def plain_csv(source: ExportSource, out: BinaryIO) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\n")
    rows = [0]

    def plain() -> Iterator[tuple[object, ...]]:
        for row in source.answers():
            rows[0] += 1
            yield (row.participant, row.wave, row.days_since_enrolment, row.instrument,
                   row.instrument_version, row.item, row.value)

    writer.writerows(plain())
    text.flush()
    text.detach()
    return rows[0]


def child(case: str, participants: int) -> None:
    source = synthetic(participants)
    with tempfile.TemporaryDirectory() as directory, \
            (Path(directory) / "out").open("w+b") as out:
        start, before = time.perf_counter(), _cpu()
        rows = plain_csv(source, out) if case == "baseline" else write_export(source, case, out)
        seconds, cpu = time.perf_counter() - start, _cpu() - before
        size = out.tell()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rows": rows, "bytes": size,
                      "peak_mb": peak}))


def _cpu() -> float:
    """CPU seconds of this process: unlike wall time, other work on the machine barely
    moves it, so runs on a busy machine still compare."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(case: str, participants: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-m", "bench.exports", "--child", case,
                           "--participants", str(participants)],
                          check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--child")
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child, arguments.participants)
        return
    count = arguments.participants
    print(f"{count:,} participants x {len(WAVES)} waves x 100 items = "
          f"{count * len(WAVES) * 100:,} answers; each case in its own process\n")
    baseline = measure("baseline", count)
    cases = [("plain csv.writer (baseline)", "baseline", count, baseline)]
    small = max(1, count // 10)
    cases.append((f"long, {small:,} participants", "long", small, measure("long", small)))
    for name in arguments.formats.split(","):
        cases.append((name, name, count, measure(name, count)))
    print(f"{'case':30} {'rows':>10} {'MB out':>7} {'wall s':>7} {'CPU s':>7} "
          f"{'CPU x base':>10} {'peak RSS MB':>11}  target")
    for label, name, _, result in cases:
        print(f"{label:30} {result['rows']:10,} {result['bytes'] / 1e6:7.1f} "
              f"{result['seconds']:7.1f} {result['cpu']:7.1f} "
              f"{result['cpu'] / baseline['cpu']:10.2f} {result['peak_mb']:11.0f}  "
              f"{TARGETS.get(name, '') if label == name else ''}")


if __name__ == "__main__":
    main()
