"""`telos research outcomes` with the mixed model: --waves, --arms, progress on stderr,
and the model's sections in the --html report."""

import csv
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from app.cli import cli
from app.research.mixed import analyse_waves, frame_of
from app.research.outcomes import Observation

runner = CliRunner()  # click >= 8.2 keeps stderr apart

WAVES = ("pre", "post", "followup")


def three_waves(path: Path, people: int = 40) -> tuple[Path, list[Observation]]:
    rng = np.random.default_rng(5)
    rows: list[Observation] = []
    for variable, shift in (("meaning", 1.0), ("mood", 0.0)):
        for i in range(people):
            person = float(rng.normal(0, 2))
            for wave in WAVES:
                if wave == "followup" and i % 4 == 0:
                    continue
                bump = shift if wave != "pre" else 0.0
                rows.append(Observation(f"P{i:02}", wave, variable,
                                        round(20 + person + bump + float(rng.normal(0, 1)), 2)))
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["participant", "wave", "variable", "value"])
        writer.writerows((o.participant, o.wave, o.variable, o.value) for o in rows)
    return path, rows


def run(*args: str):
    return runner.invoke(cli, ["research", "outcomes", *args])


def test_the_model_runs_over_every_wave_with_progress_per_variable(tmp_path: Path) -> None:
    source, rows = three_waves(tmp_path / "scores.csv")
    html = tmp_path / "report.html"
    result = run(str(source), "--waves", "pre,post,followup", "--html", str(html))
    assert result.exit_code == 0, result.output
    assert "mixed model 1/2: meaning" in result.stderr and "mixed model 2/2: mood" in result.stderr
    expected = analyse_waves(frame_of(rows), WAVES)
    assert expected.summary in result.stdout
    assert "pre → followup" in result.stdout and "Single-group design" in result.stdout
    page = html.read_text(encoding="utf-8")
    assert "the mixed model on everyone (intention to treat)" in page
    assert "the completers' analysis (paired tests)" in page
    assert "Answered followup" in page and "Sensitivity: completers against everyone" in page


def test_arms_from_a_file_compare_the_arms(tmp_path: Path) -> None:
    source, _ = three_waves(tmp_path / "scores.csv")
    arms = tmp_path / "arms.csv"
    arms.write_text("participant,arm\n" + "".join(
        f"P{i:02},{'intervention' if i % 2 else 'comparison'}\n" for i in range(40)),
        encoding="utf-8")
    html = tmp_path / "report.html"
    result = run(str(source), "--arms", str(arms), "--html", str(html))
    assert result.exit_code == 0, result.output
    assert "intervention - comparison change" in result.stdout
    assert "Two-arm design" in result.stdout
    assert "Intervention against comparison" in html.read_text(encoding="utf-8")


def test_bad_waves_and_arms_are_refused_with_the_reason(tmp_path: Path) -> None:
    source, _ = three_waves(tmp_path / "scores.csv")
    result = run(str(source), "--waves", "pre,later")
    assert result.exit_code == 1 and "--waves 'pre,later': give two or more" in result.stderr
    arms = tmp_path / "arms.csv"
    arms.write_text("participant,arm\nP01,placebo\n", encoding="utf-8")
    result = run(str(source), "--arms", str(arms))
    assert result.exit_code == 1 and "arm 'placebo'" in result.stderr


def test_without_waves_or_arms_only_the_paired_analysis_runs(tmp_path: Path) -> None:
    source, _ = three_waves(tmp_path / "scores.csv")
    result = run(str(source))
    assert result.exit_code == 0, result.output
    assert "mixed model" not in result.stderr and "Mixed model" not in result.stdout
