"""Stored suggestions: computed by a job when the purpose, the mentors or the content
change; pages read them without scoring and drop, when shown, what no longer fits; and
content comes in the member's own language when they chose none."""

from sqlmodel import Session, select

from app.accounts import service as accounts
from app.accounts.models import User
from app.community import content
from app.community import demo as community_demo
from app.community.content_forms import ContentForm
from app.jobs.models import Job, JobStatus
from app.journeys import service as journeys
from app.journeys import statements
from app.journeys.models import Visibility
from app.matching import service as matching
from app.matching import suggestions
from app.matching.models import MemberSuggestions
from app.settings import Settings
from tests.browsing import Browser
from tests.community.content_factories import create_item
from tests.journeys.walking import sign_in
from tests.matching.factories import (
    SUGGESTION_JOBS,
    create_member,
    create_mentor,
    create_theme,
    let_time_pass,
    run_jobs,
)

BASE = "http://testserver"


def queued(db: Session) -> list[Job]:
    return list(db.exec(select(Job).where(Job.name == suggestions.TASK,
                                          Job.status == JobStatus.queued)))


def stored(db: Session, user_id: int | None) -> MemberSuggestions:
    db.expire_all()
    row = db.exec(select(MemberSuggestions).where(MemberSuggestions.user_id == user_id)).one()
    return row


def user_of(db: Session, user_id: int | None) -> User:
    user = accounts.get_user(db, user_id or 0)
    assert user is not None
    return user


def mentor_names(db: Session, user_id: int | None) -> list[str]:
    return [s.name for s in suggestions.shown(db, user=user_of(db, user_id)).mentors]


def test_saving_preferences_asks_for_the_members_lists_and_the_job_stores_them(
    db: Session, settings: Settings
) -> None:
    youth = create_theme(db, "Youth and education")
    teacher = create_mentor(db, name="Teacher Tess", themes=[youth],
                            bio="I help young people find work they care about.")
    member = create_member(db)
    run_jobs(db, settings, SUGGESTION_JOBS)
    first = stored(db, member.id)
    first_at, first_fingerprint = first.computed_at, first.fingerprint
    matching.save_preferences(db, user_id=member.id or 0, themes=[youth], languages=["en"],
                              wishes=[], wants="Someone who knows schools.")
    db.commit()
    # (The mentor's refresh of everyone waits for its window; the member's does not.)
    assert [job.payload for job in queued(db)] == [{"everyone": True},
                                                   {"user_ids": [member.id]}]
    assert run_jobs(db, settings, SUGGESTION_JOBS) == 1
    again = stored(db, member.id)
    assert again.computed_at > first_at and again.fingerprint != first_fingerprint
    assert again.mentors[0]["mentor_id"] == teacher.id
    assert "both care about youth and education" in again.mentors[0]["explanation"]


def test_a_new_statement_version_and_its_visibility_ask_for_new_lists(db: Session) -> None:
    member = create_member(db)
    enrolment = journeys.current_enrolment(db, user_id=member.id or 0)
    assert enrolment is not None and enrolment.id is not None
    before = len(queued(db))
    statements.save_version(db, enrolment=enrolment, text="I want to grow food.", parts={})
    assert len(queued(db)) == before + 1
    statements.save_version(db, enrolment=enrolment, text="I want to grow food.", parts={})
    assert len(queued(db)) == before + 1  # the same text is no new version
    statements.publish(db, enrolment_id=enrolment.id, visibility=Visibility.community)
    assert [job.payload for job in queued(db)][-1] == {"user_ids": [member.id]}


def test_the_same_inputs_are_not_scored_twice(db: Session, settings: Settings) -> None:
    create_mentor(db)
    member = create_member(db)
    run_jobs(db, settings, SUGGESTION_JOBS)
    computed_at = stored(db, member.id).computed_at
    matching.purpose_changed(db, user_id=member.id or 0)  # asked again, nothing changed
    db.commit()
    assert run_jobs(db, settings, SUGGESTION_JOBS) == 1
    assert stored(db, member.id).computed_at == computed_at


def test_home_reads_the_stored_lists_without_scoring(
    browser: Browser, db: Session, settings: Settings
) -> None:
    create_mentor(db, name="Paula Mentor")
    member = create_member(db, name="Quentin Member")
    run_jobs(db, settings, SUGGESTION_JOBS)
    row = stored(db, member.id)
    # A mark only the stored list carries: a page that scored afresh would not show it.
    row.mentors = [{**row.mentors[0], "explanation": "read from the stored list"}]
    db.add(row)
    db.commit()
    computed_at = row.computed_at
    jobs_before = len(db.exec(select(Job)).all())
    sign_in(browser, db, member)
    for _ in range(3):
        page = browser.get("/home").text
        assert "<strong>Paula Mentor</strong> (read from the stored list)" in page
    assert "Paula Mentor" in browser.get("/my-mentor").text
    assert stored(db, member.id).computed_at == computed_at
    assert len(db.exec(select(Job)).all()) == jobs_before  # no computation was asked for


