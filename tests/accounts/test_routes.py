import re
from datetime import timedelta
from email import message_from_bytes

from sqlmodel import Session, select

from app.accounts import service as accounts
from app.accounts.models import Role, User, UserSession
from app.audit.models import AuditEvent
from app.clock import now
from app.demo import DEMO_LOGINS, move_old_demo_accounts
from app.settings import Settings
from app.web import SESSION_COOKIE
from tests.browsing import Browser
from tests.factories import PASSWORD, create_user, signed_in
from tests.jobs import delivered

# Sign up ------------------------------------------------------------------------


def test_sign_up_creates_a_member_and_signs_them_in(browser: Browser, db: Session) -> None:
    response = browser.submit("/signup", {
        "display_name": "Lena", "email": "Lena@Example.org", "password": "a long enough pass",
    })
    assert response.status_code == 303
    assert response.headers["location"] == "/home"
    user = accounts.get_user_by_email(db, "lena@example.org")
    assert user is not None and user.id is not None
    assert accounts.roles_of(db, user.id) == {Role.member}
    home = browser.get("/home")
    assert "Welcome, Lena." in home.text
    assert "Hello, Lena" in home.text


def test_sign_up_with_short_password_keeps_input_and_says_why(browser: Browser) -> None:
    response = browser.submit("/signup", {
        "display_name": "Lena", "email": "lena@example.org", "password": "short",
    })
    assert response.status_code == 400
    assert "Use at least 12 characters" in response.text
    assert 'value="Lena"' in response.text
    assert 'value="lena@example.org"' in response.text
    assert "short" not in re.findall(r'value="([^"]*)"', response.text)


def test_sign_up_with_bad_email_says_so_beside_the_field(browser: Browser) -> None:
    response = browser.submit("/signup", {
        "display_name": "Lena", "email": "lena at example", "password": "a long enough pass",
    })
    assert response.status_code == 400
    assert 'id="email-message"' in response.text
    assert "does not look like an e-mail address" in response.text


def test_sign_up_with_taken_email_points_to_login(browser: Browser, db: Session) -> None:
    user = create_user(db)
    response = browser.submit("/signup", {
        "display_name": "Again", "email": user.email.upper(), "password": "a long enough pass",
    })
    assert response.status_code == 400
    assert "already exists" in response.text


def test_member_html_is_shown_as_text(browser: Browser, db: Session) -> None:
    browser.submit("/signup", {
        "display_name": "<script>alert(1)</script>", "email": "x@example.org",
        "password": "a long enough pass",
    })
    home = browser.get("/home")
    assert "<script>alert(1)</script>" not in home.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home.text


# Log in and out ----------------------------------------------------------------------


def test_failed_login_does_not_reveal_whether_the_email_exists(
    browser: Browser, db: Session
) -> None:
    user = create_user(db)
    wrong_password = browser.submit("/login", {"email": user.email, "password": "not it at all"})
    unknown_email = browser.submit("/login", {"email": "nobody@example.org", "password": "x" * 12})
    assert wrong_password.status_code == unknown_email.status_code == 400
    message = "do not match an account"
    assert message in wrong_password.text and message in unknown_email.text
    assert f'value="{user.email}"' in wrong_password.text


def test_login_goes_to_the_page_asked_for(browser: Browser, db: Session) -> None:
    user = create_user(db)
    assert browser.get("/profile").headers["location"] == "/login?next=/profile"
    response = browser.submit("/login", {"email": user.email, "password": PASSWORD,
                                         "next": "/profile"})
    assert response.headers.get("location") == "/profile", response.text[-1500:]


def test_login_never_redirects_off_site(browser: Browser, db: Session) -> None:
    user = create_user(db)
    response = browser.submit("/login", {"email": user.email, "password": PASSWORD,
                                         "next": "//evil.example/x"})
    assert response.headers["location"] == "/home"


def test_login_issues_a_new_session_token(browser: Browser, db: Session) -> None:
    user = create_user(db)
    browser.client.cookies.set(SESSION_COOKIE, "planted-by-someone-else")
    response = browser.login(user.email, PASSWORD)
    token = response.cookies[SESSION_COOKIE]
    assert token != "planted-by-someone-else"
    assert len(token) >= 40


