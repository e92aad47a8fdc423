"""Reference programs the statistics are checked against: R (lme4, lmerTest) and PSPP.

A machine without them skips those tests with the reason; CI installs them (`.ci/run`)
and sets TELOS_REQUIRE_R, so there a missing reference fails instead of skipping."""

import os
import shutil
import subprocess

import pytest

R_PACKAGES = ("lme4", "lmerTest")


def _missing(message: str) -> None:
    if os.environ.get("TELOS_REQUIRE_R"):
        pytest.fail(f"TELOS_REQUIRE_R is set, but {message}", pytrace=False)
    pytest.skip(message)


def require_rscript() -> str:
    """The path of Rscript, with lme4 and lmerTest installed."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        _missing("Rscript is not installed (apt-get install r-base-core r-cran-lme4 "
                 "r-cran-lmertest)")
        raise AssertionError("unreachable")
    check = ";".join(f"library({package})" for package in R_PACKAGES)
    found = subprocess.run([rscript, "-e", check], capture_output=True, text=True, timeout=120)
    if found.returncode != 0:
        _missing(f"R lacks {', '.join(R_PACKAGES)} (apt-get install r-cran-lme4 "
                 f"r-cran-lmertest): {found.stderr.strip()[-200:]}")
    return rscript


def require_pspp() -> str:
    pspp = shutil.which("pspp")
    if pspp is None:
        _missing("PSPP is not installed (apt-get install pspp)")
        raise AssertionError("unreachable")
    return pspp
