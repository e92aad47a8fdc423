"""A new member walks the whole default `purpose` journey in a real browser, JS on and off.

From sign-up through the `pre` survey wave, every step in turn (filled through
labelled fields, the way a person would), the `post` wave, and on to "My
purpose" and a task list that says every step is done. With JavaScript on, a
reflection is also autosaved while typing and survives a reload.
"""

import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from app.clock import now
from app.journeys.definitions import (
    ActionPlanStep,
    ChoiceStep,
    PurposeStatementStep,
    RatingListStep,
    ReflectionStep,
    Step,
    SurveyStep,
    ValuesSortStep,
    Wave,
)
from app.journeys.loader import JOURNEYS_DIR, load_journey
from app.surveys import batteries
from app.surveys.definitions import load_battery
from tests.databases import fresh_database_url
from tests.live import TELOS, LiveServer

pytestmark = pytest.mark.browser

JOURNEY = load_journey(JOURNEYS_DIR / "purpose.yaml").definition
INSTRUMENTS = load_battery()
STEPS = JOURNEY.steps()
PASSWORD = "a long enough journey password"
NAME_LABEL = "Your name, as others will see it"
AUTOSAVE_TIMEOUT_MS = 15_000  # htmx posts 1.2 s after the last keystroke; CI may be slow
# to_have_text does not trim the text before matching a pattern.
FINISHED = re.compile(r"/purpose$")
SAVED_AT = re.compile(r"^\s*Saved at \d{2}:\d{2}\.\s*$")


