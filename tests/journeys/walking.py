"""A member walking a journey through the site: sign in, start, answer waves, save steps."""

import re
from dataclasses import dataclass
from html import unescape

import httpx
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.accounts import consent
from app.accounts.models import Role, User
from app.journeys.models import Enrolment, EnrolmentStatus, StepAnswer
from tests.browsing import Browser, csrf_token_in
from tests.factories import create_user, signed_in

# Valid answers for every step of tests/fixtures/walk.yaml, in order. Survey steps
# need their wave sent first; `walk_to` does that.
WALK: dict[str, dict[str, object]] = {
    "baseline": {},
    "welcome": {},
    "moments": {"prompt-alive": "Teaching my niece to swim.", "prompt-hard": ""},
    "values": {"value": ["kindness", "courage"], "order": ["courage", "kindness"],
               "ordered": "yes"},
    "energy": {"item-0": "Gardening", "rating-0": "1", "item-1": "Meetings", "rating-1": "-1"},
    "support": {"option": ["listening", "other"], "other": "A walking partner"},
    "mentors": {},
    "draft": {"part-bring": "Patience", "statement": "I help people find their feet."},
    "ask": {"skip": "yes"},
    "revise": {"statement": "I help people find their feet and their voice."},
    "share": {"visibility": "private"},
    "plan": {"commitment-0": "Call my sister", "due-0": "2030-01-31"},
    "closing": {},
}
WAVE_OF_STEP = {"baseline": "pre", "closing": "post"}


def sign_in(browser: Browser, db: Session, user: User | None = None, *,
            roles: tuple[Role, ...] = (Role.member,)) -> User:
    """`user` (a new one holding `roles` by default) signed in on `browser`.

    A new member has already answered the consent document (app use only), as every
    member has before a journey; tests of consent itself are in tests/accounts.
    """
    if user is None:
        user = create_user(db, roles=roles)
        document = consent.current_document(db)
        if Role.member in roles and document is not None and user.id is not None:
            consent.give(db, user_id=user.id, document=document, research_use=False)
            db.commit()
    signed_in(browser.client, db, browser.client.app.state.settings, user)  # type: ignore[attr-defined]
    return user


def another_browser(browser: Browser) -> Browser:
    """A second browser on the same site, with cookies of its own."""
    return Browser(TestClient(browser.client.app, follow_redirects=False))


def enrolment_of(db: Session, user: User) -> Enrolment:
    db.expire_all()
    enrolment = db.exec(
        select(Enrolment).where(Enrolment.user_id == user.id,
                                Enrolment.status != EnrolmentStatus.left)
        .order_by(Enrolment.id.desc())  # type: ignore[union-attr]
    ).first()
    assert enrolment is not None
    return enrolment


def user_of(db: Session, enrolment: Enrolment) -> User:
    user = db.get(User, enrolment.user_id)
    assert user is not None
    return user


def give_consent(browser: Browser, *, research: bool = False) -> None:
    """Answers the consent document through its form, as a member does before joining."""
    data = {"app_use": "yes", **({"research_use": "yes"} if research else {})}
    response = browser.submit("/consent", data, page="/consent")
    assert response.status_code == 303, response.text


def start(browser: Browser, db: Session, *, journey: str = "walk",
          user: User | None = None) -> Enrolment:
    """A signed-in member who has just started `journey`."""
    user = sign_in(browser, db, user)
    response = browser.submit("/journey/start", {"journey": journey}, page="/journey")
    assert response.status_code == 303, response.text
    return enrolment_of(db, user)


def answer_wave(browser: Browser, wave: str = "pre", value: str = "4") -> None:
    """Answers every item of every instrument of `wave` with `value`, and sends each."""
    overview = browser.get(f"/surveys/{wave}")
    assert overview.status_code == 200, overview.text
    while match := re.search(rf'href="/surveys/{wave}/([a-z0-9_-]+)"', overview.text):
        url = f"/surveys/{wave}/{match.group(1)}"
        page = browser.get(url)
        items = set(re.findall(r'name="item-([a-z0-9_-]+)"', page.text))
        data = {f"item-{item}": value for item in items}
        sent = browser.client.post(url, data={**data, "action": "send",
                                              "csrf_token": csrf_token_in(page.text)})
        assert sent.status_code == 303, sent.text
        overview = browser.get(f"/surveys/{wave}")


@dataclass(frozen=True)
class StepPage:
    url: str
    response: httpx.Response

    @property
    def text(self) -> str:
        return self.response.text

    def hidden(self, name: str) -> str:
        match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', self.text)
        assert match, f"no hidden {name} on {self.url}"
        return unescape(match.group(1))

    def form(self) -> dict[str, str]:
        """What the step's form carries besides the member's fields."""
        return {"version": self.hidden("version"), "editor": self.hidden("editor"),
                "csrf_token": csrf_token_in(self.text)}


def open_step(browser: Browser, step_id: str) -> StepPage:
    url = f"/journey/steps/{step_id}"
    page = StepPage(url, browser.get(url))
    assert page.response.status_code == 200, page.text
    return page


def post_step(browser: Browser, page: StepPage, data: dict[str, object], *,
              action: str = "continue", autosave: bool = False) -> httpx.Response:
    """Sends the form of `page` with `data`, as the button `action` (or as htmx autosave)."""
    if autosave:
        return browser.client.post(f"{page.url}/autosave", data={**page.form(), **data},
                                   headers={"HX-Request": "true"})
    return browser.client.post(page.url, data={**page.form(), **data, "action": action})


def save_step(browser: Browser, step_id: str, data: dict[str, object] | None = None, *,
              action: str = "continue") -> httpx.Response:
    """Opens the step and sends it with `data` (its valid answers by default)."""
    return post_step(browser, open_step(browser, step_id),
                     WALK[step_id] if data is None else data, action=action)


def walk_to(browser: Browser, step_id: str | None = None) -> None:
    """Does every step of the walk before `step_id` (every step, when None) with valid answers.

    Steps already done are left as they are; a step nobody has saved yet is sent without
    opening its page first, which keeps the walk quick.
    """
    home = browser.get("/journey").text
    token = csrf_token_in(home)
    statuses = dict(re.findall(r'href="/journey/steps/([a-z0-9_-]+)">[^<]*</a>\s*'
                               r'<span class="badge status-(\w+)">', home))
    for step in WALK:
        if step == step_id:
            return
        if statuses.get(step) == "done":
            continue
        if step in WAVE_OF_STEP:
            answer_wave(browser, WAVE_OF_STEP[step])
        if statuses.get(step) == "in_progress":
            response = save_step(browser, step)
        else:
            response = browser.client.post(f"/journey/steps/{step}", data={
                **WALK[step], "version": "0", "editor": "walk", "action": "continue",
                "csrf_token": token,
            })
        assert response.status_code == 303, f"{step}: {response.text}"


def answer(db: Session, enrolment: Enrolment, step_id: str) -> StepAnswer | None:
    db.expire_all()
    return db.exec(select(StepAnswer).where(StepAnswer.enrolment_id == enrolment.id,
                                            StepAnswer.step_id == step_id)).first()
