"""Research jobs: export files, the outcome report's cache, and the files' clean-up."""

from datetime import timedelta
from typing import Any

from huey import crontab

from app import jobs
from app.jobs.registry import spec
from app.research import export_files, outcome_cache
from app.research.models import Study
from app.research.report import outcome_report


def _plain_error(error: Exception) -> str:
    return str(error).strip() or type(error).__name__


@jobs.task(export_files.TASK, attempts=3, retry_delay=30.0, lease=timedelta(minutes=30))
def build_export(ctx: jobs.JobContext, *, export_file_id: int) -> dict[str, Any]:
    """Write one export file; run again, it does nothing once the file is ready."""
    with ctx.transaction() as session:
        if export_files.start(session, export_file_id=export_file_id) is None:
            return {"skipped": "nothing to build"}
    directory = export_files.folder(ctx.settings)
    directory.mkdir(parents=True, exist_ok=True)
    try:
        # Reading only: on SQLite this takes no write lock while the file is written.
        with ctx.transaction() as session:
            record = session.get(export_files.ExportFile, export_file_id)
            assert record is not None
            temporary, rows, facts = export_files.write(session, record=record,
                                                        directory=directory)
        with ctx.transaction() as session:
            done = export_files.finish(session, export_file_id=export_file_id,
                                       temporary=temporary, rows=rows, facts=facts,
                                       directory=directory)
    except Exception as error:
        final = ctx.attempt >= spec(export_files.TASK).attempts
        with ctx.transaction() as session:
            export_files.failed(session, export_file_id=export_file_id,
                                error=_plain_error(error), final=final)
        raise
    if done is None:
        return {"skipped": "the record went or was built meanwhile"}
    return {"file": done.file_name, "rows": rows, "bytes": done.size_bytes}


@jobs.task(outcome_cache.TASK, attempts=3, retry_delay=30.0)
def compute_outcomes(ctx: jobs.JobContext, *, study_id: int) -> dict[str, Any]:
    """Compute the study's outcome report and draw its charts, into the cache."""
    from app.research.charts import charts  # matplotlib: only the worker needs it

    with ctx.transaction() as session:
        if session.get(Study, study_id) is None:
            return {"skipped": "no such study"}
        version = outcome_cache.start(session, study_id=study_id)
    try:
        with ctx.transaction() as session:  # reading only
            study = session.get(Study, study_id)
            assert study is not None
            result = outcome_report(session, study)
        drawn = charts(result.report)
        with ctx.transaction() as session:
            kept = outcome_cache.store(session, study_id=study_id, version=version,
                                       participants=result.participants,
                                       report=result.report, reliability=result.reliability,
                                       charts=drawn, waves=result.waves)
    except Exception as error:
        with ctx.transaction() as session:
            outcome_cache.failed(session, study_id=study_id, error=_plain_error(error))
        raise
    return {"study": study_id, "version": version, "kept": kept,
            "participants": result.participants}


@jobs.periodic("research.exports_cleanup", crontab(minute="37"), attempts=3)
def clean_up_exports(ctx: jobs.JobContext) -> dict[str, Any]:
    """Every hour: files past their 7 days go, and so does anything half-written."""
    with ctx.transaction() as session:
        expired = export_files.expire(session, settings=ctx.settings)
        strays = export_files.sweep_strays(session, settings=ctx.settings)
    return {"expired": expired, "strays": strays}
