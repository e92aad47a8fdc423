"""Sharing a reflection or the statement into a circle: never by default, shown live, gone
when un-shared or when the member leaves; nobody outside the circle reads it."""

from sqlmodel import Session, select

from app.accounts import consent
from app.accounts.models import Role, User
from app.community.circle_models import Circle, CircleShare
from app.journeys import service as journeys
from app.journeys import statements
from app.settings import Settings
from tests.browsing import Browser
from tests.community.circle_factories import browsers_of, cohort_with_members, published
from tests.journeys.walking import another_browser, enrolment_of, sign_in, start, walk_to

ANN_MOMENT = "The own moment of Ann: singing at the ninetieth birthday of my grandmother."
ANN_STATEMENT = "I sing with children so they find their voice."


def _write(db: Session, user: User, moment: str) -> None:
    enrolment = enrolment_of(db, user)
    journeys.save_answer(db, enrolment=enrolment, step_id="moments",
                         data={"responses": {"alive": moment, "hard": ""}},
                         base_version=0, editor="factory", done=True)
    statements.save_version(db, enrolment=enrolment, text=ANN_STATEMENT, parts={})
    db.commit()


def _circle_of_four(browser: Browser, db: Session, settings: Settings
                    ) -> tuple[str, list[User], Browser, Browser]:
    cohort, members = cohort_with_members(db, 4)
    circle = published(db, settings, cohort)[0]
    _write(db, members[0], ANN_MOMENT)
    ann, ben = browsers_of(browser, db, members[:2])
    return f"/circles/{circle.id}", members, ann, ben


def test_nothing_is_shared_until_the_member_shares_it(
    browser: Browser, db: Session, settings: Settings
) -> None:
    url, _members, ann, ben = _circle_of_four(browser, db, settings)
    own = ann.get(url).text
    assert ANN_MOMENT in own and "Not shared. If you share it, your circle sees exactly this." \
        in own
    assert "Share with my circle: Moments" in own
    assert "Share with my circle: Purpose statement" in own
    seen = ben.get(url).text
    assert ANN_MOMENT not in seen and ANN_STATEMENT not in seen
    assert db.exec(select(CircleShare)).first() is None


def test_a_shared_reflection_is_shown_live_until_it_is_unshared(
    browser: Browser, db: Session, settings: Settings
) -> None:
    url, members, ann, ben = _circle_of_four(browser, db, settings)
    shared = ann.submit(f"{url}/shares", {"what": "step:moments"}, page=url, follow=True)
    assert "Shared with your circle: Moments." in shared.text
    assert "Stop sharing: Moments" in shared.text
    seen = ben.get(url).text
    assert ANN_MOMENT in seen and "When did you feel most alive?" in seen
    assert "Shared on " in seen
    assert ANN_STATEMENT not in seen  # only what was chosen

    _write(db, members[0], "The moment of Ann, rewritten: the first swim of the summer.")
    seen = ben.get(url).text
    assert "the first swim of the summer" in seen and ANN_MOMENT not in seen

    gone = ann.submit(f"{url}/shares/remove", {"what": "step:moments"}, page=url, follow=True)
    assert "No longer shared" in gone.text
    assert "the first swim of the summer" not in ben.get(url).text
    assert db.exec(select(CircleShare)).first() is None


def test_the_statement_is_shared_and_leaving_takes_it_away(
    browser: Browser, db: Session, settings: Settings
) -> None:
    url, _members, ann, ben = _circle_of_four(browser, db, settings)
    ann.submit(f"{url}/shares", {"what": "statement"}, page=url)
    assert ANN_STATEMENT in ben.get(url).text
    assert ann.submit(f"{url}/leave", page=url).status_code == 303
    assert ANN_STATEMENT not in ben.get(url).text


def test_nothing_written_cannot_be_shared(
    browser: Browser, db: Session, settings: Settings
) -> None:
    url, _members, ann, _ben = _circle_of_four(browser, db, settings)
    for what in ("step:values", "step:nothing", "moments", ""):
        refused = ann.submit(f"{url}/shares", {"what": what}, page=url, follow=True)
        assert "There is nothing written there to share yet." in refused.text
    assert db.exec(select(CircleShare)).first() is None


def test_no_one_outside_the_circle_reads_a_share(
    browser: Browser, db: Session, settings: Settings
) -> None:
    url, _members, ann, _ben = _circle_of_four(browser, db, settings)
    ann.submit(f"{url}/shares", {"what": "step:moments"}, page=url)
    for roles in ((Role.member,), (Role.manager,), (Role.mentor,), (Role.member, Role.manager)):
        other = another_browser(browser)
        sign_in(other, db, roles=roles)
        page = other.get(url)
        assert page.status_code in {403, 404}, roles
        assert ANN_MOMENT not in page.text
        for home in ("/home", "/community", f"/cohorts/{_cohort_id(db, url)}/circles"):
            assert ANN_MOMENT not in other.get(home).text
    outsider = another_browser(browser)
    sign_in(outsider, db)
    token = outsider.token("/circles")
    pushed = outsider.client.post(f"{url}/shares", data={"what": "statement",
                                                         "csrf_token": token})
    assert pushed.status_code == 404
    assert len(db.exec(select(CircleShare)).all()) == 1


def _cohort_id(db: Session, url: str) -> int:
    circle = db.get(Circle, int(url.rsplit("/", 1)[1]))
    assert circle is not None
    return circle.cohort_id


def test_the_step_page_leads_to_sharing_it_in_the_circle(
    browser: Browser, db: Session, settings: Settings
) -> None:
    url, members, ann, _ben = _circle_of_four(browser, db, settings)
    document = consent.current_document(db)
    assert document is not None
    consent.give(db, user_id=members[0].id or 0, document=document, research_use=False)
    db.commit()
    walk_to(ann, "values")
    step = ann.get("/journey/steps/moments").text
    assert f'<a href="{url}#share-step-moments">Share with my circle 1</a>' in step
    assert 'id="share-step-moments"' in ann.get(url).text
    loner = another_browser(browser)
    start(loner, db)
    walk_to(loner, "values")
    assert "Share with my circle" not in loner.get("/journey/steps/moments").text
