"""The private thread of a member and their accepted mentor: reading, posting, muting."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import FormDep, MatchPartyUser, SessionDep
from app.matching import threads
from app.web import redirect, render

router = APIRouter()


def _thread_page(
    request: Request, session: SessionDep, person: MatchPartyUser, match_id: int, *,
    body: str = "", error: str | None = None, status_code: int = 200,
) -> Response:
    return render(request, "matching/thread.html", {
        "page": threads.thread_page(session, match_id=match_id, user=person.user),
        "body": body, "error": error, "post_limit": threads.POST_LIMIT,
    }, status_code=status_code)


@router.get("/matches/{match_id}/thread")
def thread_page(
    request: Request, person: MatchPartyUser, session: SessionDep, match_id: int
) -> Response:
    return _thread_page(request, session, person, match_id)


@router.post("/matches/{match_id}/thread")
def add_post(
    request: Request, person: MatchPartyUser, session: SessionDep, form: FormDep, match_id: int
) -> Response:
    body = form.get("body")
    body = body if isinstance(body, str) else ""
    try:
        post = threads.add_post(session, match_id=match_id, user_id=person.user.id or 0,
                                body=body)
    except (threads.PostProblem, threads.PairingEnded) as refused:
        return _thread_page(request, session, person, match_id, body=body,
                            error=refused.message, status_code=refused.status_code)
    return redirect(request, f"/matches/{match_id}/thread#post-{post.id}", message="Sent.")


@router.post("/matches/{match_id}/thread/mute")
def mute(
    request: Request, person: MatchPartyUser, session: SessionDep, form: FormDep, match_id: int
) -> Response:
    muted = form.get("muted") == "yes"
    threads.set_muted(session, match_id=match_id, user_id=person.user.id or 0, muted=muted)
    return redirect(request, f"/matches/{match_id}/thread", message=(
        "Muted: no e-mail about new messages here." if muted
        else "Unmuted: at most one e-mail an hour when there is a new message."))
