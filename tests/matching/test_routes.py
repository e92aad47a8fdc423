"""Matching through the site: the manager's review and publish, the mentor's answers,
the member's preferences, requests and fit, and who may see and do what."""

import re

import pytest
from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.journeys.models import Visibility
from app.matching import service as matching
from app.matching.models import Match, MatchRun, MatchStatus, MentorProfile, RunStatus
from app.settings import Settings
from tests.browsing import Browser
from tests.jobs import delivered
from tests.journeys.walking import another_browser, sign_in, start, walk_to
from tests.matching.factories import (
    PRIVATE_REFLECTION,
    RUN_JOBS,
    SUGGESTION_JOBS,
    create_cohort,
    create_member,
    create_mentor,
    create_theme,
    run_jobs,
)

BASE = "http://testserver"


def outbox(db: Session, settings: Settings) -> list[str]:
    return [path.read_text() for path in delivered(db, settings)]


def run_of(db: Session, response_location: str) -> MatchRun:
    run_id = int(response_location.rsplit("/", 1)[1])
    db.expire_all()
    run = db.get(MatchRun, run_id)
    assert run is not None
    return run


def drafts(db: Session, run: MatchRun) -> list[Match]:
    db.expire_all()
    return list(db.exec(select(Match).where(Match.run_id == run.id,
                                            Match.status == MatchStatus.draft)))


def start_run(
    manager: Browser, db: Session, settings: Settings, cohort_id: int | None
) -> MatchRun:
    """Starts a run from the overview and lets its job compute the draft."""
    response = manager.submit(f"/matching/cohorts/{cohort_id}/runs", page="/matching")
    assert response.status_code == 303, response.text
    assert run_of(db, response.headers["location"]).status == RunStatus.running
    assert run_jobs(db, settings, RUN_JOBS) == 1
    return run_of(db, response.headers["location"])


# The manager -------------------------------------------------------------------------------


def test_manager_sees_pool_and_mentor_load(browser: Browser, db: Session) -> None:
    cohort = create_cohort(db, "Autumn circle")
    create_member(db, cohort), create_member(db, cohort)
    create_mentor(db, name="Nadia Busy", capacity=3)
    sign_in(browser, db, roles=(Role.manager,))
    page = browser.get("/matching")
    assert page.status_code == 200
    assert re.search(r"<td>Autumn circle</td>\s*<td>2</td>", page.text)
    assert re.search(r"<td>Nadia Busy</td><td>0 / 3</td><td>yes</td>", page.text)


