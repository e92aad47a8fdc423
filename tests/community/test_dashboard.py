"""The manager's dashboard: a cohort's funnel, who stalled (and a nudge), mentor load, and
the counts as CSV; counts and activity only, never what members wrote."""

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, col, select

from app.accounts import consent
from app.accounts.models import Role, User
from app.audit.models import AuditEvent
from app.clock import now
from app.community import dashboard
from app.community.models import Cohort
from app.journeys import service as journeys
from app.journeys.definitions import Wave
from app.journeys.models import Enrolment, EnrolmentStatus
from app.matching.models import Match, MatchSource, MatchStatus
from app.reminders import service as reminders
from app.reminders.models import Reminder, ReminderKind
from app.research import service as research
from app.settings import Settings
from app.surveys import waves
from app.surveys.models import ResponseStatus, SurveyResponse
from tests.browsing import Browser
from tests.factories import create_user
from tests.journeys.walking import sign_in
from tests.matching.factories import create_cohort, create_mentor
from tests.reminders.helpers import mails
from tests.research.studies import make_cohort, make_member, make_study, researcher

WALK_STEPS = ["baseline", "welcome", "moments", "values", "energy", "support", "mentors",
              "draft", "ask", "revise", "share", "plan", "closing"]
DISCOVER, REFINE = WALK_STEPS[:7], WALK_STEPS[7:10]
SECRET = "Only mine: the summer I nearly gave up."


def on_walk(db: Session, cohort: Cohort, name: str, *, done: list[str],
            waves_sent: tuple[Wave, ...] = (), quiet_days: float = 0,
            status: EnrolmentStatus = EnrolmentStatus.active, reminders_on: bool = True,
            research_consent: bool | None = None) -> Enrolment:
    """A member of `cohort` with these steps done and waves sent, last active
    `quiet_days` ago."""
    user = create_user(db, display_name=name)
    assert user.id is not None
    user.reminders = reminders_on
    db.add(user)
    if research_consent is not None:
        document = consent.current_document(db)
        assert document is not None
        consent.give(db, user_id=user.id, document=document, research_use=True)
        if not research_consent:
            consent.withdraw_research(db, user_id=user.id)
    enrolment = journeys.enrol(db, user_id=user.id, journey_key="walk", cohort_id=cohort.id)
    for step_id in done:
        journeys.mark_done(db, enrolment=enrolment, step_id=step_id)
    for wave in waves_sent:
        sent(db, enrolment, wave)
    enrolment.status = status
    enrolment.last_activity_at = now() - timedelta(days=quiet_days)
    db.add(enrolment)
    db.commit()
    return enrolment


def sent(db: Session, enrolment: Enrolment, wave: Wave) -> None:
    version = waves.latest_instrument(db, "happiness")
    assert version.id is not None
    db.add(SurveyResponse(
        user_id=enrolment.user_id, enrolment_id=enrolment.id, wave=wave.value,
        participant_code=enrolment.participant_code, instrument_key="happiness",
        instrument_version_id=version.id, answers={"h1": 3}, status=ResponseStatus.submitted,
        submitted_at=now()))
    db.flush()


@dataclass
class Pilot:
    cohort: Cohort
    ada: Enrolment
    bea: Enrolment
    cy: Enrolment
    dee: Enrolment
    elsewhere: Enrolment


@pytest.fixture
def pilot(db: Session) -> Pilot:
    """Five members of one cohort (followed by a study) and one of another:

    Ada   research consent; baseline sent; Discover done, Refine started (wrote SECRET)
    Bea   consent withdrawn; baseline sent; two steps done; quiet 20 days
    Cy    nothing done; quiet 15 days; reminders off
    Dee   research consent; every step and every wave; completed
    Eve   baseline sent and done; left
    """
    cohort = create_cohort(db, "Pilot spring")
    other = create_cohort(db, "Other autumn")
    ada = on_walk(db, cohort, "Ada", done=DISCOVER, waves_sent=(Wave.pre,),
                  research_consent=True)
    journeys.save_answer(db, enrolment=ada, step_id="draft",
                         data={"parts": {"bring": SECRET}, "statement": SECRET},
                         base_version=0, editor="test")
    db.commit()
    bea = on_walk(db, cohort, "Bea", done=WALK_STEPS[:2], waves_sent=(Wave.pre,),
                  quiet_days=20, research_consent=False)
    cy = on_walk(db, cohort, "Cy", done=[], quiet_days=15, reminders_on=False)
    dee = on_walk(db, cohort, "Dee", done=WALK_STEPS, waves_sent=tuple(Wave),
                  status=EnrolmentStatus.completed, research_consent=True)
    on_walk(db, cohort, "Eve", done=["baseline"], waves_sent=(Wave.pre,),
            status=EnrolmentStatus.left, quiet_days=30)
    elsewhere = on_walk(db, other, "Zed", done=WALK_STEPS, waves_sent=tuple(Wave),
                        quiet_days=40, research_consent=True)
    researcher = create_user(db, roles=[Role.researcher])
    assert cohort.id is not None and researcher.id is not None
    research.create_study(db, title="Purpose pilot", slug="purpose-pilot", description="",
                          cohort_ids=[cohort.id], consent_key=consent.DEFAULT_KEY,
                          battery={}, free_text=False, creator_id=researcher.id)
    db.commit()
    return Pilot(cohort, ada, bea, cy, dee, elsewhere)