def telos(server: LiveServer, *arguments: str) -> None:
    """Runs the `telos` command on the live server's database, with the server's environment."""
    result = subprocess.run(
        [str(TELOS), *arguments], env=server.environment(), cwd=server.directory,
        capture_output=True, text=True, timeout=120, check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"`telos {' '.join(arguments)}` exited with {result.returncode}:\n"
                    f"{result.stdout}\n{result.stderr}", pytrace=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The conftest's live server, but with the survey battery and journeys loaded first.

    tests/live.py only runs `telos db upgrade`; without `telos journeys load` the
    journey page offers nothing to start.
    """
    directory = tmp_path_factory.mktemp("journey-walk")
    live = LiveServer(fresh_database_url("sqlite", directory, "telos_journey_walk"), directory)
    telos(live, "db", "upgrade")
    telos(live, "journeys", "load")
    with live:
        yield live


@dataclass
class Walk:
    """What the member typed on the way, to find again on "My purpose"."""

    javascript: bool
    database_url: str = ""
    autosave_checked: bool = False
    values: list[str] = field(default_factory=list)
    first_draft: str = ""
    statement: str = ""
    commitment: str = ""
    due: str = ""


def step_url(step: Step) -> re.Pattern[str]:
    return re.compile(rf"/journey/steps/{step.id}$")


def main(page: Page) -> Any:
    return page.get_by_role("main")


def problems_on(page: Page) -> list[str]:
    """The error messages a page shows, to say why it did not move on."""
    return page.locator(".field-error, .form-error, [role=alert]").all_inner_texts()


def press(page: Page, button: str, then: str | re.Pattern[str], why: str) -> None:
    """Presses `button` and expects to arrive at `then`; else fails with the page's errors."""
    page.get_by_role("button", name=button, exact=True).click()
    try:
        expect(page).to_have_url(then)
    except AssertionError:
        pytest.fail(f"{why}: pressing “{button}” left the page at {page.url}, showing "
                    f"{problems_on(page) or 'no error message'}", pytrace=False)


def expect_status(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.get_by_role("status").filter(has_text=text)).to_have_count(1)


# ---- the survey waves -----------------------------------------------------------------


def started_days_ago(database_url: str, days: int) -> None:
    """Moves the start of every journey under way `days` back, as if weeks had passed."""
    import app.models  # noqa: F401  (every table known)
    from app.db import make_engine, session_scope
    from app.journeys.models import Enrolment, EnrolmentStatus

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        for enrolment in session.exec(select(Enrolment).where(
                Enrolment.status == EnrolmentStatus.active)):
            enrolment.started_at -= timedelta(days=days)
            session.add(enrolment)
    engine.dispose()


def wait_for_the_window(page: Page, step: SurveyStep, walk: Walk) -> None:
    """The closing check-in opens `post_after_days` after the start, and says when."""
    days = JOURNEY.waves.post_after_days
    if step.wave != Wave.post or not days:
        return
    opens = (now() + timedelta(days=days)).date().isoformat()
    expect(main(page)).to_contain_text(f"This questionnaire opens on {opens}.")
    expect(main(page).get_by_role("link", name="Start the questionnaire")).to_have_count(0)
    started_days_ago(walk.database_url, days)
    page.reload()


def answer_wave(page: Page, step: SurveyStep, walk: Walk) -> None:
    """Every questionnaire of the wave, one page each: the first option of every question."""
    wait_for_the_window(page, step, walk)
    instruments = getattr(JOURNEY.waves, step.wave.value)
    expect(main(page)).to_contain_text(f"0 of {len(instruments)} questionnaires sent")
    expect(main(page)).to_contain_text(
        f"{len(instruments)} short questionnaires, about {minutes_left(instruments)} minutes "
        "in all")
    page.get_by_role("link", name="Start the questionnaire").click()
    counter = main(page).get_by_text(re.compile(r"^Questionnaire \d+ of \d+ · about"))
    for position in range(1, len(instruments) + 1):
        left = minutes_left(instruments[position - 1:])
        expect(counter).to_have_text(f"Questionnaire {position} of {len(instruments)} · "
                                     f"about {left} minute{'s' if left != 1 else ''} left")
        expect(main(page).get_by_role("progressbar", name=counter.inner_text())).to_be_visible()
        page.wait_for_load_state("domcontentloaded")
        if step.wave == Wave.pre and position == 2:
            stop_and_come_back(page, position, len(instruments))
        questions = main(page).get_by_role("group")
        count = questions.count()
        assert count > 0, f"questionnaire {position} of the {step.wave} wave has no questions"
        for index in range(count):
            questions.nth(index).get_by_role("radio").first.check()
        last = position == len(instruments)
        page.get_by_role("button", name="Send" if last else "Send and go on", exact=True).click()
    # Sending the wave does its step; when that was the journey's last step, the
    # member may land straight on "My purpose" instead of back on the step.
    back = step_url(step).pattern
    try:
        expect(page).to_have_url(re.compile(f"{back}|{FINISHED.pattern}" if step == STEPS[-1]
                                            else back))
    except AssertionError:
        pytest.fail(f"the last questionnaire of the {step.wave} wave was not accepted: "
                    f"{page.url} shows {problems_on(page)}", pytrace=False)
    if FINISHED.search(page.url):
        return
    expect_status(page, "Thank you: the questionnaire is complete.")
    expect(main(page)).to_contain_text(
        f"{len(instruments)} of {len(instruments)} questionnaires sent")
    expect(main(page)).to_contain_text("All sent. Thank you.")


def minutes_left(keys: list[str]) -> int:
    return batteries.minutes(batteries.estimated_seconds(INSTRUMENTS[key] for key in keys))


def stop_and_come_back(page: Page, position: int, count: int) -> None:
    """Half-way through a questionnaire the member stops, and their home page leads back
    to it with the answer they gave."""
    question = main(page).get_by_role("group").first
    question.get_by_role("radio").nth(1).check()
    press(page, "Continue later", re.compile(r"/home$"), "stopping part-way")
    page.get_by_role("link", name=f"Continue your check-in (questionnaire {position} of "
                                  f"{count})").click()
    expect(main(page).get_by_role("group").first.get_by_role("radio").nth(1)).to_be_checked()


# ---- one function per step kind ------------------------------------------------------


def read_only(page: Page, step: Step, walk: Walk) -> None:
    """Content and match steps: read, then Continue."""


def reflect(page: Page, step: ReflectionStep, walk: Walk) -> None:
    if walk.javascript and not walk.autosave_checked:
        check_autosave(page, step)
        walk.autosave_checked = True
    for prompt in step.prompts:
        page.get_by_label(prompt.text).fill(f"{step.title} / {prompt.id}: my own words.")


def check_autosave(page: Page, step: ReflectionStep) -> None:
    """Typing alone saves the draft (htmx), which is still there after a reload."""
    typed = "Teaching my niece to swim, the summer she was seven."
    box = page.get_by_label(step.prompts[0].text)
    box.press_sequentially(typed)
    saved = page.get_by_role("status").filter(has_text="Saved at")
    expect(saved).to_have_text(SAVED_AT, timeout=AUTOSAVE_TIMEOUT_MS)
    page.reload()
    expect(page.get_by_label(step.prompts[0].text)).to_have_value(typed)
    expect(page.get_by_role("status")).to_have_text("Saved.")


def sort_values(page: Page, step: ValuesSortStep, walk: Walk) -> None:
    ask = main(page).get_by_text(re.compile(r"^Choose \d+ values that matter most to you$"))
    asked = int(re.findall(r"\d+", ask.inner_text())[0])
    chosen = [value.label for value in step.values[::3][:asked]]
    for label in chosen:
        page.get_by_label(label, exact=True).check()
    press(page, "Save", step_url(step), "saving the chosen values")
    expect_status(page, SAVED_AT)
    ranking = page.get_by_role("group", name=re.compile(r"^Now put them in order"))
    expect(ranking.locator(".card-label")).to_have_text(chosen)
    # Nothing is ranked for the member: the list order is refused until they order it.
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator("#ranking-message")).to_contain_text("Put them in your order first")
    expect(page.get_by_role("status").filter(has_text="Saved")).to_have_count(0)
    # Reverse the list with the keyboard, one move at a time (each move reloads the page).
    wanted = list(reversed(chosen))
    for position, label in enumerate(wanted):
        name = label.split(" — ")[0]
        while (place := chosen.index(label)) > position:
            page.get_by_role("button", name=f"Move {name} up", exact=True).press("Enter")
            chosen[place - 1], chosen[place] = chosen[place], chosen[place - 1]
            expect(ranking.locator(".card-label")).to_have_text(chosen)
    expect(page).to_have_url(re.compile(rf"/journey/steps/{step.id}#ranking$"))
    expect(page.get_by_label("This is my order, most important first")).to_be_checked()
    walk.values = wanted


