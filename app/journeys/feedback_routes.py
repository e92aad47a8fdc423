"""Reviewers (a mentor or a peer) read only the statement shared with them and comment."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import CurrentUser, FormDep, SessionDep
from app.journeys import statements
from app.web import redirect, render

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
    request: Request, user: CurrentUser, session: SessionDep, form: FormDep, request_id: int
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
    return redirect(request, "/feedback",
                    message=f"Thank you. {view.requester_name} can read your feedback now.")