def test_session_cookie_is_httponly_and_lax(browser: Browser, db: Session) -> None:
    user = create_user(db)
    header = browser.login(user.email, PASSWORD).headers["set-cookie"]
    assert "HttpOnly" in header and "SameSite=lax" in header.replace("Lax", "lax")


def test_replayed_cookie_after_logout_is_refused(browser: Browser, db: Session) -> None:
    user = create_user(db)
    token = browser.login(user.email, PASSWORD).cookies[SESSION_COOKIE]
    logout = browser.logout()
    assert logout.status_code == 303
    assert logout.headers["location"] == "/login"
    browser.client.cookies.set(SESSION_COOKIE, token)
    replay = browser.get("/home")
    assert replay.status_code == 303
    assert replay.headers["location"].startswith("/login")


def test_too_many_failed_logins_for_an_account_are_refused_for_a_while(
    browser: Browser, db: Session
) -> None:
    user = create_user(db)
    for _ in range(8):
        browser.submit("/login", {"email": user.email, "password": "wrong password"})
    response = browser.submit("/login", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert re.search(r"try again in \d+ minutes?", response.text)


# Sessions -------------------------------------------------------------------------------


def test_idle_session_expires(browser: Browser, db: Session, settings: Settings) -> None:
    user = create_user(db)
    signed_in(browser.client, db, settings, user)
    row = db.exec(select(UserSession).where(UserSession.user_id == user.id)).one()
    row.last_seen_at = now() - timedelta(minutes=settings.session_idle_minutes + 1)
    db.add(row)
    db.commit()
    assert browser.get("/home").headers["location"].startswith("/login")


def test_session_ends_at_its_absolute_limit(
    browser: Browser, db: Session, settings: Settings
) -> None:
    user = create_user(db)
    signed_in(browser.client, db, settings, user)
    row = db.exec(select(UserSession).where(UserSession.user_id == user.id)).one()
    row.expires_at = now() - timedelta(seconds=1)
    db.add(row)
    db.commit()
    assert browser.get("/home").headers["location"].startswith("/login")


# CSRF -------------------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused_with_an_explanation(
    browser: Browser, db: Session
) -> None:
    user = create_user(db)
    browser.get("/login")
    response = browser.client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "security token" in response.text
    assert SESSION_COOKIE not in response.cookies


def test_post_with_forged_csrf_token_is_refused(browser: Browser, db: Session) -> None:
    browser.get("/login")
    response = browser.client.post("/signup", data={
        "display_name": "X", "email": "x@example.org", "password": "a long enough pass",
        "csrf_token": "0" * 64,
    })
    assert response.status_code == 403
    assert accounts.get_user_by_email(db, "x@example.org") is None