def test_manager_reviews_pins_excludes_and_publishes(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    anna = create_member(db, cohort, name="Anna Member", email="anna@example.org")
    ben = create_member(db, cohort, name="Ben Member")
    first = create_mentor(db, name="Mentor First", email="first@example.org")
    create_mentor(db, name="Mentor Second")
    sign_in(browser, db, roles=(Role.manager,))
    run = start_run(browser, db, settings, cohort.id)
    page = browser.get(f"/matching/runs/{run.id}")
    assert "The draft appears on this page; nothing is sent until you publish" in page.text
    assert "Anna Member" in page.text and "Ben Member" in page.text
    assert "Exclude this pair" in page.text and "Swap Anna Member to" in page.text
    rows = {row.member_id: row for row in drafts(db, run)}
    pinned, excluded = rows[anna.id or 0], rows[ben.id or 0]

    response = browser.submit(f"/matching/runs/{run.id}/matches/{pinned.id}/pin",
                              {"pinned": "yes"})
    assert response.status_code == 303
    response = browser.submit(f"/matching/runs/{run.id}/matches/{excluded.id}/exclude")
    assert response.status_code == 303
    assert browser.submit(f"/matching/runs/{run.id}/rerun").status_code == 303
    assert run_jobs(db, settings, RUN_JOBS) == 1
    after = {row.member_id: row for row in drafts(db, run)}
    assert after[anna.id or 0].id == pinned.id and after[anna.id or 0].pinned
    assert after[ben.id or 0].mentor_id != excluded.mentor_id
    reviewed = browser.get(f"/matching/runs/{run.id}").text
    assert "Excluded pairs" in reviewed and '<span class="badge">pinned</span>' in reviewed

    asked = browser.get(f"/matching/runs/{run.id}/publish")
    assert "This sends 4 e-mails" in asked.text and len(outbox(db, settings)) == 0
    response = browser.submit(f"/matching/runs/{run.id}/publish", {"emails": "4"})
    assert response.status_code == 303
    assert "Published: 2 mentors asked" in browser.get(response.headers["location"]).text
    db.expire_all()
    assert db.get(MatchRun, run.id).status == RunStatus.published  # type: ignore[union-attr]
    statuses = [match.status for match in db.exec(select(Match).where(Match.run_id == run.id))]
    assert statuses == [MatchStatus.proposed, MatchStatus.proposed]
    mails = outbox(db, settings)
    assert any("To: anna@example.org" in mail for mail in mails)
    if after[anna.id or 0].mentor_id == first.id:
        assert any("To: first@example.org" in mail for mail in mails)
    assert len(mails) == 4

    again = browser.submit(f"/matching/runs/{run.id}/publish")
    assert again.status_code == 409
    assert "was already published; nothing was sent twice" in again.text
    assert len(outbox(db, settings)) == 4
    assert len(db.exec(select(Match).where(Match.run_id == run.id)).all()) == 2


def test_swap_to_an_alternative_and_match_by_hand(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    anna = create_member(db, cohort)
    first, second = create_mentor(db, capacity=1), create_mentor(db, capacity=1)
    sign_in(browser, db, roles=(Role.manager,))
    run = start_run(browser, db, settings, cohort.id)
    row = drafts(db, run)[0]
    other = second if row.mentor_id == first.id else first
    response = browser.submit(f"/matching/runs/{run.id}/matches/{row.id}/swap",
                              {"mentor_id": str(other.id)})
    assert response.status_code == 303
    swapped = drafts(db, run)[0]
    assert (swapped.mentor_id, swapped.pinned, swapped.source) == (other.id, True, "manager")
    browser.submit(f"/matching/runs/{run.id}/matches/{row.id}/exclude")
    page = browser.get(f"/matching/runs/{run.id}").text
    assert f'<label for="unmatched-{anna.id}">{anna.display_name}</label>' in page
    response = browser.submit(f"/matching/runs/{run.id}/members/{anna.id}/mentor",
                              {"mentor_id": str(row.mentor_id)})
    assert response.status_code == 303
    assert [(m.member_id, m.source) for m in drafts(db, run)] == [(anna.id, "manager")]


def test_swap_offers_only_mentors_with_room_in_the_draft_and_a_stale_choice_says_why(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    create_member(db, cohort), create_member(db, cohort)
    first, second = create_mentor(db, capacity=1), create_mentor(db, capacity=1)
    sign_in(browser, db, roles=(Role.manager,))
    run = start_run(browser, db, settings, cohort.id)
    rows = drafts(db, run)
    assert sorted(row.mentor_id for row in rows) == sorted([first.id, second.id])
    row = rows[0]
    other = second if row.mentor_id == first.id else first
    page = browser.get(f"/matching/runs/{run.id}").text
    # Both mentors carry one pair of this draft: neither is offered, both say why.
    assert f'<option value="{other.id}">' not in page
    assert page.count('<span class="badge">full in this draft</span>') == 2
    assert page.count("Every alternative is full in this draft.") == 2

    # A list older than the draft: the choice comes back to the same page with the reason.
    response = browser.submit(f"/matching/runs/{run.id}/matches/{row.id}/swap",
                              {"mentor_id": str(other.id)}, page=f"/matching/runs/{run.id}")
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/matching/runs/{run.id}")
    after = browser.get(response.headers["location"]).text
    assert "has no free place left in this run" in after
    assert [match.mentor_id for match in drafts(db, run) if match.id == row.id] == [row.mentor_id]


def test_the_mentors_offered_by_hand_show_the_load_with_this_draft(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    anna = create_member(db, cohort)
    roomy = create_mentor(db, capacity=3)
    sign_in(browser, db, roles=(Role.manager,))
    run = start_run(browser, db, settings, cohort.id)
    [row] = drafts(db, run)
    browser.submit(f"/matching/runs/{run.id}/matches/{row.id}/exclude")
    create_member(db, cohort)  # nothing drafted for them; anna waits after the exclusion
    page = browser.get(f"/matching/runs/{run.id}").text
    assert f'<label for="unmatched-{anna.id}">{anna.display_name}</label>' in page
    assert f"{roomy.display_name} (0/3 with this draft)" in page


def test_weights_are_validated_and_kept(
    browser: Browser, db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    sign_in(browser, db, roles=(Role.manager,))
    url = f"/matching/cohorts/{cohort.id}/weights"
    response = browser.submit(url, {"text": "lots", "themes": "-1", "time_zone": "0",
                                    "wishes": "0"})
    assert response.status_code == 400
    assert "Give a number, for example 0.3." in response.text
    assert "Give a number from 0 to 10." in response.text
    assert 'value="lots"' in response.text
    response = browser.submit(url, {"text": "0", "themes": "0", "time_zone": "0",
                                    "wishes": "0"})
    assert response.status_code == 400 and "At least one weight must be above 0" in response.text
    response = browser.submit(url, {"text": "1", "themes": "2", "time_zone": "0",
                                    "wishes": "0.5"})
    assert response.status_code == 303
    assert 'value="2"' in browser.get(url).text
    run = start_run(browser, db, settings, cohort.id)
    assert run.weights == {"text": 1.0, "themes": 2.0, "time_zone": 0.0, "wishes": 0.5}


def test_history_shows_how_matches_were_made_and_ended(browser: Browser, db: Session) -> None:
    member = create_member(db, name="Hana Member")
    mentor = create_mentor(db, name="Ivo Mentor")
    match, _ = matching.request_mentor(db, member=member, mentor_id=mentor.id or 0,
                                       base_url=BASE)
    matching.decline(db, match=match, reason="Away until June", base_url=BASE)
    db.commit()
    sign_in(browser, db, roles=(Role.manager,))
    page = browser.get("/matching/history").text
    assert re.search(r"<td>Hana Member</td>\s*<td>Ivo Mentor</td>\s*<td>requested by the "
                     r"member</td>\s*<td>declined: Away until June</td>", page)


# The mentor --------------------------------------------------------------------------------


def mentor_with_request(
    db: Session, *, visibility: Visibility = Visibility.mentor
) -> tuple[User, User, Match]:
    youth = create_theme(db, "Youth and education")
    member = create_member(db, name="Rosa Member", statement="I want to teach children to read.",
                           visibility=visibility, themes=[youth], wants="Patience, please.")
    mentor = create_mentor(db, name="Sam Mentor", themes=[youth])
    match, _ = matching.request_mentor(db, member=member, mentor_id=mentor.id or 0,
                                       base_url=BASE)
    db.commit()
    return member, mentor, match


def test_mentor_sees_what_the_member_shared_and_accepts(
    browser: Browser, db: Session, settings: Settings
) -> None:
    member, mentor, match = mentor_with_request(db)
    sign_in(browser, db, mentor)
    page = browser.get("/mentor/requests").text
    assert "Rosa Member" in page and "I want to teach children to read." in page
    assert "Youth and education" in page and "Patience, please." in page
    assert PRIVATE_REFLECTION not in page
    response = browser.submit(f"/mentor/requests/{match.id}/accept")
    assert response.status_code == 303
    db.refresh(match)
    assert match.status == MatchStatus.accepted
    assert any(f"To: {member.email}" in mail and "has accepted" in mail
               for mail in outbox(db, settings))
    assert "After your first meeting: is this a good fit?" in browser.get("/mentor/requests").text


def test_a_private_statement_is_never_shown_to_the_mentor(browser: Browser, db: Session) -> None:
    _member, mentor, _match = mentor_with_request(db, visibility=Visibility.private)
    sign_in(browser, db, mentor)
    page = browser.get("/mentor/requests").text
    assert "Rosa Member" in page
    assert "I want to teach children to read." not in page
    assert "They have not shared their purpose statement." in page
    assert PRIVATE_REFLECTION not in page


def test_decline_returns_the_member_to_the_pool_and_a_late_accept_is_refused(
    browser: Browser, db: Session
) -> None:
    member, mentor, match = mentor_with_request(db)
    sign_in(browser, db, mentor)
    other_tab_token = browser.token("/mentor/requests")
    response = browser.submit(f"/mentor/requests/{match.id}/decline",
                              {"reason": "I am moving house"})
    assert response.status_code == 303
    db.refresh(match)
    assert (match.status, match.decline_reason) == (MatchStatus.declined, "I am moving house")
    assert matching.open_match(db, member_id=member.id or 0) is None
    late = browser.client.post(f"/mentor/requests/{match.id}/accept",
                               data={"csrf_token": other_tab_token})
    assert late.status_code == 409
    assert "This request was already declined; nothing changed." in late.text
    db.refresh(match)
    assert match.status == MatchStatus.declined


def test_a_too_long_reason_is_refused_with_the_text_kept(browser: Browser, db: Session) -> None:
    _member, mentor, match = mentor_with_request(db)
    sign_in(browser, db, mentor)
    response = browser.submit(f"/mentor/requests/{match.id}/decline", {"reason": "x" * 501})
    assert response.status_code == 400
    assert "Use at most 500 characters." in response.text and "x" * 501 in response.text
    db.refresh(match)
    assert match.status == MatchStatus.proposed


def test_another_mentor_cannot_see_or_answer_the_request(browser: Browser, db: Session) -> None:
    _member, _mentor, match = mentor_with_request(db)
    sign_in(browser, db, create_mentor(db, name="Other Mentor"))
    assert "Rosa Member" not in browser.get("/mentor/requests").text
    for action in ("accept", "decline"):
        response = browser.submit(f"/mentor/requests/{match.id}/{action}")
        assert response.status_code == 404
    response = browser.submit(f"/matches/{match.id}/fit", {"fit": "no"})
    assert response.status_code == 404
    db.refresh(match)
    assert match.status == MatchStatus.proposed


def test_mentor_profile_is_validated_and_kept(browser: Browser, db: Session) -> None:
    theme = create_theme(db, "Career and work")
    mentor = sign_in(browser, db, roles=(Role.mentor,))
    response = browser.submit("/mentor/profile", {
        "bio": "", "experience": "Ten years in nursing", "capacity": "lots",
        "themes": [theme], "offers": ["career"]}, page="/mentor/profile")
    assert response.status_code == 400
    assert "This field is required." in response.text
    assert "Choose at least one language you can mentor in." in response.text
    assert "Give a whole number, for example 2." in response.text
    assert "Ten years in nursing" in response.text and 'value="lots"' in response.text
    assert f'value="{theme}" checked' in response.text
    response = browser.submit("/mentor/profile", {
        "bio": "I listen.", "capacity": "1", "languages": ["en", "es"], "themes": [theme],
        "offers": ["career"], "accepting": "yes"}, page="/mentor/profile")
    assert response.status_code == 303
    profile = db.exec(select(MentorProfile).where(MentorProfile.user_id == mentor.id)).one()
    db.refresh(profile)
    assert (profile.bio, profile.languages, profile.themes, profile.capacity, profile.accepting) \
        == ("I listen.", ["en", "es"], [theme], 1, True)


def test_mentor_marks_themselves_unavailable(browser: Browser, db: Session) -> None:
    mentor = create_mentor(db)
    sign_in(browser, db, mentor)
    response = browser.submit("/mentor/availability", {"accepting": ""}, page="/mentor/requests")
    assert response.status_code == 303
    profile = matching.mentor_profile(db, user_id=mentor.id or 0)
    assert profile is not None
    db.refresh(profile)
    assert profile.accepting is False
    assert "I am taking new mentees again" in browser.get("/mentor/requests").text


# The member --------------------------------------------------------------------------------


def test_member_saves_preferences_sees_suggestions_and_requests_a_mentor(
    browser: Browser, db: Session, settings: Settings
) -> None:
    youth = create_theme(db, "Youth and education")
    mentor = create_mentor(db, name="Tomas Mentor", themes=[youth], email="tomas@example.org",
                           bio="I coach young people who are looking for their first job.")
    member = create_member(db)
    sign_in(browser, db, member)
    response = browser.submit("/my-mentor/preferences", {
        "themes": [youth], "languages": ["en"], "wishes": ["career"], "wants": "x" * 1001},
        page="/my-mentor")
    assert response.status_code == 400 and "Use at most 1000 characters." in response.text
    assert f'value="{youth}" checked' in response.text
    response = browser.submit("/my-mentor/preferences", {
        "themes": [youth], "languages": ["en"], "wishes": ["career"], "wants": "Be direct."},
        page="/my-mentor")
    assert response.status_code == 303
    assert run_jobs(db, settings, SUGGESTION_JOBS) >= 1  # the save asked for new lists
    page = browser.get("/my-mentor").text
    assert "Tomas Mentor" in page and "both care about youth and education" in page
    response = browser.submit("/my-mentor/request", {"mentor_id": str(mentor.id)},
                              page="/my-mentor")
    assert response.status_code == 303
    match = matching.open_match(db, member_id=member.id or 0)
    assert match is not None and (match.mentor_id, match.status) == (mentor.id, "proposed")
    assert any("To: tomas@example.org" in mail for mail in outbox(db, settings))
    assert "has been asked to be your mentor" in browser.get("/my-mentor").text
    again = browser.submit("/my-mentor/request", {"mentor_id": str(mentor.id)},
                           page="/my-mentor")
    assert again.status_code == 303  # a second click is answered with the first request
    assert "already on its way" in browser.get(again.headers["location"]).text
    assert len(db.exec(select(Match).where(Match.member_id == member.id)).all()) == 1
    assert sum("To: tomas@example.org" in mail for mail in outbox(db, settings)) == 1
    other = create_mentor(db, name="Another Mentor")
    refused = browser.submit("/my-mentor/request", {"mentor_id": str(other.id)},
                             page="/my-mentor")
    assert refused.status_code == 409 and "One at a time" in refused.text


def test_a_member_withdraws_an_unanswered_request_and_the_mentor_is_told(
    browser: Browser, db: Session, settings: Settings
) -> None:
    member, mentor, match = mentor_with_request(db)
    sign_in(browser, db, member)
    page = browser.get("/my-mentor").text
    assert f"Withdraw my request to {mentor.display_name}" in page
    response = browser.submit(f"/my-mentor/requests/{match.id}/withdraw",
                              {"next": "/my-mentor"}, page="/my-mentor")
    assert response.status_code == 303 and response.headers["location"] == "/my-mentor"
    db.refresh(match)
    assert match.status == MatchStatus.withdrawn
    assert matching.open_match(db, member_id=member.id or 0) is None
    assert any(f"To: {mentor.email}" in mail and "has withdrawn their request" in mail
               for mail in outbox(db, settings))
    assert "You have no mentor yet" in browser.get("/my-mentor").text
    # Twice, or after the mentor answered: the reason, nothing changed.
    again = browser.submit(f"/my-mentor/requests/{match.id}/withdraw", page="/my-mentor")
    assert again.status_code == 409 and "already withdrawn; nothing changed" in again.text
    # They may ask the same mentor again later: a withdrawal is not a "no".
    asked = browser.submit("/my-mentor/request", {"mentor_id": str(mentor.id)},
                           page="/my-mentor")
    assert asked.status_code == 303


def test_nobody_else_can_withdraw_a_members_request(browser: Browser, db: Session) -> None:
    _member, _mentor, match = mentor_with_request(db)
    sign_in(browser, db, create_member(db))
    response = browser.submit(f"/my-mentor/requests/{match.id}/withdraw", page="/my-mentor")
    assert response.status_code == 404
    db.refresh(match)
    assert match.status == MatchStatus.proposed


def test_fit_no_from_the_member_ends_the_match(
    browser: Browser, db: Session, settings: Settings
) -> None:
    member, _mentor, match = mentor_with_request(db)
    matching.accept(db, match=match, base_url=BASE)
    db.commit()
    run_jobs(db, settings, SUGGESTION_JOBS)
    sign_in(browser, db, member)
    assert "After your first meeting: is this a good fit?" in browser.get("/my-mentor").text
    response = browser.submit(f"/matches/{match.id}/fit", {"fit": "no", "next": "/my-mentor"})
    assert response.status_code == 303 and response.headers["location"] == "/my-mentor"
    db.refresh(match)
    assert (match.status, match.member_fit) == (MatchStatus.ended, False)
    assert matching.open_match(db, member_id=member.id or 0) is None
    page = browser.get("/my-mentor").text
    assert "Mentors who could fit" in page and "being prepared" not in page
    assert "Sam Mentor" not in page  # never suggested again, though the stored list has him


def test_the_journeys_match_step_shows_mentors_and_a_request_button(
    browser: Browser, db: Session, settings: Settings
) -> None:
    create_mentor(db, name="Uma Mentor", bio="I help people find their feet in a new town.")
    start(browser, db)
    walk_to(browser, "mentors")
    assert "Suggestions are being prepared" in browser.get("/journey/steps/mentors").text
    assert run_jobs(db, settings, SUGGESTION_JOBS) >= 1  # the visit asked for the lists
    page = browser.get("/journey/steps/mentors").text
    assert "Uma Mentor" in page and "Request Uma Mentor as my mentor" in page
    assert 'name="next" value="/journey/steps/mentors"' in page
    assert "not available yet" not in page


def test_home_page_shows_mentor_suggestions_and_waiting_requests(
    browser: Browser, db: Session, settings: Settings
) -> None:
    _member, mentor, _match = mentor_with_request(db)
    create_mentor(db, name="Vera Mentor")
    sign_in(browser, db, mentor)
    assert "1 request waits for your answer." in browser.get("/home").text
    member_browser = another_browser(browser)
    sign_in(member_browser, db)
    assert "Suggestions are being prepared" in member_browser.get("/home").text
    assert run_jobs(db, settings, SUGGESTION_JOBS) >= 1
    assert "Vera Mentor" in member_browser.get("/home").text


@pytest.mark.parametrize("sent", ["", "tomas", "²", "9" * 30])
def test_a_request_for_no_mentor_says_so(browser: Browser, db: Session, sent: str) -> None:
    sign_in(browser, db, create_member(db))
    response = browser.submit("/my-mentor/request", {"mentor_id": sent}, page="/my-mentor")
    assert response.status_code == 400
    assert "Choose a mentor from the suggestions." in response.text
