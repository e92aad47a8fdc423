"""Peer circles: managers form, review, publish and moderate; members meet in their circle."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import mail
from app.community import circle_shares as shares
from app.community import circle_threads as threads
from app.community import circles, posts
from app.community import service as community
from app.deps import FormDep, ManagerUser, MemberUser, SessionDep, SettingsDep
from app.errors import NotFound
from app.forms import record_id, typed_text_problem
from app.web import flash, redirect, render

router = APIRouter()


def _text(form: FormDep, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# Managers ----------


def _review_url(cohort_id: int) -> str:
    return f"/cohorts/{cohort_id}/circles"


def _refused(request: Request, url: str, error: circles.CircleConflict) -> Response:
    response = redirect(request, url)
    flash(response, request, error.message, "error")
    return response


@router.get("/cohorts/{cohort_id}/circles")
def review_page(
    request: Request, manager: ManagerUser, session: SessionDep, cohort_id: int
) -> Response:
    return render(request, "community/circles/review.html", {
        "review": circles.review(session, cohort_id=cohort_id),
        "reported": len(threads.reported_posts(session, cohort_id=cohort_id)),
    }, block="forming")


@router.post("/cohorts/{cohort_id}/circles/form")
def form_circles(
    request: Request, manager: ManagerUser, session: SessionDep, cohort_id: int
) -> Response:
    try:
        circles.start_forming(session, cohort_id=cohort_id, by_id=manager.user.id)
    except circles.CircleConflict as refused:
        return _refused(request, _review_url(cohort_id), refused)
    return redirect(request, _review_url(cohort_id),
                    message="Forming the circles. The draft appears on this page; nobody is "
                            "told anything until you publish it.")


@router.post("/cohorts/{cohort_id}/circles/{circle_id}/lock")
def lock_circle(
    request: Request, manager: ManagerUser, session: SessionDep, form: FormDep, cohort_id: int,
    circle_id: int,
) -> Response:
    locked = _text(form, "locked") == "yes"
    try:
        circle = circles.set_locked(session, cohort_id=cohort_id, circle_id=circle_id,
                                    locked=locked)
    except circles.CircleConflict as refused:
        return _refused(request, _review_url(cohort_id), refused)
    said = "locked: forming again keeps its members" if locked else "unlocked"
    return redirect(request, _review_url(cohort_id), message=f"Circle {circle.number} {said}.")


@router.post("/cohorts/{cohort_id}/circles/members/{user_id}/move")
def move_member(
    request: Request, manager: ManagerUser, session: SessionDep, form: FormDep, cohort_id: int,
    user_id: int,
) -> Response:
    target = record_id(form.get("circle_id"))
    if target is None:
        raise NotFound("Choose the circle to move the member to.")
    try:
        circle = circles.move_member(session, cohort_id=cohort_id, user_id=user_id,
                                     to_circle_id=target, by_id=manager.user.id)
    except circles.CircleConflict as refused:
        return _refused(request, _review_url(cohort_id), refused)
    return redirect(request, _review_url(cohort_id),
                    message=f"Moved to circle {circle.number}.")


@router.post("/cohorts/{cohort_id}/circles/publish")
def publish(
    request: Request, manager: ManagerUser, session: SessionDep, settings: SettingsDep,
    cohort_id: int,
) -> Response:
    try:
        mails = circles.publish(session, cohort_id=cohort_id, by_id=manager.user.id,
                                base_url=settings.base_url)
    except circles.CircleConflict as refused:
        return _refused(request, _review_url(cohort_id), refused)
    mail.queue(session, mails)
    return redirect(request, _review_url(cohort_id),
                    message=f"Published: {len(mails)} member{'s' if len(mails) != 1 else ''} "
                            "told by e-mail.")


@router.get("/cohorts/{cohort_id}/circles/reports")
def reports_page(
    request: Request, manager: ManagerUser, session: SessionDep, cohort_id: int
) -> Response:
    return render(request, "community/circles/reports.html", {
        "cohort": community.get_cohort(session, cohort_id),
        "reported": threads.reported_posts(session, cohort_id=cohort_id),
    })


@router.post("/cohorts/{cohort_id}/circles/posts/{post_id}/hide")
def hide_post(
    request: Request, manager: ManagerUser, session: SessionDep, cohort_id: int, post_id: int
) -> Response:
    threads.hide_post(session, cohort_id=cohort_id, post_id=post_id, by_id=manager.user.id)
    return redirect(request, f"/cohorts/{cohort_id}/circles/reports",
                    message="The post is hidden; its circle sees that a manager hid it.")


@router.post("/cohorts/{cohort_id}/circles/posts/{post_id}/keep")
def keep_post(
    request: Request, manager: ManagerUser, session: SessionDep, cohort_id: int, post_id: int
) -> Response:
    threads.keep_post(session, cohort_id=cohort_id, post_id=post_id, by_id=manager.user.id)
    return redirect(request, f"/cohorts/{cohort_id}/circles/reports",
                    message="The post stays; its reports are closed.")


@router.post("/cohorts/{cohort_id}/circles/{circle_id}/members/{user_id}/remove")
def remove_member(
    request: Request, manager: ManagerUser, session: SessionDep, cohort_id: int,
    circle_id: int, user_id: int,
) -> Response:
    user = threads.remove_member(session, cohort_id=cohort_id, circle_id=circle_id,
                                 user_id=user_id, by_id=manager.user.id)
    return redirect(request, _review_url(cohort_id),
                    message=f"{user.display_name} is no longer in the circle.")


# Members ----------


@router.get("/circles")
def my_circles(request: Request, member: MemberUser, session: SessionDep) -> Response:
    return render(request, "community/circles/mine.html", {
        "circles": threads.my_circles(session, user_id=member.user.id or 0)})


def _circle_page(
    request: Request, session: SessionDep, member: MemberUser, circle_id: int, *,
    values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    page = threads.circle_page(session, circle_id=circle_id, user=member.user)
    return render(request, "community/circles/circle.html", {
        "page": page, "values": values or {"meeting_link": page.circle.meeting_link},
        "errors": errors or {}, "post_limit": posts.POST_LIMIT,
        "shares": shares.in_circle(session, circle_id=circle_id),
        "choices": shares.choices(session, circle_id=circle_id, user_id=member.user.id or 0),
    }, status_code=status_code)


@router.get("/circles/{circle_id}")
def circle_page(
    request: Request, member: MemberUser, session: SessionDep, circle_id: int
) -> Response:
    return _circle_page(request, session, member, circle_id)


@router.post("/circles/{circle_id}/posts")
def add_post(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep, circle_id: int
) -> Response:
    body = _text(form, "body")
    parent_id = record_id(form.get("parent_id"))
    field = f"reply-{parent_id}" if parent_id else "body"
    try:
        problem = typed_text_problem(body, multi_line=True)
        if problem:
            raise threads.PostProblem(problem)
        post = threads.add_post(session, circle_id=circle_id, user_id=member.user.id or 0,
                                body=body, parent_id=parent_id)
    except threads.LeftCircle as left:
        return render(request, "community/circles/not_posted.html",
                      {"message": left.message, "body": body}, status_code=409)
    except threads.PostProblem as bad:
        return _circle_page(request, session, member, circle_id, values={field: body},
                            errors={field: bad.message}, status_code=400)
    return redirect(request, f"/circles/{circle_id}#post-{post.id}",
                    message="Replied." if parent_id else "Posted.")


@router.post("/circles/{circle_id}/posts/{post_id}/report")
def report_post(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep, circle_id: int,
    post_id: int,
) -> Response:
    threads.report_post(session, circle_id=circle_id, post_id=post_id,
                        user_id=member.user.id or 0, reason=_text(form, "reason"))
    return redirect(request, f"/circles/{circle_id}",
                    message="Reported. A community manager will look at this post.")


@router.post("/circles/{circle_id}/link")
def save_link(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep, circle_id: int
) -> Response:
    link = _text(form, "meeting_link").strip()
    problem = threads.link_problem(link)
    if problem:
        return _circle_page(request, session, member, circle_id, values={"meeting_link": link},
                            errors={"meeting_link": problem}, status_code=400)
    try:
        threads.set_meeting_link(session, circle_id=circle_id, user_id=member.user.id or 0,
                                 link=link, version=record_id(form.get("version")) or 0)
    except circles.CircleConflict as changed:
        return _circle_page(request, session, member, circle_id, values={"meeting_link": link},
                            errors={"meeting_link": changed.message}, status_code=409)
    return redirect(request, f"/circles/{circle_id}", message="Meeting link saved.")


@router.post("/circles/{circle_id}/shares")
def share(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep, circle_id: int
) -> Response:
    url = f"/circles/{circle_id}#share-heading"
    try:
        item = shares.share(session, circle_id=circle_id, user_id=member.user.id or 0,
                            what=_text(form, "what"))
    except shares.NothingToShare as nothing:
        response = redirect(request, url)
        flash(response, request, nothing.message, "error")
        return response
    return redirect(request, url, message=f"Shared with your circle: {item.title}.")


@router.post("/circles/{circle_id}/shares/remove")
def unshare(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep, circle_id: int
) -> Response:
    shares.unshare(session, circle_id=circle_id, user_id=member.user.id or 0,
                   what=_text(form, "what"))
    return redirect(request, f"/circles/{circle_id}#share-heading",
                    message="No longer shared: your circle does not see it any more.")


@router.post("/circles/{circle_id}/leave")
def leave(request: Request, member: MemberUser, session: SessionDep, circle_id: int) -> Response:
    circle = threads.leave(session, circle_id=circle_id, user_id=member.user.id or 0)
    return redirect(request, "/circles", message=f"You left circle {circle.number}.")


@router.post("/circles/{circle_id}/mute")
def mute(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep, circle_id: int
) -> Response:
    muted = _text(form, "muted") == "yes"
    threads.set_muted(session, circle_id=circle_id, user_id=member.user.id or 0, muted=muted)
    said = ("Muted: no digest e-mails from this circle." if muted
            else "Unmuted: a daily digest when there is something new.")
    return redirect(request, f"/circles/{circle_id}", message=said)