def stalled_section(page: str) -> str:
    return page.split('id="stalled-heading"')[1].split('id="mentors-heading"')[0]


def manager(browser: Browser, db: Session) -> User:
    return sign_in(browser, db, roles=(Role.manager,))


FUNNEL = [
    ("Joined", 5, "100%"),
    ("Consented to research", 2, "40%"),
    ("Baseline questionnaires done", 4, "80%"),
    ("Discover: reached", 4, "80%"),
    ("Discover: completed", 2, "40%"),
    ("Refine: reached", 2, "40%"),
    ("Refine: completed", 1, "20%"),
    ("Express: reached", 1, "20%"),
    ("Express: completed", 1, "20%"),
    ("Closing questionnaires done", 1, "20%"),
    ("Follow-up questionnaires done", 1, "20%"),
]


def test_the_funnel_counts_each_step_of_the_cohort_with_its_share(
    browser: Browser, db: Session, pilot: Pilot
) -> None:
    manager(browser, db)
    page = browser.get(f"/cohorts/{pilot.cohort.id}")
    assert page.status_code == 200
    for label, count, share in FUNNEL:
        assert f'<tr><th scope="row">{label}</th><td>{count}</td><td>{share}</td></tr>' \
            in page.text, label
    assert ("5 joined · 3 on the journey · 1 completed · 1 left · 2 with no activity for "
            "10 days.") in page.text
    assert "Research consent is counted for Purpose pilot." in page.text


def test_the_funnel_chart_is_drawn_on_the_server_with_a_text_alternative(
    browser: Browser, db: Session, pilot: Pilot
) -> None:
    manager(browser, db)
    page = browser.get(f"/cohorts/{pilot.cohort.id}").text
    assert 'role="img" aria-labelledby="funnel-chart-title funnel-chart-desc"' in page
    assert '<title id="funnel-chart-title">Funnel of Pilot spring</title>' in page
    assert ("Joined: 5 (100%); Consented to research: 2 (40%); Baseline questionnaires done: "
            "4 (80%);") in page
    # Bars are 250 wide at 100%; attributes only, as the CSP forbids inline styles.
    assert 'width="250.0" height="16" class="bar-after"' in page
    assert 'width="100.0" height="16" class="bar-after"' in page
    assert "style=" not in page and "<script>" not in page


def test_a_cohort_no_study_follows_has_no_consent_step_and_an_empty_one_no_shares(
    browser: Browser, db: Session
) -> None:
    manager(browser, db)
    cohort = create_cohort(db, "Quiet winter")
    page = browser.get(f"/cohorts/{cohort.id}").text
    assert '<tr><th scope="row">Joined</th><td>0</td><td>\N{EN DASH}</td></tr>' in page
    assert "Consented to research" not in page
    assert "Nobody on the journey has been quiet that long." in page


def test_stalled_members_are_listed_with_step_and_last_activity_never_their_words(
    browser: Browser, db: Session, pilot: Pilot
) -> None:
    manager(browser, db)
    page = browser.get(f"/cohorts/{pilot.cohort.id}").text
    stalled = stalled_section(page)
    rows = [row.split("</td>")[0] for row in stalled.split("<tr>\n        <td>")[1:]]
    assert rows == ["Bea", "Cy"]  # quiet the longest first; Eve left, Zed is elsewhere
    bea_day = pilot.bea.last_activity_at.date().isoformat()
    assert f"<td>Bea</td><td>Step 3 of 13: Moments</td><td>{bea_day}</td>" in stalled
    assert "<td>Cy</td><td>Step 1 of 13: Check-in</td>" in stalled
    assert "Turned reminders off: no nudge." in stalled
    assert f'action="/cohorts/{pilot.cohort.id}/stalled/{pilot.bea.id}/nudge"' in stalled
    assert f"/stalled/{pilot.cy.id}/nudge" not in stalled
    assert SECRET not in page


