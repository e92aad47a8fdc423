"""A member downloads all their data: JSON, and a page a person can read and print."""

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts import mydata
from app.deps import CurrentUser, SessionDep
from app.web import render

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