def test_csrf_token_in_header_is_accepted_for_htmx(browser: Browser, db: Session) -> None:
    user = create_user(db)
    token = browser.token("/login")
    response = browser.client.post(
        "/login", data={"email": user.email, "password": PASSWORD},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/home"


# Password change and reset ----------------------------------------------------------------


def test_password_change_signs_out_copied_cookies(browser: Browser, db: Session) -> None:
    user = create_user(db)
    old_token = browser.login(user.email, PASSWORD).cookies[SESSION_COOKIE]
    response = browser.submit("/profile/password", {
        "current_password": PASSWORD, "new_password": "a brand new passphrase",
    }, page="/profile")
    assert response.status_code == 303
    assert browser.get("/profile").status_code == 200  # this browser got a new session
    thief = Browser(browser.client.__class__(browser.client.app, follow_redirects=False))
    thief.client.cookies.set(SESSION_COOKIE, old_token)
    assert thief.get("/home").headers["location"].startswith("/login")
    assert accounts.authenticate(db, email=user.email, password="a brand new passphrase")


def test_password_change_needs_the_current_password(browser: Browser, db: Session) -> None:
    user = create_user(db)
    browser.login(user.email, PASSWORD)
    response = browser.submit("/profile/password", {
        "current_password": "not my password", "new_password": "a brand new passphrase",
    }, page="/profile")
    assert response.status_code == 400
    assert "That is not your current password." in response.text


def _last_mail(db: Session, settings: Settings) -> tuple[str, str, str]:
    files = delivered(db, settings)
    assert files, "no e-mail was written to the outbox"
    message = message_from_bytes(files[-1].read_bytes())
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    return str(message["To"]), str(message["Subject"]), body.decode()


def test_password_reset_by_emailed_single_use_link(
    browser: Browser, db: Session, settings: Settings
) -> None:
    user = create_user(db)
    response = browser.submit("/reset", {"email": user.email})
    assert "Check your e-mail" in response.text
    to, subject, body = _last_mail(db, settings)
    assert to == user.email and "Reset" in subject
    link = re.search(r"http://testserver(/reset/\S+)", body)
    assert link
    path = link.group(1)
    assert browser.get(path).status_code == 200
    done = browser.submit(path, {"password": "my new long password"}, page=path)
    assert done.status_code == 303
    assert accounts.authenticate(db, email=user.email, password="my new long password")
    again = browser.submit(path, {"password": "another long password"}, page="/reset")
    assert again.status_code == 400
    assert "expired or has already been used" in again.text


def test_reset_for_unknown_email_looks_the_same_and_sends_nothing(
    browser: Browser, db: Session, settings: Settings
) -> None:
    response = browser.submit("/reset", {"email": "nobody@example.org"})
    assert response.status_code == 200
    assert "Check your e-mail" in response.text
    assert not delivered(db, settings)


def test_expired_reset_link_is_refused(browser: Browser, db: Session, settings: Settings) -> None:
    user = create_user(db)
    token = accounts.issue_reset_token(db, user=user, settings=settings)
    db.commit()
    from app.accounts.models import PasswordResetToken

    row = db.exec(select(PasswordResetToken)).one()
    row.expires_at = now() - timedelta(minutes=1)
    db.add(row)
    db.commit()
    response = browser.get(f"/reset/{token}")
    assert response.status_code == 400
    assert "expired" in response.text


# Profile ------------------------------------------------------------------------------------


def _profile_form(user: User, **changes: str) -> dict[str, object]:
    return {"display_name": user.display_name, "email": user.email, "locale": "en",
            "time_zone": "UTC", "version": user.version, **changes}


def test_profile_is_saved(browser: Browser, db: Session) -> None:
    user = create_user(db)
    browser.login(user.email, PASSWORD)
    response = browser.submit("/profile", _profile_form(user, display_name="New Name",
                                                        time_zone="Europe/Madrid"))
    assert response.status_code == 303
    db.refresh(user)
    assert (user.display_name, user.time_zone, user.version) == ("New Name", "Europe/Madrid", 2)
    assert "Profile saved." in browser.get("/profile").text


def test_profile_with_unknown_time_zone_keeps_input(browser: Browser, db: Session) -> None:
    user = create_user(db)
    browser.login(user.email, PASSWORD)
    response = browser.submit("/profile", _profile_form(user, display_name="Typed Name",
                                                        time_zone="Mars/Olympus"))
    assert response.status_code == 400
    assert "Choose a time zone from the list" in response.text
    assert 'value="Typed Name"' in response.text
    db.refresh(user)
    assert user.display_name != "Typed Name"


def test_stale_profile_edit_is_detected_not_overwritten(browser: Browser, db: Session) -> None:
    user = create_user(db)
    browser.login(user.email, PASSWORD)
    first = browser.submit("/profile", _profile_form(user, display_name="From tab one"))
    assert first.status_code == 303
    second = browser.submit("/profile", _profile_form(user, display_name="From tab two",
                                                      version="1"))
    assert second.status_code == 409
    assert "changed in another window" in second.text
    db.refresh(user)
    assert user.display_name == "From tab one"


# Invitations and roles ----------------------------------------------------------------------


def test_manager_invites_a_mentor_who_joins_by_the_link(
    browser: Browser, db: Session, settings: Settings
) -> None:
    manager = create_user(db, roles=[Role.manager])
    browser.login(manager.email, PASSWORD)
    sent = browser.submit("/mentors/invitations", {"email": "new.mentor@example.org"},
                          page="/mentors/invitations")
    assert sent.status_code == 303
    assert "new.mentor@example.org" in browser.get("/mentors/invitations").text
    to, _subject, body = _last_mail(db, settings)
    assert to == "new.mentor@example.org"
    link = re.search(r"http://testserver(/invitations/\S+)", body)
    assert link
    browser.logout()
    joined = browser.submit(link.group(1), {"display_name": "Nia", "password": "mentor password"},
                            page=link.group(1))
    assert joined.status_code == 303
    mentor = accounts.get_user_by_email(db, "new.mentor@example.org")
    assert mentor is not None and mentor.id is not None
    assert accounts.roles_of(db, mentor.id) == {Role.mentor}
    reused = browser.get(link.group(1))
    assert "expired or has already been used" in reused.text


def test_admin_grants_a_role_and_it_is_audited(browser: Browser, db: Session) -> None:
    admin = create_user(db, roles=[Role.admin])
    member = create_user(db)
    browser.login(admin.email, PASSWORD)
    response = browser.submit(f"/admin/users/{member.id}/roles",
                              {"roles": ["member", "researcher"]}, page=f"/admin/users/{member.id}")
    assert response.status_code == 303
    assert member.id is not None
    assert accounts.roles_of(db, member.id) == {Role.member, Role.researcher}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "role.granted")).one()
    assert (event.actor_id, event.details) == (admin.id, {"role": "researcher"})
    assert "role.granted" in browser.get("/admin/audit").text


