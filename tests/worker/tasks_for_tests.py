"""Tasks that exist only for the worker tests: they leave files behind as evidence."""

import time
from pathlib import Path
from typing import Any

from app import jobs


@jobs.task("tests.touch", attempts=2, retry_delay=0.2)
def touch(ctx: jobs.JobContext, *, path: str) -> dict[str, Any]:
    Path(path).write_text(f"job {ctx.job_id} attempt {ctx.attempt}")
    return {"wrote": path}


@jobs.task("tests.fail_once", attempts=3, retry_delay=0.2, backoff=2)
def fail_once(ctx: jobs.JobContext, *, path: str) -> dict[str, Any]:
    if ctx.attempt == 1:
        raise RuntimeError("the first attempt fails on purpose")
    Path(path).write_text(f"attempt {ctx.attempt}")
    return {"attempt": ctx.attempt}


@jobs.task("tests.always_fails", attempts=2, retry_delay=0.1)
def always_fails(ctx: jobs.JobContext) -> None:
    raise ValueError(f"attempt {ctx.attempt} fails too")


@jobs.task("tests.wait_for_gate", attempts=3, retry_delay=0.2)
def wait_for_gate(ctx: jobs.JobContext, *, gate: str, path: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while not Path(gate).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the gate never opened")
        time.sleep(0.05)
    Path(path).write_text(f"attempt {ctx.attempt}")
    return {"attempt": ctx.attempt}
