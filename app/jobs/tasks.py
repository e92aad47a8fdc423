"""Every module that declares tasks, imported in one place so a worker knows them all."""

import app.accounts.tasks
import app.jobs.housekeeping
import app.mail  # noqa: F401
