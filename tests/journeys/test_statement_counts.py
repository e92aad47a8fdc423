"""How many SQL statements a step page and an autosave cost, pinned so they do not creep
back up (issue 14): counted at the engine with an event listener, over real requests."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlmodel import Session

from tests.browsing import Browser
from tests.journeys.walking import open_step, post_step, start, walk_to

STEP_PAGE_MAX = 6   # session, roles, enrolment, step statuses, the answer, circles
AUTOSAVE_MAX = 6    # the same reads but circles, and one UPDATE
WRITES = ("INSERT", "UPDATE", "DELETE")


@contextmanager
def counted(db: Session) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
            statements.append(" ".join(statement.split()))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def run(db: Session, request: Callable[[], object]) -> list[str]:
    with counted(db) as statements:
        request()
    return statements


def test_a_step_page_and_an_autosave_stay_within_their_statements(
    browser: Browser, db: Session
) -> None:
    start(browser, db)
    walk_to(browser, "moments")
    open_step(browser, "moments")
    page_statements = run(db, lambda: open_step(browser, "moments"))
    page = open_step(browser, "moments")
    post_step(browser, page, {"prompt-alive": "First words."}, autosave=True)
    saves = run(db, lambda: post_step(browser, page, {"prompt-alive": "More words."},
                                      autosave=True))
    assert len(page_statements) <= STEP_PAGE_MAX
    assert len(saves) <= AUTOSAVE_MAX
    writes = [s for s in saves if s.upper().startswith(WRITES)]
    assert len(writes) == 1 and writes[0].startswith("UPDATE step_answer")
    assert "step_answer.version = " in writes[0].split("WHERE", 1)[1]
