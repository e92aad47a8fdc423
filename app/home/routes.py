"""The landing page and the signed-in home."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import text

from app.deps import CurrentUser, Visitor, open_access
from app.web import redirect, render

router = APIRouter()


@router.get("/")
def landing(request: Request, visitor: Visitor) -> Response:
    if visitor:
        return redirect(request, "/home")
    return render(request, "home/landing.html")


@router.get("/home")
def home(request: Request, user: CurrentUser) -> Response:
    return render(request, "home/home.html")


@router.get("/healthz", dependencies=[open_access])
def healthz(request: Request) -> Response:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means unhealthy
        return Response('{"status": "database unreachable"}', status_code=503,
                        media_type="application/json")
    return Response('{"status": "ok"}', media_type="application/json")
