"""The "why" of a suggestion says what drove its score: shared themes and the words of
the member's statement that matched, never only the clock or the item's kind."""

from sqlmodel import Session

from app.accounts.models import User
from app.journeys import service as journeys
from app.journeys import statements
from app.matching import content as content_matching
from app.matching.engine import ContentProfile, MemberProfile, suggest_content
from app.settings import Settings
from tests.browsing import Browser
from tests.community.content_factories import create_item
from tests.journeys.walking import enrolment_of, sign_in
from tests.matching.factories import (
    SUGGESTION_JOBS,
    create_member,
    create_mentor,
    create_theme,
    run_jobs,
)

STATEMENT = ("I care about the education of youth in my town: children who love reading "
             "and the schools that teach them.")


def _member_with_a_purpose(db: Session) -> User:
    member = create_member(db, name="Rhea Reader", statement=STATEMENT)
    enrolment = enrolment_of(db, member)
    journeys.save_answer(db, enrolment=enrolment, step_id="values",
                         data={"chosen": ["kindness", "courage"],
                               "ranking": ["courage", "kindness"], "ordered": True},
                         base_version=0, editor="factory", done=True)
    assert statements.latest(db, enrolment_id=enrolment.id or 0) is not None
    db.commit()
    return member


def test_the_mentor_and_content_reasons_name_the_themes_and_words_that_matched(
    browser: Browser, db: Session, settings: Settings
) -> None:
    youth = create_theme(db, "Youth education")
    create_mentor(db, name="Tilda Teacher", themes=[youth],
                  bio="Thirty years a teacher: I ran reading clubs for children in schools.")
    create_item(db, title="Read aloud together", kind="exercise", themes=[youth],
                summary="Reading with children, ten minutes a day.",
                body="Choose a book the children like and read it to them.")
    member = _member_with_a_purpose(db)
    run_jobs(db, settings, SUGGESTION_JOBS)
    sign_in(browser, db, member)

    home = browser.get("/home").text
    assert "Tilda Teacher</strong> (you write about youth education, which they mentor in; " \
        "their profile speaks of children, reading and schools, as you do" in home
    page = browser.get("/my-mentor").text
    assert "Why: you write about youth education, which they mentor in" in page
    assert "Why: about youth education, which you write about; speaks of children" in page
    assert "an exercise" not in page and "an exercise" not in home
    assert "Why: same time zone" not in page


def test_content_with_nothing_in_common_never_gives_its_kind_as_the_reason() -> None:
    member = MemberProfile(id="m", text="Grow vegetables with my neighbours")
    items = [ContentProfile(id="a", text="Tax returns for small firms", kind="article"),
             ContentProfile(id="b", text="Breathing before sleep", kind="exercise")]
    picked = suggest_content(member, items, k=2)
    assert [pick.explanation for pick in picked] == [content_matching.VARIETY] * 2
