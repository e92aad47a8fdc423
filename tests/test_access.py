"""Every route declares who may use it, and answers every role accordingly."""

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlmodel import Session
from starlette.routing import Mount

from app.access import Policy, policies_of
from app.accounts.models import Role
from app.settings import Settings
from tests.browsing import csrf_token_in
from tests.factories import create_user, signed_in

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
STATIC_MOUNTS = {"/static", "/static/vendor/htmx", "/static/vendor/pico"}
# Routes that end the session go last, so the walk keeps its sign-in to the end.
SIGN_OUT_ROUTES = {("POST", "/logout")}


def api_routes(app: FastAPI) -> list[tuple[str, APIRoute]]:
    pairs = [
        (method, route)
        for route in app.routes if isinstance(route, APIRoute)
        for method in sorted(route.methods)
    ]
    return sorted(pairs, key=lambda pair: (pair[0], pair[1].path) in SIGN_OUT_ROUTES)


def policy_of(route: APIRoute) -> Policy:
    policies = list(policies_of(route.dependant))
    assert len(policies) == 1, f"{route.path} declares {len(policies)} access policies"
    return policies[0]


def test_every_route_declares_exactly_one_policy(app: FastAPI) -> None:
    undeclared = [
        f"{method} {route.path}" for method, route in api_routes(app)
        if len(list(policies_of(route.dependant))) != 1
    ]
    assert undeclared == []


def test_only_static_files_are_mounted(app: FastAPI) -> None:
    mounts = {route.path for route in app.routes if isinstance(route, Mount)}
    assert mounts == STATIC_MOUNTS
    assert all(isinstance(route, APIRoute | Mount) for route in app.routes)


def fill_path(path: str, user_id: int) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(user_id) if m[1].endswith("_id") else "x" * 8, path)


@pytest.mark.parametrize("role", [None, *Role], ids=lambda role: role or "anonymous")
def test_every_route_answers_each_role_as_declared(
    app: FastAPI, db: Session, settings: Settings, role: Role | None
) -> None:
    client = TestClient(app, follow_redirects=False)
    user = create_user(db, roles=[role] if role else [])
    if role:
        signed_in(client, db, settings, user)
    token = csrf_token_in(client.get("/", follow_redirects=True).text)
    held = frozenset([role]) if role else None
    for method, route in api_routes(app):
        path = fill_path(route.path, user.id or 0)
        data = {"csrf_token": token} if method in UNSAFE else None
        response = client.request(method, path, data=data)
        where = f"{method} {path} as {role or 'anonymous'}: {response.status_code}"
        assert response.status_code < 500, where
        if policy_of(route).allows(held):
            assert response.status_code != 403, where
            assert not response.headers.get("location", "").startswith("/login?"), where
        elif role is None:
            assert response.status_code == 303, where
            assert response.headers["location"].startswith("/login?next="), where
        else:
            assert response.status_code == 403, where
            assert "This page is for people with the" in response.text, where


# What each area must require, written down independently of the routes' own declarations,
# so a route that declares too little is caught too.
AREA_ROLES = {
    "/admin/": {Role.admin},
    "/mentors/": {Role.manager},
    "/cohorts": {Role.manager},
    "/journey": {Role.member},
    "/purpose": {Role.member},
    "/surveys/": {Role.member},
    "/results": {Role.member},
    "/community": {Role.member},
    "/circles": {Role.member},
    "/content": {Role.manager},
    "/themes": {Role.manager},
    "/library": {Role.member, Role.manager},
    "/research": {Role.researcher},
    "/matching": {Role.manager},
    "/mentor/": {Role.mentor},
    "/my-mentor": {Role.member},
    "/matches/": {Role.member, Role.mentor},
    "/reminders/": set(),  # the opt-out link works signed out
    "/reply/": set(),  # the e-mailed feedback link works without an account
}


