"""Admins: users and their roles, and the audit log."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.audit import service as audit
from app.deps import AdminUser, FormDep, SessionDep
from app.errors import NotFound
from app.web import redirect, render

router = APIRouter(prefix="/admin")


@router.get("/users")
def users_page(request: Request, admin: AdminUser, session: SessionDep, q: str = "") -> Response:
    users = accounts.list_users(session, search=q[:100])
    return render(request, "admin/users.html", {"users": users, "q": q}, block="results")


@router.get("/users/{user_id}")
def user_page(request: Request, admin: AdminUser, session: SessionDep, user_id: int) -> Response:
    user = accounts.get_user(session, user_id) or _missing()
    roles = accounts.roles_of(session, user_id)
    return render(request, "admin/user.html", {"user": user, "roles": roles})


@router.post("/users/{user_id}/roles")
def set_roles(
    request: Request, admin: AdminUser, session: SessionDep, form: FormDep, user_id: int
) -> Response:
    user = accounts.get_user(session, user_id) or _missing()
    wanted = {Role(value) for value in form.getlist("roles") if value in set(Role)}
    if user.id == admin.user.id and Role.admin not in wanted:
        roles = accounts.roles_of(session, user_id)
        message = "You cannot remove your own admin role; ask another admin."
        return render(request, "admin/user.html",
                      {"user": user, "roles": roles, "error": message}, status_code=400)
    accounts.set_roles(session, user=user, roles=wanted, actor_id=admin.user.id or 0)
    return redirect(request, f"/admin/users/{user_id}",
                    message=f"Roles of {user.display_name} saved.")


@router.get("/audit")
def audit_page(request: Request, admin: AdminUser, session: SessionDep) -> Response:
    return render(request, "admin/audit.html", {"events": audit.recent(session)})


def _missing() -> User:
    raise NotFound("There is no user with that number.")
