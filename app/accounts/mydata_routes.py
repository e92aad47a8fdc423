"""A member's rights over their data: download all of it, or delete the account."""

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts import deletion, mydata
from app.accounts import service as accounts
from app.deps import CurrentUser, FormDep, SessionDep
from app.web import SESSION_COOKIE, redirect, render

router = APIRouter()


@router.get("/profile/data.json")
def my_data_json(user: CurrentUser, session: SessionDep) -> Response:
    data = mydata.everything(session, user=user.user)
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False), media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-telos-data.json"'},
    )


@router.get("/profile/data")
def my_data_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return render(request, "accounts/my_data.html",
                  {"data": mydata.everything(session, user=user.user)})


def _delete_page(request: Request, session: SessionDep, user_id: int,
                 errors: dict[str, str] | None = None) -> Response:
    keeps = deletion.keeps_research_answers(session, user_id=user_id)
    return render(request, "accounts/delete.html", {"keeps_research": keeps,
                  "errors": errors or {}}, status_code=400 if errors else 200)


@router.get("/profile/delete")
def delete_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return _delete_page(request, session, user.user.id or 0)


@router.post("/profile/delete")
def delete_account(
    request: Request, user: CurrentUser, session: SessionDep, form: FormDep
) -> Response:
    password = str(form.get("password", ""))
    if accounts.authenticate(session, email=user.user.email, password=password) is None:
        return _delete_page(request, session, user.user.id or 0,
                            {"password": "That is not your password; nothing was deleted."})
    kept = deletion.delete_account(session, user=user.user)
    request.state.principal = None
    message = "Your account and everything you wrote have been deleted."
    if kept:
        message += " Your questionnaire answers stay for research, under a code only."
    response = redirect(request, "/", message=message)
    response.delete_cookie(SESSION_COOKIE)
    return response
