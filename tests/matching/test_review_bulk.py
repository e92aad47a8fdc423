"""The run page's table of members waiting without a mentor: one bulk action, stale and
bad input answered on the same page with the selection kept; publishing asks first."""

from sqlmodel import Session, select

from app.accounts.models import Role, User
from app.matching.models import Match, MatchRun, MatchStatus, RunStatus
from app.settings import Settings
from tests.browsing import Browser
from tests.jobs import delivered
from tests.journeys.walking import another_browser, sign_in
from tests.matching.factories import RUN_JOBS, create_cohort, create_member, create_mentor, run_jobs


def drafted(db: Session, run_id: int | None) -> dict[int, Match]:
    db.expire_all()
    return {match.member_id: match for match in db.exec(select(Match).where(
        Match.run_id == run_id, Match.status == MatchStatus.draft))}


def draft_with_waiting(
    browser: Browser, db: Session, settings: Settings, waiting: int = 3
) -> tuple[MatchRun, list[User], User]:
    """A draft in which `waiting` members have no mentor (the only mentor takes one), and a
    second mentor with room added after the run."""
    cohort = create_cohort(db)
    members = [create_member(db, cohort) for _ in range(waiting + 1)]
    create_mentor(db, capacity=1)
    sign_in(browser, db, roles=(Role.manager,))
    response = browser.submit(f"/matching/cohorts/{cohort.id}/runs", page="/matching")
    assert run_jobs(db, settings, RUN_JOBS) == 1
    run = db.get(MatchRun, int(response.headers["location"].rsplit("/", 1)[1]))
    assert run is not None
    db.refresh(run)
    roomy = create_mentor(db, capacity=2, name="Roomy Mentor")
    unmatched = [member for member in members if member.id not in drafted(db, run.id)]
    assert len(unmatched) == waiting
    return run, unmatched, roomy


def test_the_waiting_members_are_one_table_with_one_action_bar(
    browser: Browser, db: Session, settings: Settings
) -> None:
    run, _waiting, roomy = draft_with_waiting(browser, db, settings)
    page = browser.get(f"/matching/runs/{run.id}").text
    assert page.count('<form method="post" action="/matching/runs/') - page.count("/matches/") \
        == 2  # the re-run and the one bulk form
    assert page.count('name="member_id"') == 3
    assert page.count(f'action="/matching/runs/{run.id}/unmatched"') == 1
    assert page.index("Publish and tell everyone") < page.index("unmatched-heading")
    assert f'<option value="{roomy.id}"' in page


def test_selected_members_are_matched_to_one_mentor_and_pinned(
    browser: Browser, db: Session, settings: Settings
) -> None:
    run, waiting, roomy = draft_with_waiting(browser, db, settings)
    url = f"/matching/runs/{run.id}"
    chosen = [str(user.id) for user in waiting[:2]]
    response = browser.submit(f"{url}/unmatched", {"member_id": chosen,
                                                   "mentor_id": str(roomy.id)}, page=url)
    assert response.status_code == 303 and response.headers["location"] == url
    assert "Matched 2 members by hand and pinned." in browser.get(url).text
    after = drafted(db, run.id)
    for user in waiting[:2]:
        assert (after[user.id or 0].mentor_id, after[user.id or 0].pinned) == (roomy.id, True)
    assert waiting[2].id not in after


def test_more_members_than_the_mentor_has_room_for_changes_nothing_and_keeps_the_choice(
    browser: Browser, db: Session, settings: Settings
) -> None:
    run, waiting, roomy = draft_with_waiting(browser, db, settings)
    url = f"/matching/runs/{run.id}"
    chosen = [str(user.id) for user in waiting]
    response = browser.submit(f"{url}/unmatched", {"member_id": chosen,
                                                   "mentor_id": str(roomy.id)}, page=url)
    assert response.status_code == 409
    assert "Roomy Mentor has 2 free places left in this draft and you selected 3" in response.text
    assert response.text.count("checked") == 3
    assert f'<option value="{roomy.id}" selected>' in response.text
    assert set(drafted(db, run.id)) & {user.id for user in waiting} == set()


def test_a_member_matched_meanwhile_is_reported_and_nothing_changes(
    browser: Browser, db: Session, settings: Settings
) -> None:
    run, waiting, roomy = draft_with_waiting(browser, db, settings)
    url = f"/matching/runs/{run.id}"
    colleague = another_browser(browser)
    sign_in(colleague, db, roles=(Role.manager,))
    first = waiting[0]
    assert colleague.submit(f"{url}/members/{first.id}/mentor", {"mentor_id": str(roomy.id)},
                            page=url).status_code == 303
    chosen = [str(user.id) for user in waiting[:2]]
    response = browser.submit(f"{url}/unmatched", {"member_id": chosen,
                                                   "mentor_id": str(roomy.id)}, page=url)
    assert response.status_code == 409
    assert "1 of the members you selected no longer wait without a mentor" in response.text
    assert waiting[1].id not in drafted(db, run.id)


def test_no_selection_or_no_mentor_is_asked_for_on_the_same_page(
    browser: Browser, db: Session, settings: Settings
) -> None:
    run, waiting, roomy = draft_with_waiting(browser, db, settings)
    url = f"/matching/runs/{run.id}"
    nothing = browser.submit(f"{url}/unmatched", {"mentor_id": str(roomy.id)}, page=url)
    assert nothing.status_code == 400
    assert "Select at least one member in the table." in nothing.text
    no_mentor = browser.submit(f"{url}/unmatched", {"member_id": [str(waiting[0].id), "x²"],
                                                    "mentor_id": "nobody"}, page=url)
    assert no_mentor.status_code == 400 and "Choose a mentor from the list." in no_mentor.text
    assert no_mentor.text.count("checked") == 1
    assert set(drafted(db, run.id)) & {user.id for user in waiting} == set()


def test_publishing_asks_first_with_the_number_of_mails_and_a_stale_count_asks_again(
    browser: Browser, db: Session, settings: Settings
) -> None:
    run, waiting, roomy = draft_with_waiting(browser, db, settings, waiting=1)
    url = f"/matching/runs/{run.id}"
    unconfirmed = browser.submit(f"{url}/publish", page=url)
    assert unconfirmed.status_code == 200 and "This sends 2 e-mails" in unconfirmed.text
    assert browser.get(f"{url}/publish").text.count('name="emails" value="2"') == 1
    browser.submit(f"{url}/members/{waiting[0].id}/mentor", {"mentor_id": str(roomy.id)},
                   page=url)
    stale = browser.submit(f"{url}/publish", {"emails": "2"}, page=url)
    assert stale.status_code == 409
    assert "The draft changed since you were asked" in stale.text
    assert "This sends 4 e-mails" in stale.text
    db.expire_all()
    assert db.get(MatchRun, run.id).status == RunStatus.draft  # type: ignore[union-attr]
    assert delivered(db, settings) == []
    done = browser.submit(f"{url}/publish", {"emails": "4"}, page=url)
    assert done.status_code == 303
    assert len(delivered(db, settings)) == 4
