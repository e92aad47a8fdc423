"""Reading and answering the consent document; withdrawing from research."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts import consent
from app.deps import FormDep, MemberUser, SessionDep
from app.errors import NotFound
from app.web import redirect, render, safe_next

router = APIRouter()


def _page(request: Request, session: SessionDep, next_url: str, **context: object) -> Response:
    document = consent.current_document(session)
    if document is None:
        raise NotFound("There is no consent document to read yet.")
    return render(request, "accounts/consent.html", {
        "document": document, "html": consent.as_html(document), "next": next_url,
        "errors": {}, "values": {}, **context,
    }, status_code=400 if context.get("errors") else 200)


@router.get("/consent")
def consent_page(
    request: Request, member: MemberUser, session: SessionDep, next: str = ""
) -> Response:
    return _page(request, session, safe_next(next, "/journey"))


@router.post("/consent")
def give_consent(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep
) -> Response:
    assert member.user.id is not None
    next_url = safe_next(str(form.get("next", "")), "/journey")
    document = consent.current_document(session)
    if document is None:
        raise NotFound("There is no consent document to answer yet.")
    research = form.get("research_use") == "yes"
    if form.get("app_use") != "yes":
        return _page(request, session, next_url, values={"research_use": research}, errors={
            "app_use": "Telos cannot keep your journey without this. If you do not agree, "
                       "you can simply leave; nothing has been stored.",
        })
    consent.give(session, user_id=member.user.id, document=document, research_use=research)
    message = ("Thank you. Your answers may be used for research, under a code."
               if research else "Thank you. Your answers will not be used for research.")
    return redirect(request, next_url, message=message)


@router.post("/consent/withdraw")
def withdraw(request: Request, member: MemberUser, session: SessionDep) -> Response:
    assert member.user.id is not None
    if consent.withdraw_research(session, user_id=member.user.id):
        message = ("You have withdrawn from research. From now on your answers are left out "
                   "of every research export.")
    else:
        message = "Your answers were not part of research; nothing to withdraw."
    return redirect(request, "/profile", message=message)