def test_without_stored_lists_home_says_they_are_being_prepared_and_asks_once(
    browser: Browser, db: Session, settings: Settings
) -> None:
    create_mentor(db, name="Rita Mentor")
    member = create_member(db)
    for job in queued(db):  # the lists asked for when the member was made are not there
        db.delete(job)
    db.commit()
    sign_in(browser, db, member)
    for _ in range(2):
        assert "Suggestions are being prepared" in browser.get("/home").text
    assert [job.payload for job in queued(db) if "user_ids" in job.payload] == [
        {"user_ids": [member.id]}]
    assert run_jobs(db, settings, SUGGESTION_JOBS) == 1
    assert "Rita Mentor" in browser.get("/home").text


def test_a_stale_list_never_shows_a_mentor_who_no_longer_fits(
    db: Session, settings: Settings
) -> None:
    full = create_mentor(db, name="Full Fiona", capacity=1)
    resting = create_mentor(db, name="Resting Rob")
    declined = create_mentor(db, name="Declining Dan")
    create_mentor(db, name="Open Olga")
    member, other = create_member(db), create_member(db)
    run_jobs(db, settings, SUGGESTION_JOBS)
    assert len(stored(db, member.id).mentors) == 4  # all four fit when it was computed

    matching.request_mentor(db, member=other, mentor_id=full.id or 0, base_url=BASE)
    matching.set_accepting(db, user_id=resting.id or 0, accepting=False)
    match, _ = matching.request_mentor(db, member=member, mentor_id=declined.id or 0,
                                       base_url=BASE)
    matching.decline(db, match=match, reason="", base_url=BASE)
    db.commit()
    # No refresh has run (the mentors' refresh waits for its window): the page filters.
    assert mentor_names(db, member.id) == ["Open Olga"]


def test_a_stale_list_never_shows_archived_content(db: Session, settings: Settings) -> None:
    item = create_item(db, title="Garden day", summary="Dig beds together.")
    member = create_member(db, statement="I love gardens.")
    run_jobs(db, settings, SUGGESTION_JOBS)
    user = user_of(db, member.id)
    assert [s.item.title for s in suggestions.shown(db, user=user).content] == ["Garden day"]
    content.set_archived(db, item=item, archived=True)
    db.commit()
    assert suggestions.shown(db, user=user).content == []


def test_content_changes_refresh_everyones_lists_in_one_job(
    db: Session, settings: Settings
) -> None:
    members = [create_member(db, statement="I want to plant trees.") for _ in range(3)]
    run_jobs(db, settings, SUGGESTION_JOBS)
    assert all(stored(db, member.id).content == [] for member in members)
    for title in ("Tree planting morning", "Seed swap"):
        content.create_item(db, created_by_id=None, fields=ContentForm(
            title=title, summary="Plant trees with neighbours.", body="Bring gloves.",
            kind="event"))
    db.commit()
    everyone = [job for job in queued(db) if job.payload == {"everyone": True}]
    assert len(everyone) == 1  # two changes, one refresh
    assert run_jobs(db, settings, SUGGESTION_JOBS) == 0  # it waits for its window to close
    let_time_pass(db, SUGGESTION_JOBS)
    assert run_jobs(db, settings, SUGGESTION_JOBS) == 1  # and then asks per batch
    assert run_jobs(db, settings, SUGGESTION_JOBS) >= 1
    for member in members:
        assert len(stored(db, member.id).content) == 2


def test_a_member_who_chose_no_language_gets_content_in_their_accounts_language(
    browser: Browser, db: Session, settings: Settings
) -> None:
    community_demo.load(db)
    db.commit()
    member = create_member(db, statement="I want to meet friends and find my purpose.")
    assert member.locale == "en" and matching.preferences(db, user_id=member.id or 0) \
        .languages == []  # type: ignore[union-attr]
    run_jobs(db, settings, SUGGESTION_JOBS)
    sign_in(browser, db, member)
    page = browser.get("/home").text
    assert '<ul class="suggestions">' in page
    assert "Círculo de propósito" not in page and "Ejercicio: tres cosas buenas" not in page
    titles = [s.item.title for s in suggestions.shown(db, user=member).content]
    assert titles and all(s.item.language == "en"
                          for s in suggestions.shown(db, user=member).content)

    spanish = create_member(db, statement="Quiero encontrar mi propósito con amigos.")
    spanish.locale = "es"
    db.add(spanish)
    db.commit()
    matching.purpose_changed(db, user_id=spanish.id or 0)
    db.commit()
    run_jobs(db, settings, SUGGESTION_JOBS)
    found = [s.item.language for s in suggestions.shown(db, user=spanish).content]
    assert found and set(found) == {"es"}

    matching.save_preferences(db, user_id=member.id or 0, themes=[], wishes=[], wants="",
                              languages=["en", "es"])  # languages chosen still decide
    assert matching.content_languages(db, user=member) == {"en", "es"}
