"""Managers: cohorts' pools and mentor load, runs, the review table, publishing, history."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import mail
from app.community import service as community
from app.deps import FormDep, ManagerUser, SessionDep, SettingsDep
from app.errors import NotFound, TelosError
from app.forms import kept, record_id, validate
from app.matching import engine, runs
from app.matching import service as matching
from app.matching.forms import WeightsForm
from app.matching.models import MatchRun, RunStatus
from app.web import flash, redirect, render

router = APIRouter()


@router.get("/matching")
def overview(request: Request, manager: ManagerUser, session: SessionDep) -> Response:
    return render(request, "matching/overview.html", {
        "cohorts": runs.overview(session), "mentors": matching.mentors(session),
    })


@router.post("/matching/cohorts/{cohort_id}/runs")
def start_run(
    request: Request, manager: ManagerUser, session: SessionDep, settings: SettingsDep,
    cohort_id: int,
) -> Response:
    try:
        run = runs.start_run(session, cohort_id=cohort_id, by_id=manager.user.id,
                             encoder=settings.encoder)
    except runs.RunInProgress as busy:
        return _refused(request, busy)
    return redirect(request, f"/matching/runs/{run.id}", message=STARTED)


STARTED = ("The matcher is running. The draft appears on this page; nothing is sent until "
           "you publish it.")


def _refused(request: Request, busy: runs.RunInProgress) -> Response:
    """To the run that is going, with the reason no second one was started."""
    response = redirect(request, f"/matching/runs/{busy.run.id}")
    flash(response, request, busy.message, "error")
    return response


def _weights_page(
    request: Request, session: SessionDep, cohort_id: int, *, values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    return render(request, "matching/weights.html", {
        "cohort": community.get_cohort(session, cohort_id), "values": values,
        "errors": errors or {},
    }, status_code=400 if errors else 200)


@router.get("/matching/cohorts/{cohort_id}/weights")
def weights_page(
    request: Request, manager: ManagerUser, session: SessionDep, cohort_id: int
) -> Response:
    weights = runs.weights_for(session, cohort_id=cohort_id)
    values = {name: f"{getattr(weights, name):g}"
              for name in ("text", "themes", "time_zone", "wishes")}
    return _weights_page(request, session, cohort_id, values=values)


@router.post("/matching/cohorts/{cohort_id}/weights")
def save_weights(
    request: Request, manager: ManagerUser, session: SessionDep, form: FormDep, cohort_id: int
) -> Response:
    cohort = community.get_cohort(session, cohort_id)
    data, errors = validate(WeightsForm, form)
    if data is None:
        return _weights_page(request, session, cohort_id, values=kept(form), errors=errors)
    runs.save_weights(session, cohort_id=cohort_id, by_id=manager.user.id, weights=engine.Weights(
        text=data.text, themes=data.themes, time_zone=data.time_zone, wishes=data.wishes))
    return redirect(request, "/matching",
                    message=f"Weights for {cohort.name} saved; the next run uses them.")


@router.get("/matching/runs/{run_id}")
def review_page(
    request: Request, manager: ManagerUser, session: SessionDep, run_id: int
) -> Response:
    return _review_page(request, session, run_id)


def _review_page(
    request: Request, session: SessionDep, run_id: int, *, status_code: int = 200,
    bulk_error: str = "", selected: frozenset[int] = frozenset(), mentor_id: int | None = None,
) -> Response:
    return render(request, "matching/review.html", {
        "review": runs.review(session, run_id=run_id), "bulk_error": bulk_error,
        "selected": selected, "chosen_mentor": mentor_id,
    }, block="run", status_code=status_code)


@router.post("/matching/runs/{run_id}/rerun")
def rerun(request: Request, manager: ManagerUser, session: SessionDep, run_id: int) -> Response:
    """Re-run a draft, or try a failed run again."""
    try:
        runs.rerun(session, run=runs.get_run(session, run_id))
    except runs.RunInProgress as busy:
        return _refused(request, busy)
    return redirect(request, f"/matching/runs/{run_id}",
                    message="Running again; pinned pairs and exclusions are kept.")


@router.get("/matching/runs/{run_id}/publish")
def confirm_publish(
    request: Request, manager: ManagerUser, session: SessionDep, run_id: int
) -> Response:
    return _confirm_page(request, session, runs.get_run(session, run_id))


def _confirm_page(request: Request, session: SessionDep, run: MatchRun, *,
                  changed: bool = False) -> Response:
    return render(request, "matching/publish.html", {
        "run": run, "cohort": community.get_cohort(session, run.cohort_id),
        "preview": runs.publish_preview(session, run=run), "changed": changed,
    }, status_code=409 if changed else 200)


@router.post("/matching/runs/{run_id}/publish")
def publish(
    request: Request, manager: ManagerUser, session: SessionDep, settings: SettingsDep,
    form: FormDep, run_id: int,
) -> Response:
    """Only with the number of e-mails the manager confirmed; any other number (none, or
    the draft changed since) shows the confirmation again."""
    run = runs.get_run(session, run_id)
    if run.status == RunStatus.draft:
        confirmed = form.get("emails")
        if confirmed != str(runs.publish_preview(session, run=run).mails):
            return _confirm_page(request, session, run, changed=confirmed is not None)
    proposed, mails = runs.publish(session, run=run, by_id=manager.user.id,
                                   base_url=settings.base_url)
    mail.queue(session, mails)
    return redirect(request, f"/matching/runs/{run_id}",
                    message=f"Published: {proposed} mentor{'s' if proposed != 1 else ''} asked; "
                            "members and mentors have been told by e-mail.")


@router.post("/matching/runs/{run_id}/matches/{match_id}/pin")
def pin(
    request: Request, manager: ManagerUser, session: SessionDep, form: FormDep, run_id: int,
    match_id: int,
) -> Response:
    run = runs.draft_run(session, run_id)
    pinned = form.get("pinned") == "yes"
    runs.pin(session, match=runs.draft_match(session, run=run, match_id=match_id), pinned=pinned)
    return redirect(request, f"/matching/runs/{run_id}",
                    message="Pinned: a re-run keeps this pair." if pinned else "Unpinned.")


@router.post("/matching/runs/{run_id}/matches/{match_id}/exclude")
def exclude(
    request: Request, manager: ManagerUser, session: SessionDep, run_id: int, match_id: int
) -> Response:
    run = runs.draft_run(session, run_id)
    runs.exclude(session, run=run, match=runs.draft_match(session, run=run, match_id=match_id),
                 by_id=manager.user.id)
    return redirect(request, f"/matching/runs/{run_id}",
                    message="Excluded. Re-run to find this member another mentor.")


def _mentor_id(form: FormDep) -> int:
    mentor_id = record_id(form.get("mentor_id"))
    if mentor_id is None:
        raise TelosError("Choose a mentor from the list.")
    return mentor_id


@router.post("/matching/runs/{run_id}/matches/{match_id}/swap")
def swap(
    request: Request, manager: ManagerUser, session: SessionDep, form: FormDep, run_id: int,
    match_id: int,
) -> Response:
    run = runs.draft_run(session, run_id)
    match = runs.draft_match(session, run=run, match_id=match_id)
    try:
        with session.begin_nested():
            runs.choose_mentor(session, run=run, member_id=match.member_id,
                               mentor_id=_mentor_id(form), match=match)
    except runs.DraftConflict as stale:
        return _not_changed(request, run_id, stale)
    return redirect(request, f"/matching/runs/{run_id}",
                    message="Swapped and pinned, so a re-run keeps your choice.")


def _not_changed(request: Request, run_id: int, stale: runs.DraftConflict) -> Response:
    """A choice the draft no longer allows (the list was older than the draft): back on
    the run's page, with the reason beside everything else."""
    response = redirect(request, f"/matching/runs/{run_id}")
    flash(response, request, stale.message, "error")
    return response


