"""Managers run cohorts; members join one by its invitation link."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts import consent
from app.community import service as community
from app.community.forms import CohortForm
from app.deps import FormDep, ManagerUser, MemberUser, SessionDep, Visitor
from app.forms import kept, validate
from app.journeys import service as journeys
from app.journeys import statements
from app.web import redirect, render

router = APIRouter()


def _cohorts_page(request: Request, session: SessionDep, **context: object) -> Response:
    return render(request, "community/cohorts.html", {
        "cohorts": community.cohorts(session), "journeys": journeys.available_journeys(session),
        "values": {}, "errors": {}, **context,
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
    return render(request, "community/cohort.html", {
        "cohort": cohort, "members": community.cohort_progress(session, cohort_id),
        "link": f"{request.app.state.settings.base_url}/join/{cohort.invite_code}",
    })


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
    return render(request, "community/join.html", {"cohort": cohort, "code": code})


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
