"""Every module that declares tasks, imported in one place so a worker knows them all."""

import app.accounts.tasks
import app.community.circle_tasks
import app.community.invite_tasks
import app.jobs.housekeeping
import app.journeys.tasks
import app.mail
import app.matching.tasks
import app.reminders.tasks
import app.research.tasks  # noqa: F401