@router.post("/matching/runs/{run_id}/members/{member_id}/mentor")
def choose_mentor(
    request: Request, manager: ManagerUser, session: SessionDep, form: FormDep, run_id: int,
    member_id: int,
) -> Response:
    run = runs.draft_run(session, run_id)
    if member_id not in {user.id for user in runs.pool(session, cohort_id=run.cohort_id)}:
        raise NotFound("This member is not waiting for a mentor in this cohort.")
    try:
        with session.begin_nested():
            runs.choose_mentor(session, run=run, member_id=member_id, mentor_id=_mentor_id(form))
    except runs.DraftConflict as stale:
        return _not_changed(request, run_id, stale)
    return redirect(request, f"/matching/runs/{run_id}", message="Matched by hand and pinned.")


@router.post("/matching/runs/{run_id}/unmatched")
def assign_unmatched(
    request: Request, manager: ManagerUser, session: SessionDep, form: FormDep, run_id: int
) -> Response:
    """The bulk action of the table of members waiting without a mentor."""
    run = runs.draft_run(session, run_id)
    ids = [record_id(value) for value in form.getlist("member_id")]
    selected = frozenset(member_id for member_id in ids if member_id is not None)
    mentor_id = record_id(form.get("mentor_id"))
    if not selected or mentor_id is None:
        problem = ("Select at least one member in the table." if not selected
                   else "Choose a mentor from the list.")
        return _review_page(request, session, run_id, status_code=400, bulk_error=problem,
                            selected=selected, mentor_id=mentor_id)
    try:
        with session.begin_nested():
            matched = runs.assign_many(session, run=run, member_ids=sorted(selected),
                                       mentor_id=mentor_id)
    except runs.DraftConflict as stale:
        return _review_page(request, session, run_id, status_code=409,
                            bulk_error=stale.message, selected=selected, mentor_id=mentor_id)
    count = len(matched)
    return redirect(request, f"/matching/runs/{run_id}",
                    message=f"Matched {count} member{'' if count == 1 else 's'} by hand and "
                            "pinned.")


@router.get("/matching/history")
def history(request: Request, manager: ManagerUser, session: SessionDep) -> Response:
    return render(request, "matching/history.html", {"rows": matching.history(session)})