def choose(page: Page, step: ChoiceStep, walk: Walk) -> None:
    options = page.get_by_role("group", name=step.question)
    options.get_by_label(step.options[0].label, exact=True).check()


def rate(page: Page, step: RatingListStep, walk: Walk) -> None:
    item = step.item_label
    for index in range(step.min_items):
        page.get_by_label(f"{item} {index + 1}", exact=True).fill(step.suggestions[index])
        rating = page.get_by_label(f"Rating for {item.lower()} {index + 1}", exact=True)
        rating.select_option(label=step.scale[index % len(step.scale)].label)


def draft_statement(page: Page, step: PurposeStatementStep, walk: Walk) -> None:
    for part in step.parts:
        page.get_by_label(part.label, exact=True).fill(f"{part.label}: patience and tools.")
    walk.first_draft = "I help neighbours mend what they own, so that less is thrown away."
    page.get_by_label("Your purpose statement", exact=True).fill(walk.first_draft)


def skip_feedback(page: Page, step: Step, walk: Walk) -> None:
    expect(main(page).get_by_role("blockquote")).to_contain_text(walk.first_draft)
    page.get_by_label("Go on without asking anyone for now").check()


def revise(page: Page, step: Step, walk: Walk) -> None:
    box = page.get_by_label("Your new version", exact=True)
    expect(box).to_have_value(walk.first_draft)
    walk.statement = ("I teach neighbours to mend what they own, so that they waste less "
                      "and trust their own hands.")
    box.fill(walk.statement)


def publish(page: Page, step: Step, walk: Walk) -> None:
    expect(main(page).get_by_role("blockquote")).to_contain_text(walk.statement)
    page.get_by_label("Only me", exact=True).check()


def plan(page: Page, step: ActionPlanStep, walk: Walk) -> None:
    first = page.get_by_role("group", name="Commitment 1", exact=True)
    walk.commitment = "Ask the library whether they would host a repair café."
    walk.due = date(date.today().year + 1, 6, 30).isoformat()
    first.get_by_label("What you will do").fill(walk.commitment)
    first.get_by_label("By when").fill(walk.due)


