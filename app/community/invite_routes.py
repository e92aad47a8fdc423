"""Managers invite people to a cohort by e-mail and see who was invited and who joined."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.community import invites
from app.community import service as community
from app.deps import FormDep, ManagerUser, SessionDep
from app.web import redirect, render, settings_of

router = APIRouter()


def _page(request: Request, session: SessionDep, cohort_id: int, *, typed: str = "",
          invalid: list[tuple[str, str]] | None = None, error: str = "",
          status_code: int = 200) -> Response:
    return render(request, "community/invitations.html", {
        "cohort": community.get_cohort(session, cohort_id),
        "invitations": invites.invitations(session, cohort_id=cohort_id),
        "typed": typed, "invalid": invalid or [], "error": error,
        "max_per_paste": invites.MAX_PER_PASTE,
        "invitation_days": settings_of(request).invitation_days,
    }, status_code=status_code)


@router.get("/cohorts/{cohort_id}/invitations")
def invitations_page(
    request: Request, manager: ManagerUser, session: SessionDep, cohort_id: int
) -> Response:
    return _page(request, session, cohort_id)


@router.post("/cohorts/{cohort_id}/invitations")
def invite(
    request: Request, manager: ManagerUser, session: SessionDep, form: FormDep, cohort_id: int
) -> Response:
    cohort = community.get_cohort(session, cohort_id)
    typed = str(form.get("addresses") or "")
    pasted = invites.parse(typed)
    if pasted.invalid or not pasted.addresses:
        error = "" if pasted.invalid else "Paste at least one e-mail address."
        return _page(request, session, cohort_id, typed=typed, invalid=pasted.invalid,
                     error=error, status_code=400)
    try:
        invited = invites.invite(session, cohort=cohort, addresses=pasted.addresses,
                                 by_id=manager.user.id)
    except invites.TooManyInvites as refused:
        return _page(request, session, cohort_id, typed=typed, error=refused.message,
                     status_code=429)
    return redirect(request, f"/cohorts/{cohort_id}/invitations", message=_said(invited))


def _said(invited: invites.Invited) -> str:
    parts = []
    if invited.new:
        count = len(invited.new)
        parts.append(f"{count} invitation{' is' if count == 1 else 's are'} on the way by "
                     "e-mail.")
    if invited.already:
        parts.append("Already invited, so not sent again: " + ", ".join(invited.already) + ".")
    return " ".join(parts)