def test_routes_in_protected_areas_require_their_roles(app: FastAPI) -> None:
    for _method, route in api_routes(app):
        for prefix, roles in AREA_ROLES.items():
            if route.path.startswith(prefix):
                assert policy_of(route).roles == roles, route.path


HUGE_ID = "9" * 23  # beyond any 64-bit column: SQLite raised OverflowError on it


def int_path_params(route: APIRoute) -> list[str]:
    return [field.alias for field in route.dependant.path_params
            if field.field_info.annotation is int]


def test_a_huge_id_in_any_address_is_not_found(
    app: FastAPI, db: Session, settings: Settings
) -> None:
    client = TestClient(app, follow_redirects=False)
    signed_in(client, db, settings, create_user(db, roles=list(Role)))
    token = csrf_token_in(client.get("/", follow_redirects=True).text)
    walked = 0
    for method, route in api_routes(app):
        names = int_path_params(route)
        if not names:
            continue
        for huge in names:
            path = re.sub(r"\{(\w+)\}", lambda m, huge=huge: HUGE_ID if m[1] == huge else "1",
                          route.path)
            data = {"csrf_token": token} if method in UNSAFE else None
            response = client.request(method, path, data=data)
            assert response.status_code == 404, f"{method} {path}: {response.status_code}"
            walked += 1
    assert walked > 40  # every route that takes an id, not none by accident


def test_an_id_that_is_not_a_number_is_not_found(
    app: FastAPI, db: Session, settings: Settings
) -> None:
    client = TestClient(app, follow_redirects=False)
    signed_in(client, db, settings, create_user(db, roles=list(Role)))
    response = client.get("/feedback/abc")
    assert response.status_code == 404
    assert "422" not in response.text


# Routes added since the walk above was written, named so that dropping one from the app
# (or its policy) fails here and not only by absence from the walk.
NAMED_ROUTES = {
    ("GET", "/research/studies/{study_id}/edit"): {Role.researcher},
    ("POST", "/research/studies/{study_id}/edit"): {Role.researcher},
    ("POST", "/research/studies/{study_id}/researchers/{user_id}/remove"): {Role.researcher},
    ("GET", "/matches/{match_id}/thread"): {Role.member, Role.mentor},
    ("POST", "/matches/{match_id}/thread"): {Role.member, Role.mentor},
    ("POST", "/matches/{match_id}/thread/mute"): {Role.member, Role.mentor},
}


def test_named_routes_exist_with_their_roles(app: FastAPI) -> None:
    declared = {(method, route.path): policy_of(route).roles for method, route in api_routes(app)}
    for key, roles in NAMED_ROUTES.items():
        assert declared.get(key) == roles, key


@pytest.mark.parametrize("role", [None, *Role], ids=lambda role: role or "anonymous")
def test_a_mentor_thread_is_read_only_by_its_member_and_mentor(
    app: FastAPI, db: Session, settings: Settings, role: Role | None
) -> None:
    """Whoever else asks (a manager or an admin too) learns nothing, not even that it exists."""
    from app.matching import threads
    from app.matching.models import Match, MatchSource, MatchStatus

    member, mentor = create_user(db), create_user(db, roles=[Role.mentor])
    match = Match(member_id=member.id or 0, mentor_id=mentor.id or 0,
                  source=MatchSource.member, status=MatchStatus.accepted)
    db.add(match)
    db.flush()
    threads.add_post(db, match_id=match.id or 0, user_id=member.id or 0, body="Just for us.")
    db.commit()
    url = f"/matches/{match.id}/thread"
    for party in (member, mentor):
        client = TestClient(app, follow_redirects=False)
        signed_in(client, db, settings, party)
        assert "Just for us." in client.get(url).text
    client = TestClient(app, follow_redirects=False)
    if role:
        signed_in(client, db, settings, create_user(db, roles=[role]))
    response = client.get(url)
    expected = {None: 303, Role.member: 404, Role.mentor: 404}.get(role, 403)
    assert response.status_code == expected
    assert "Just for us." not in response.text