def test_a_manager_nudges_a_stalled_member_through_the_reminders_once(
    browser: Browser, db: Session, settings: Settings, pilot: Pilot
) -> None:
    boss = manager(browser, db)
    page = f"/cohorts/{pilot.cohort.id}"
    response = browser.submit(f"{page}/stalled/{pilot.bea.id}/nudge", page=page)
    assert response.status_code == 303
    assert response.headers["location"] == f"{page}#stalled-heading"
    assert "The nudge is on its way by e-mail." in browser.get(page).text

    [reminder] = db.exec(select(Reminder).where(Reminder.enrolment_id == pilot.bea.id)).all()
    assert (reminder.kind, reminder.occasion) == (
        ReminderKind.nudge, pilot.bea.last_activity_at.date().isoformat())
    [mail] = mails(db, settings)
    bea = db.get(User, pilot.bea.user_id)
    assert bea is not None and mail.to == bea.email
    assert "You stopped at “Moments”" in mail.body and "/reminders/off/" in mail.body
    [audited] = db.exec(select(AuditEvent).where(AuditEvent.action == "cohort.nudge")).all()
    assert (audited.actor_id, audited.target_id) == (boss.id, str(pilot.bea.id))
    assert f"Nudged on {now().date().isoformat()}." in browser.get(page).text

    again = browser.submit(f"{page}/stalled/{pilot.bea.id}/nudge", page=page)
    assert again.status_code == 409
    assert "Bea was already nudged on" in again.text
    # The hourly nudges count the manual one: this stall gets no second e-mail.
    noon = datetime.combine(now().date(), datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    assert reminders.send_nudges(db, settings=settings, moment=max(noon, now())) == 0


def test_no_nudge_to_a_member_who_turned_reminders_off_or_is_active_or_elsewhere(
    browser: Browser, db: Session, settings: Settings, pilot: Pilot
) -> None:
    manager(browser, db)
    page = f"/cohorts/{pilot.cohort.id}"
    off = browser.submit(f"{page}/stalled/{pilot.cy.id}/nudge", page=page)
    assert off.status_code == 409
    assert "Cy has turned reminder e-mails off" in off.text
    active = browser.submit(f"{page}/stalled/{pilot.ada.id}/nudge", page=page)
    assert active.status_code == 409
    assert "Ada has been active in the last 10 days" in active.text
    elsewhere = browser.submit(f"{page}/stalled/{pilot.elsewhere.id}/nudge", page=page)
    assert elsewhere.status_code == 404
    assert db.exec(select(Reminder)).all() == []
    assert mails(db, settings) == []


def test_the_stall_follows_the_nudge_after_days_setting(
    browser: Browser, db: Session, settings: Settings, pilot: Pilot
) -> None:
    browser.client.app.state.settings = settings.model_copy(  # type: ignore[attr-defined]
        update={"nudge_after_days": 18})
    manager(browser, db)
    page = browser.get(f"/cohorts/{pilot.cohort.id}").text
    assert "Members with no activity for 18 days" in page
    stalled = stalled_section(page)
    assert "<td>Bea</td>" in stalled and "<td>Cy</td>" not in stalled


def _mentor_loads(db: Session, pilot: Pilot) -> None:
    """Mira (2 places): Ada accepted, Bea proposed. Omar (3 places): Cy declined, and Zed
    of the other cohort accepted."""
    mira = create_mentor(db, name="Mira", capacity=2)
    omar = create_mentor(db, name="Omar", capacity=3)
    for enrolment, mentor, status in ((pilot.ada, mira, MatchStatus.accepted),
                                      (pilot.bea, mira, MatchStatus.proposed),
                                      (pilot.cy, omar, MatchStatus.declined),
                                      (pilot.elsewhere, omar, MatchStatus.accepted)):
        assert mentor.id is not None
        db.add(Match(member_id=enrolment.user_id, mentor_id=mentor.id,
                     source=MatchSource.manager, status=status,
                     explanation="A private reason written for the pair."))
    db.commit()


def test_mentor_load_counts_places_and_this_cohorts_requests(
    browser: Browser, db: Session, pilot: Pilot
) -> None:
    _mentor_loads(db, pilot)
    manager(browser, db)
    page = browser.get(f"/cohorts/{pilot.cohort.id}").text
    assert "<tr><td>Mira</td><td>2</td><td>2</td><td>1</td><td>1</td><td>0</td></tr>" in page
    assert "<tr><td>Omar</td><td>3</td><td>1</td><td>0</td><td>0</td><td>1</td></tr>" in page
    assert ('<th scope="row">All mentors</th><td>5</td><td>3</td><td>1</td><td>1</td>'
            '<td>1</td>') in page
    # Cy (declined) and Dee (completed, never asked) wait; the mentors have 0 + 2 places.
    assert "2 members of this cohort wait for a mentor; the mentors have 2 free places." in page
    assert "A private reason" not in page


def test_the_counts_download_as_csv_recorded_in_the_audit_log(
    browser: Browser, db: Session, pilot: Pilot
) -> None:
    _mentor_loads(db, pilot)
    boss = manager(browser, db)
    response = browser.get(f"/cohorts/{pilot.cohort.id}/counts.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith(
        f'attachment; filename="cohort-{pilot.cohort.id}-counts-')
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["section", "measure", "label", "count", "percent_of_joined"]
    assert rows[1:6] == [
        ["headline", "joined", "Joined", "5", "100"],
        ["headline", "active", "On the journey", "3", "60"],
        ["headline", "completed", "Completed", "1", "20"],
        ["headline", "left", "Left", "1", "20"],
        ["headline", "stalled", "No activity for 10 days", "2", "40"],
    ]
    funnel = [row for row in rows if row[0] == "funnel"]
    assert [(row[2], int(row[3]), f"{row[4]}%") for row in funnel] == FUNNEL
    assert [row[1] for row in funnel][:4] == ["joined", "consented", "wave:pre",
                                             "phase:discover:reached"]
    assert ["mentors", "waiting", "Members waiting for a mentor", "2", ""] in rows
    assert ["mentors", "declined", "All mentors: declined", "1", ""] in rows
    assert ["mentor", "proposed", "Mira", "1", ""] in rows
    assert SECRET not in response.text and "Bea" not in response.text
    [audited] = db.exec(select(AuditEvent).where(AuditEvent.action == "cohort.export")).all()
    assert (audited.actor_id, audited.target_id) == (boss.id, str(pilot.cohort.id))


def test_the_cohort_list_shows_each_cohorts_headline_counts(
    browser: Browser, db: Session, pilot: Pilot
) -> None:
    manager(browser, db)
    page = browser.get("/cohorts").text
    assert (f'<a href="/cohorts/{pilot.cohort.id}">Pilot spring</a></td><td>walk</td>'
            "<td>2026-03-01</td><td>open</td><td>5</td><td>3</td><td>1</td><td>2</td>") in page
    assert "<td>open</td><td>1</td><td>1</td><td>0</td><td>1</td>" in page  # Other autumn: Zed


def test_an_unknown_cohort_is_not_found_and_members_may_not_look(
    browser: Browser, db: Session, pilot: Pilot
) -> None:
    sign_in(browser, db)
    assert browser.get(f"/cohorts/{pilot.cohort.id}/counts.csv").status_code == 403
    manager(browser, db)
    assert browser.get("/cohorts/999999").status_code == 404
    assert browser.get("/cohorts/999999/counts.csv").status_code == 404


def test_the_dashboard_asks_the_same_number_of_queries_for_more_members(
    browser: Browser, db: Session
) -> None:
    manager(browser, db)
    cohort = create_cohort(db, "Growing")

    def queries() -> int:
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        engine = db.get_bind()
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert browser.get(f"/cohorts/{cohort.id}").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    for number in range(2):
        on_walk(db, cohort, f"Early {number}", done=WALK_STEPS[:3], quiet_days=12)
    few = queries()
    for number in range(12):
        on_walk(db, cohort, f"Late {number}", done=WALK_STEPS[: number % 13],
                waves_sent=(Wave.pre,), quiet_days=11 + number)
    assert queries() == few
    assert db.exec(select(col(Enrolment.id)).where(Enrolment.cohort_id == cohort.id)
                   ).all().__len__() == 14


def test_a_member_on_a_studys_own_battery_counts_as_done_when_they_sent_that_battery(
    db: Session,
) -> None:
    cohort = make_cohort(db, journey="purpose")
    study = make_study(db, researcher(db), [cohort])
    study.battery = {"pre": ["happiness"], "post": [], "followup": []}
    db.add(study)
    _, taking_part = make_member(db, cohort, research=True)
    _, not_taking_part = make_member(db, cohort, research=False)
    for enrolment in (taking_part, not_taking_part):
        sent(db, enrolment, Wave.pre)  # happiness only: the study's whole battery
    db.flush()
    stages = {stage.key: stage.count for stage in dashboard.funnel(db, cohort=cohort).stages}
    # The member who takes part in the study sent all of theirs; the other one was asked
    # the journey's core battery and sent one questionnaire of it.
    assert stages["wave:pre"] == 1
