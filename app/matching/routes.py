"""Every matching route, from the manager's, the mentor's and the member's modules."""

from fastapi import APIRouter

from app.matching import manager_routes, member_routes, mentor_routes, thread_routes

router = APIRouter()
# Copied flat (include_router would nest them): the app adds each route on its own.
for _part in (manager_routes, mentor_routes, member_routes, thread_routes):
    router.routes.extend(_part.router.routes)
