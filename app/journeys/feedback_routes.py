"""Reviewers read only the statement shared with them and comment: a mentor or a peer
with an account, or anyone by an e-mailed single-use link."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import mail
from app.deps import CurrentUser, FormDep, MemberUser, SessionDep, SettingsDep, Visitor
from app.journeys import outside, statements
from app.journeys.models import FeedbackStatus
from app.web import redirect, render, safe_next

router = APIRouter()

COMMENT_MAX = 3000


@router.get("/feedback")
def feedback_inbox(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    assert user.user.id is not None
    return render(request, "journeys/feedback_inbox.html",
                  {"requests": statements.inbox(session, reviewer_id=user.user.id)})


@router.get("/feedback/{request_id}")
def feedback_page(
    request: Request, user: CurrentUser, session: SessionDep, request_id: int
) -> Response:
    assert user.user.id is not None
    view = statements.for_reviewer(session, request_id=request_id, reviewer_id=user.user.id)
    return render(request, "journeys/feedback.html",
                  {"view": view, "values": {"comment": view.request.comment}, "errors": {}})


@router.post("/feedback/{request_id}")
def give_feedback(
    request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    form: FormDep, request_id: int,
) -> Response:
    assert user.user.id is not None
    view = statements.for_reviewer(session, request_id=request_id, reviewer_id=user.user.id)
    comment = str(form.get("comment", "")).strip()
    error = None
    if not comment:
        error = "Write a comment before sending it."
    elif len(comment) > COMMENT_MAX:
        error = f"Keep your comment under {COMMENT_MAX} characters; it has {len(comment)}."
    if error:
        return render(request, "journeys/feedback.html", {
            "view": view, "values": {"comment": comment}, "errors": {"comment": error},
        }, status_code=400)
    statements.give_feedback(session, request=view.request, comment=comment)
    _tell_requester(session, request_id=request_id, base_url=settings.base_url)
    return redirect(request, "/feedback",
                    message=f"Thank you. {view.requester_name} can read your feedback now.")


# Someone outside Telos, by the e-mailed link ---------------------------------------------

LINK_CLOSED = {
    FeedbackStatus.given: "This link has been used: the feedback was sent. Thank you.",
    FeedbackStatus.withdrawn: "This request for feedback was withdrawn.",
    FeedbackStatus.expired: "This link has expired.",
}


def _reply_page(request: Request, link: outside.Link, *, values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    if link.state != FeedbackStatus.requested:
        context: dict[str, object] = {"closed": LINK_CLOSED[link.state]}
        status_code = 200 if link.state == FeedbackStatus.given else 410
    else:
        context = {"link": link, "values": values or {}, "errors": errors or {}}
    response = render(request, "journeys/reply.html", context, status_code=status_code)
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@router.get("/reply/{token}")
def reply_page(request: Request, visitor: Visitor, session: SessionDep, token: str) -> Response:
    return _reply_page(request, outside.open_link(session, token=token))


def _tell_requester(session: SessionDep, *, request_id: int, base_url: str) -> None:
    told = statements.answered_mail(session, request_id=request_id, base_url=base_url)
    mail.queue(session, [told] if told else [])


@router.post("/reply/{token}")
def reply(
    request: Request, visitor: Visitor, session: SessionDep, settings: SettingsDep,
    form: FormDep, token: str,
) -> Response:
    link = outside.open_link(session, token=token)
    values = {"comment": str(form.get("comment", "")).strip(),
              "name": str(form.get("name", "")).strip()}
    errors = _reply_errors(values)
    if errors and link.state == FeedbackStatus.requested:
        return _reply_page(request, link, values=values, errors=errors, status_code=400)
    if not outside.answer(session, link=link, comment=values["comment"], name=values["name"]):
        return _reply_page(request, outside.open_link(session, token=token))
    _tell_requester(session, request_id=link.request_id, base_url=settings.base_url)
    return redirect(request, f"/reply/{token}",
                    message=f"Thank you. {link.requester_name} can read your feedback now.")


def _reply_errors(values: dict[str, str]) -> dict[str, str]:
    errors = {}
    if not values["comment"]:
        errors["comment"] = "Write a comment before sending it."
    elif len(values["comment"]) > outside.COMMENT_MAX:
        errors["comment"] = (f"Keep your comment under {outside.COMMENT_MAX} characters; "
                             f"it has {len(values['comment'])}.")
    if len(values["name"]) > outside.NAME_MAX:
        errors["name"] = (f"Keep your name under {outside.NAME_MAX} characters; "
                          f"it has {len(values['name'])}.")
    return errors


@router.post("/purpose/feedback/{request_id}/withdraw")
def withdraw_request(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep, request_id: int
) -> Response:
    assert member.user.id is not None
    asked = outside.own_outside_request(session, request_id=request_id,
                                        requester_id=member.user.id)
    back = safe_next(str(form.get("back", "")), default="/purpose")
    if outside.withdraw(session, request=asked):
        return redirect(request, back, message="Request withdrawn. The link now says so, "
                                               "and the address is forgotten.")
    return redirect(request, back, message="That request was no longer open: it had been "
                                           "answered or had expired.")