WALKERS: dict[str, Callable[[Page, Any, Walk], None]] = {
    "survey": answer_wave,
    "content": read_only,
    "reflection": reflect,
    "values_sort": sort_values,
    "choice": choose,
    "rating_list": rate,
    "purpose_statement": draft_statement,
    "feedback_request": skip_feedback,
    "revise": revise,
    "publish": publish,
    "action_plan": plan,
    "match": read_only,
}


# ---- the walk ------------------------------------------------------------------------


def sign_up(page: Page, name: str) -> None:
    page.goto("/signup")
    page.get_by_label(NAME_LABEL).fill(name)
    page.get_by_label("E-mail").fill(f"walker-{uuid.uuid4().hex[:12]}@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/home$"))


def start_journey(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Journey",
                                                           exact=True).click()
    # Before a first journey, the member answers the consent document.
    expect(page).to_have_url(re.compile(r"/consent\?next=/journey$"))
    page.get_by_label("(a) I agree").check()
    page.get_by_role("button", name="Save my answers").click()
    expect(page).to_have_url(re.compile(r"/journey$"))
    page.get_by_role("button", name=f"Start “{JOURNEY.title}”").click()
    expect_status(page, "Your journey has begun. Take your time.")
    expect(main(page)).to_contain_text(f"0 of {len(STEPS)} steps done")
    page.get_by_role("link", name=f"Begin: {STEPS[0].title}", exact=True).click()


def walk_every_step(page: Page, walk: Walk) -> None:
    for number, step in enumerate(STEPS, start=1):
        expect(page).to_have_url(step_url(step))
        expect(page.get_by_role("heading", level=1)).to_have_text(step.title)
        crumbs = page.get_by_role("navigation", name="Breadcrumb")
        expect(crumbs).to_contain_text(f"Step {number} of {len(STEPS)}")
        WALKERS[step.kind](page, step, walk)
        if number < len(STEPS):
            press(page, "Continue", step_url(STEPS[number]), f"step {number}, {step.id}")
        elif not FINISHED.search(page.url):
            press(page, "Finish the journey", FINISHED, f"the last step, {step.id}")


def expect_my_purpose(page: Page, walk: Walk) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text("My purpose")
    expect_status(page, "You have walked the whole journey. Here is where you stand.")
    statement = page.get_by_role("region", name="My statement")
    expect(statement.get_by_role("blockquote")).to_have_text(walk.statement)
    expect(statement).to_contain_text("Version 2")
    expect(statement).to_contain_text("visible to: only me")
    expect(page.get_by_role("region", name="Earlier versions")).to_contain_text(walk.first_draft)
    values = page.get_by_role("region", name="My values, in order")
    expect(values.get_by_role("listitem")).to_have_text(walk.values)
    commitments = page.get_by_role("region", name="My commitments")
    expect(commitments).to_contain_text(f"{walk.commitment} · by {walk.due}")


def expect_every_step_done(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Journey",
                                                           exact=True).click()
    expect(page).to_have_url(re.compile(r"/journey$"))
    expect(main(page)).to_contain_text(
        f"{len(STEPS)} of {len(STEPS)} steps done (100%) · completed")
    tasks = main(page).get_by_role("listitem")
    expect(tasks).to_have_count(len(STEPS))
    expect(tasks).to_have_text([re.compile(rf"^\s*{re.escape(step.title)}\s+done\s*$")
                                for step in STEPS])
    expect(main(page).get_by_role("link", name="See your purpose")).to_be_visible()


def test_a_new_member_walks_the_whole_purpose_journey(
    page: Page, javascript: bool, record_property: Callable[[str, object], None],
    server: LiveServer,
) -> None:
    assert len(STEPS) == 21, "journeys/purpose.yaml changed: check this walk still covers it"
    started = time.monotonic()
    walk = Walk(javascript=javascript, database_url=server.database_url)
    sign_up(page, "Wendy Walker")
    start_journey(page)
    walk_every_step(page, walk)
    expect_my_purpose(page, walk)
    expect_every_step_done(page)
    assert walk.autosave_checked == javascript
    seconds = time.monotonic() - started
    record_property("walk_seconds", round(seconds, 1))
    print(f"walked the whole journey with JavaScript {'on' if javascript else 'off'} "
          f"in {seconds:.1f} s")
