"""`telos research outcomes` at the issue's target size, beside a same-run baseline.

10,000 participants x 20 battery scores x 2 waves (an exported scores file, about
400,000 rows; 3% of the post values missing) and, for `--answers`, their answers.
Every case runs in a process of its own; the parent takes its wall time and peak RSS
from `os.wait4`, so the figures cover the whole process, imports included. The
baseline process reads the same file with `pyarrow.csv.read_csv`, pairs pre with post
in pandas and runs `scipy.stats.ttest_rel` per variable. The `work` column is the
command's own time after its imports (measured inside the process).

    .venv/bin/python -m bench.outcomes [--participants 10000] [--cases cli,baseline]

To add a case: write `case_<name>(files) -> float | None` (the seconds of its own work,
or None) and list it in CASES.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

VARIABLES = 20
WAVES = ("pre", "post")
DAYS = {"pre": 0, "post": 70}
GOALS = {"cli": "< 2x baseline, work < 1 s, < 300 MB",
         "mixed": "work < 30 s (20 variables)",
         "mixed_statsmodels": "the same model, 2 of the 20 variables"}
MIXED_PARTICIPANTS = 10_000
MIXED_WAVES = ("pre", "post", "followup")


@dataclass(frozen=True)
class Files:
    scores: Path
    answers: Path
    parquet: Path


def battery_scores() -> list[tuple[str, str, list[str]]]:
    """The first 20 (instrument, score) pairs of the battery, with their items."""
    from app.surveys.definitions import load_battery

    found = []
    for instrument in load_battery().values():
        for score in instrument.scores:
            found.append((instrument.id, score.name,
                          [item.id for item in instrument.items_of(score)]))
    return found[:VARIABLES]


def generate(directory: Path, participants: int) -> Files:
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(20261203)
    files = Files(directory / "scores.csv", directory / "answers.csv",
                  directory / "scores.parquet")
    chosen = battery_scores()
    with files.scores.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["participant", "wave", "days_since_enrolment", "instrument",
                         "instrument_version", "score", "value"])
        for index, (instrument, score, _items) in enumerate(chosen):
            before = np.round(rng.normal(20, 4, participants), 2)
            after = np.round(before + 0.1 * (index % 5) + rng.normal(0, 3, participants), 2)
            dropped = rng.random(participants) < 0.03
            for person in range(participants):
                pseudonym = f"P{person:06d}"
                writer.writerow([pseudonym, "pre", 0, instrument, "1", score, before[person]])
                writer.writerow([pseudonym, "post", 70, instrument, "1", score,
                                 "" if dropped[person] else after[person]])
    _answers(files.answers, participants, chosen, rng)
    pq.write_table(pa_csv.read_csv(files.scores), files.parquet)
    return files


def _answers(path: Path, participants: int, chosen: list[tuple[str, str, list[str]]],
             rng: np.random.Generator) -> None:
    from app.surveys.definitions import load_battery

    battery = load_battery()
    instruments = dict.fromkeys(instrument for instrument, _score, _items in chosen)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["participant", "wave", "days_since_enrolment", "instrument",
                         "instrument_version", "item", "value"])
        for key in instruments:
            definition = battery[key]
            for item in definition.items:
                options = [option.value for option in definition.options_of(item)]
                picks = rng.integers(0, len(options), (len(WAVES), participants))
                for wave_index, wave in enumerate(WAVES):
                    for person in range(participants):
                        writer.writerow([f"P{person:06d}", wave, DAYS[wave], key, "1", item.id,
                                         options[picks[wave_index, person]]])


# --- the cases, each run in a child process -----------------------------------------------


def case_cli(files: Files) -> float:
    """The command as `telos research outcomes scores.csv` runs it; work timed after imports."""
    return _cli(files.scores)


def case_cli_parquet(files: Files) -> float:
    return _cli(files.parquet)


def case_cli_answers(files: Files) -> float:
    return _cli(files.scores, "--answers", str(files.answers))


def _cli(*args: object) -> float:
    import contextlib
    import io

    import pandas  # noqa: F401 - pyarrow loads it at its first conversion; an import too

    import app.research.answers_file
    import app.research.scores_file  # noqa: F401
    from app.cli import cli
    from app.research.outcomes import analyse  # noqa: F401

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        cli(["research", "outcomes", *map(str, args)], standalone_mode=False)
    return time.perf_counter() - start


def case_baseline(files: Files) -> float:
    """What a researcher would write by hand: read, pair in pandas, ttest_rel per variable."""
    import pyarrow.csv as pa_csv
    from scipy import stats

    start = time.perf_counter()
    frame = pa_csv.read_csv(files.scores).to_pandas()
    frame["variable"] = frame["instrument"] + "." + frame["score"]
    wide = frame.pivot_table(index=["variable", "participant"], columns="wave",
                             values="value").dropna()
    for _variable, pairs in wide.groupby(level="variable"):
        stats.ttest_rel(pairs["pre"], pairs["post"])
    return time.perf_counter() - start


def mixed_frame(participants: int = MIXED_PARTICIPANTS):  # -> pandas.DataFrame
    """20 variables x 3 waves, a random intercept per participant; 10% of the post and
    20% of the follow-up values missing."""
    import pandas

    rng = np.random.default_rng(20261205)
    people = np.array([f"P{person:06d}" for person in range(participants)], dtype=object)
    parts = []
    for index in range(VARIABLES):
        person = rng.normal(20, 3, participants)
        for wave_index, (wave, missing) in enumerate(zip(MIXED_WAVES, (0, 0.1, 0.2),
                                                         strict=True)):
            values = person + 0.1 * (index % 5) * wave_index + rng.normal(0, 2, participants)
            values[rng.random(participants) < missing] = np.nan
            parts.append(pandas.DataFrame({"participant": people, "wave": wave,
                                           "variable": f"v{index:02d}", "value": values}))
    return pandas.concat(parts, ignore_index=True)


def case_mixed(files: Files) -> float:
    """`analyse_waves` as the report and `--waves` call it: the exact REML fit per variable
    (`app.research.mixed.fit_mixed`), progress per variable on stderr; the data are made
    before the clock starts."""
    from app.research.mixed import analyse_waves

    frame = mixed_frame()
    start = time.perf_counter()

    def progress(index: int, total: int, variable: str) -> None:
        print(f"  mixed model {index}/{total}: {variable} "
              f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)

    analyse_waves(frame, MIXED_WAVES, progress=progress)
    return time.perf_counter() - start


STATSMODELS_VARIABLES = 2


def case_mixed_statsmodels(files: Files) -> float:
    """The reference the mixed case is measured against: statsmodels' `MixedLM(...)
    .fit(reml=True)` on the same frame, the same design, for the first
    STATSMODELS_VARIABLES variables only (about 4 s each at 10,000 participants); compare
    per variable."""
    import pandas
    from statsmodels.regression.mixed_linear_model import MixedLM

    frame = mixed_frame().dropna()
    start = time.perf_counter()
    for variable, rows in frame.groupby("variable"):
        if variable >= f"v{STATSMODELS_VARIABLES:02d}":
            break
        codes = pandas.factorize(rows["participant"])[0]
        wave = rows["wave"].to_numpy()
        design = np.column_stack([np.ones(len(rows))] + [(wave == w).astype(float)
                                                         for w in MIXED_WAVES[1:]])
        MixedLM(rows["value"].to_numpy(dtype=float), design, groups=codes).fit(reml=True)
    return time.perf_counter() - start


CASES: dict[str, Callable[[Files], float | None]] = {
    "baseline": case_baseline,
    "cli": case_cli,
    "cli_parquet": case_cli_parquet,
    "cli_answers": case_cli_answers,
    "mixed": case_mixed,
    "mixed_statsmodels": case_mixed_statsmodels,
}


# --- measuring ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    wall: float
    cpu: float
    peak_mb: float
    work: float | None


def measure(case: str, files: Files) -> Measured:
    command = [sys.executable, "-m", "bench.outcomes", "--child", case, "--scores",
               str(files.scores), "--answers", str(files.answers), "--parquet",
               str(files.parquet)]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"case {case} failed with exit code {child.returncode}")
    work = json.loads(output.strip().splitlines()[-1])["work"]
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, work)


def run_child(case: str, files: Files) -> None:
    work = CASES[case](files)
    print(json.dumps({"work": work}))


def report(participants: int, results: dict[str, Measured]) -> None:
    baseline = results.get("baseline")
    print(f"{'case':14} {'wall s':>7} {'CPU s':>6} {'work s':>7} {'peak MB':>8} "
          f"{'x baseline':>10}  goal")
    for name, found in results.items():
        ratio = f"{found.wall / baseline.wall:10.2f}" if baseline else f"{'':10}"
        work = "" if found.work is None else f"{found.work:.2f}"
        print(f"{name:14} {found.wall:7.2f} {found.cpu:6.2f} {work:>7} {found.peak_mb:8.0f} "
              f"{ratio}  {GOALS.get(name, '')}")
    mixed, reference = results.get("mixed"), results.get("mixed_statsmodels")
    if mixed and reference and mixed.work and reference.work:
        ours, theirs = mixed.work / VARIABLES, reference.work / STATSMODELS_VARIABLES
        print(f"\nmixed model per variable ({MIXED_PARTICIPANTS:,} participants x "
              f"{len(MIXED_WAVES)} waves): Telos {ours * 1000:.0f} ms, statsmodels MixedLM "
              f"{theirs * 1000:.0f} ms, {theirs / ours:.0f}x")
    print(f"\n{participants:,} participants x {VARIABLES} variables x {len(WAVES)} waves; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the end")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--child")
    parser.add_argument("--scores", type=Path)
    parser.add_argument("--answers", type=Path)
    parser.add_argument("--parquet", type=Path)
    arguments = parser.parse_args()
    if arguments.child:
        run_child(arguments.child, Files(arguments.scores, arguments.answers,
                                         arguments.parquet))
        return
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        files = generate(Path(directory), arguments.participants)
        rows = sum(1 for _ in files.scores.open(encoding="utf-8")) - 1
        print(f"generated {rows:,} score rows in {time.perf_counter() - started:.1f} s; "
              "each case in its own process\n")
        results = {case: measure(case, files) for case in arguments.cases.split(",")}
    report(arguments.participants, results)


if __name__ == "__main__":
    main()
