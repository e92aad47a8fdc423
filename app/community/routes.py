"""Managers run cohorts; members join one by its invitation link."""

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from app.accounts import consent
from app.audit import service as audit
from app.clock import now
from app.community import dashboard
from app.community import service as community
from app.community.forms import CohortForm
from app.deps import FormDep, ManagerUser, MemberUser, SessionDep, SettingsDep, Visitor
from app.forms import kept, validate
from app.journeys import service as journeys
from app.journeys import statements
from app.reminders import service as reminders
from app.web import redirect, render, settings_of

router = APIRouter()


def _cohorts_page(request: Request, session: SessionDep, **context: object) -> Response:
    quiet = settings_of(request).nudge_after_days
    return render(request, "community/cohorts.html", {
        "cohorts": community.cohorts(session), "journeys": journeys.available_journeys(session),
        "headlines": dashboard.headlines(session, quiet_days=quiet, moment=now()),
        "quiet_days": quiet, "values": {}, "errors": {}, **context,
    }, status_code=400 if context.get("errors") else 200)


@router.get("/cohorts")
def cohorts_page(request: Request, manager: ManagerUser, session: SessionDep) -> Response:
    return _cohorts_page(request, session)


@router.post("/cohorts")
def create_cohort(
    request: Request, manager: ManagerUser, session: SessionDep, form: FormDep
) -> Response:
    data, errors = validate(CohortForm, form)
    keys = {version.journey_key for version in journeys.available_journeys(session)}
    if data is not None and data.journey not in keys:
        errors = {"journey": "Choose one of the loaded journeys."}
    if data is None or errors:
        return _cohorts_page(request, session, values=kept(form), errors=errors)
    cohort = community.create_cohort(
        session, name=data.name, journey_key=data.journey, starts_on=data.starts_on,
        ends_on=data.ends_on, created_by_id=manager.user.id,
    )
    return redirect(request, f"/cohorts/{cohort.id}",
                    message=f"Cohort “{cohort.name}” created. Share its invitation link.")


@router.get("/cohorts/{cohort_id}")
def cohort_page(
    request: Request, manager: ManagerUser, session: SessionDep, cohort_id: int
) -> Response:
    cohort = community.get_cohort(session, cohort_id)
    quiet, moment = settings_of(request).nudge_after_days, now()
    return render(request, "community/cohort.html", {
        "cohort": cohort, "members": community.cohort_progress(session, cohort_id),
        "link": f"{request.app.state.settings.base_url}/join/{cohort.invite_code}",
        "headline": _headline(session, cohort_id, quiet),
        "funnel": dashboard.funnel(session, cohort=cohort), "quiet_days": quiet,
        "stalled": dashboard.stalled(session, cohort=cohort, quiet_days=quiet, moment=moment),
        "loads": dashboard.mentor_loads(session, cohort=cohort),
        "circles": dashboard.circle_activity(session, cohort=cohort, moment=moment),
        "activity_weeks": dashboard.ACTIVITY_WEEKS,
    })


def _headline(session: SessionDep, cohort_id: int, quiet: int) -> dashboard.Headline:
    counts = dashboard.headlines(session, quiet_days=quiet, moment=now(), cohort_id=cohort_id)
    return counts.get(cohort_id, dashboard.Headline())


@router.post("/cohorts/{cohort_id}/stalled/{enrolment_id}/nudge")
def nudge(
    request: Request, manager: ManagerUser, session: SessionDep, settings: SettingsDep,
    cohort_id: int, enrolment_id: int,
) -> Response:
    cohort = community.get_cohort(session, cohort_id)
    enrolment = dashboard.stalled_enrolment(session, cohort=cohort, enrolment_id=enrolment_id)
    reminder = reminders.nudge_now(session, settings=settings, enrolment=enrolment, moment=now())
    audit.record(session, action="cohort.nudge", actor_id=manager.user.id,
                 target_type="enrolment", target_id=enrolment_id, cohort=cohort_id,
                 reminder=reminder.id)
    return redirect(request, f"/cohorts/{cohort_id}#stalled-heading",
                    message="The nudge is on its way by e-mail.")


@router.get("/cohorts/{cohort_id}/counts.csv")
def export_counts(
    request: Request, manager: ManagerUser, session: SessionDep, settings: SettingsDep,
    cohort_id: int,
) -> Response:
    cohort = community.get_cohort(session, cohort_id)
    quiet = settings.nudge_after_days
    rows = dashboard.csv_rows(headline=_headline(session, cohort_id, quiet),
                              funnel_=dashboard.funnel(session, cohort=cohort),
                              loads=dashboard.mentor_loads(session, cohort=cohort),
                              quiet_days=quiet,
                              circles=dashboard.circle_activity(session, cohort=cohort,
                                                                moment=now()))
    audit.record(session, action="cohort.export", actor_id=manager.user.id,
                 target_type="cohort", target_id=cohort_id, rows=len(rows))
    name = f"cohort-{cohort_id}-counts-{now().date().isoformat()}.csv"
    return StreamingResponse(dashboard.csv_lines(rows),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post("/cohorts/{cohort_id}/link")
def renew_link(
    request: Request, manager: ManagerUser, session: SessionDep, cohort_id: int
) -> Response:
    community.new_code(session, community.get_cohort(session, cohort_id))
    return redirect(request, f"/cohorts/{cohort_id}",
                    message="A new invitation link is ready; the old one no longer works.")


@router.get("/join/{code}")
def join_page(request: Request, visitor: Visitor, session: SessionDep, code: str) -> Response:
    cohort = community.by_code(session, code)
    return render(request, "community/join.html", {
        "cohort": cohort, "code": code,
        "ended": community.ended_message(cohort) if community.has_ended(cohort) else None,
    })


@router.post("/join/{code}")
def join(request: Request, member: MemberUser, session: SessionDep, code: str) -> Response:
    assert member.user.id is not None
    cohort = community.by_code(session, code)
    consent.require_consent(session, user_id=member.user.id, then=f"/join/{code}")
    community.join(session, cohort=cohort, user_id=member.user.id)
    return redirect(request, "/journey", message=f"Welcome to {cohort.name}.")


@router.get("/community")
def community_purposes(request: Request, member: MemberUser, session: SessionDep) -> Response:
    return render(request, "community/purposes.html",
                  {"shared": statements.community_statements(session)})


# The theme list and the content library live beside the cohorts. Their routes are
# appended as they are: include_router would nest them (see app.main._add_routes).
from app.community import content_routes  # noqa: E402

router.routes.extend(content_routes.router.routes)