def test_admin_cannot_remove_their_own_admin_role(browser: Browser, db: Session) -> None:
    admin = create_user(db, roles=[Role.admin])
    browser.login(admin.email, PASSWORD)
    response = browser.submit(f"/admin/users/{admin.id}/roles", {"roles": ["member"]},
                              page=f"/admin/users/{admin.id}")
    assert response.status_code == 400
    assert admin.id is not None
    assert Role.admin in accounts.roles_of(db, admin.id)


def test_user_search_answers_htmx_with_only_the_results(browser: Browser, db: Session) -> None:
    admin = create_user(db, roles=[Role.admin])
    create_user(db, display_name="Findable Person")
    browser.login(admin.email, PASSWORD)
    response = browser.get("/admin/users?q=findable", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Findable Person" in response.text
    assert "<html" not in response.text and "<table>" in response.text
    assert "HX-Request" in response.headers["vary"]


def test_sign_up_attempts_per_address_are_limited(browser: Browser) -> None:
    for attempt in range(5):
        browser.submit("/signup", {"display_name": "X", "email": "same@example.org",
                                   "password": f"a long enough pass {attempt}"})
        browser.client.cookies.clear()
    response = browser.submit("/signup", {"display_name": "X", "email": "same@example.org",
                                          "password": "a long enough pass"})
    assert response.status_code == 429
    assert "Please try again in" in response.text
    assert 'value="same@example.org"' in response.text


def test_reset_requests_per_address_are_limited(browser: Browser, db: Session) -> None:
    user = create_user(db)
    for _ in range(3):
        assert browser.submit("/reset", {"email": user.email}).status_code == 200
    response = browser.submit("/reset", {"email": user.email})
    assert response.status_code == 429
    assert "Please try again in" in response.text


def test_sign_up_returns_to_the_page_that_sent_the_visitor(browser: Browser) -> None:
    page = browser.get("/signup?next=/join/abc")
    assert 'name="next" value="/join/abc"' in page.text
    response = browser.submit("/signup", {
        "display_name": "Newcomer", "email": "new@example.org",
        "password": "a long enough pass", "next": "/join/abc",
    })
    assert response.headers["location"] == "/join/abc"


def test_a_demo_account_can_reset_its_password(
    browser: Browser, db: Session, settings: Settings
) -> None:
    member = next(login for login in DEMO_LOGINS if login.role == Role.member)
    create_user(db, email=member.email)
    response = browser.submit("/reset", {"email": member.email})
    assert response.status_code == 200 and "Check your e-mail" in response.text
    to, _subject, body = _last_mail(db, settings)
    assert to == member.email
    link = re.search(r"http://testserver(/reset/\S+)", body)
    assert link
    done = browser.submit(link.group(1), {"password": "a new demo password"}, page=link.group(1))
    assert done.status_code == 303
    browser.login(member.email, "a new demo password")


def test_demo_accounts_under_the_old_reserved_name_are_moved(db: Session) -> None:
    old = create_user(db, email="manager@demo.telos.localhost")
    assert move_old_demo_accounts(db) == 1
    db.refresh(old)
    assert old.email == "manager@demo.example.org"
