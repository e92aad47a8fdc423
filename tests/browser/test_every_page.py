"""Every page kind, for every role, on the demo data: it fits a 390 px phone without
horizontal scrolling, and axe-core finds no serious or critical accessibility violation.

The pages are found the way a person finds them: from each role's home page, following
the links on every page reached (one page per kind: `/cohorts/3` and `/cohorts/7` are one
kind), so a new page is checked as soon as something links to it."""

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from app.demo import DEMO_LOGINS, DEMO_PASSWORD, DemoLogin
from app.journeys.loader import JOURNEYS_DIR, load_journey
from app.settings import ROOT
from tests.browser.conftest import TIMEOUT_MS, console_errors, expect_no_console_errors
from tests.databases import fresh_database_url
from tests.live import TELOS, LiveServer

pytestmark = pytest.mark.browser

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE: ViewportSize = {"width": 390, "height": 844}
MAX_KINDS_PER_ROLE = 60
# Links that change something when followed, leave the app, or stand for a file.
NOT_PAGES = re.compile(
    r"^/(static|logout|reply/|reminders/off|invite/|reset/)"
    r"|/download|\.(csv|zip|parquet|sav|dta|svg|png|md|txt|json)$")
JOURNEY = load_journey(JOURNEYS_DIR / "purpose.yaml").definition
SERIOUS = {"serious", "critical"}


@dataclass
class Problems:
    overflow: list[str] = field(default_factory=list)
    axe: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`make run` in small: the journeys loaded and the demo data in."""
    directory = tmp_path_factory.mktemp("every_page")
    live = LiveServer(fresh_database_url("sqlite", directory, "telos_every_page"), directory)
    env = live.environment()
    for command in (("db", "upgrade"), ("journeys", "load"), ("demo",)):
        subprocess.run([str(TELOS), *command], env=env, cwd=directory, check=True,
                       capture_output=True, timeout=300)
    with live:
        yield live


def kind(path: str) -> str:
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


def links(page: Page, base: str) -> list[str]:
    hrefs: list[str] = page.eval_on_selector_all(
        "a[href]", "anchors => anchors.map(a => a.getAttribute('href'))")
    found = []
    for href in hrefs:
        if href.startswith("#"):
            continue
        address = urlsplit(urljoin(base, href))
        if address.netloc != urlsplit(base).netloc or NOT_PAGES.search(address.path):
            continue
        found.append(address.path)
    return found


def overflow(page: Page) -> int:
    """How many pixels the page is wider than the phone's screen."""
    width: int = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    return width


def axe_violations(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, object]] = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .map(v => ({id: v.id, impact: v.impact, help: v.help,
                         where: v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')}))""")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {v['where']}"
            for v in found if v["impact"] in SERIOUS]


def log_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/home$"))


def start_a_journey(page: Page) -> None:
    """The demo member has not begun; begun, they have step and questionnaire pages too."""
    page.goto("/journey")
    expect(page).to_have_url(re.compile(r"/consent\?next=/journey$"))
    page.get_by_label("(a) I agree").check()
    page.get_by_role("button", name="Save my answers").click()
    page.get_by_role("button", name=f"Start “{JOURNEY.title}”").click()
    expect(page.get_by_role("status")).to_contain_text("Your journey has begun")


def walk(page: Page, start: str, base: str) -> Problems:
    problems = Problems()
    queue, seen_kinds = [start], set[str]()
    while queue and len(seen_kinds) < MAX_KINDS_PER_ROLE:
        path = queue.pop(0)
        if kind(path) in seen_kinds:
            continue
        seen_kinds.add(kind(path))
        response = page.goto(path)
        content_type = response.headers.get("content-type", "") if response else ""
        if response is None or not content_type.startswith("text/html"):
            continue
        if response.status >= 500:
            problems.failed.append(f"{path}: {response.status}")
            continue
        wider = overflow(page)
        if wider > 0:
            problems.overflow.append(f"{path}: {wider} px too wide at 390 px")
        problems.axe.extend(f"{path}: {v}" for v in axe_violations(page))
        queue.extend(link for link in links(page, base) if kind(link) not in seen_kinds)
    return problems


def report(problems: Problems) -> str:
    lines = [*problems.failed, *problems.overflow, *problems.axe]
    return "\n".join(lines)


@pytest.mark.parametrize("login", [None, *DEMO_LOGINS],
                         ids=["signed-out", *(login.role.value for login in DEMO_LOGINS)])
def test_every_page_fits_a_phone_and_passes_axe(
        chromium: Browser, server: LiveServer, login: DemoLogin | None) -> None:
    assert AXE.exists(), "axe-core is an npm dependency: run `make setup`"
    # axe is added to each page as a script of the test's own; the app's CSP would refuse it.
    context = chromium.new_context(base_url=server.url, viewport=PHONE, bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    errors = console_errors(context)
    page = context.new_page()
    try:
        if login is None:
            problems = walk(page, "/", server.url)
        else:
            log_in(page, login.email)
            if login.role.value == "member":
                start_a_journey(page)
            problems = walk(page, "/home", server.url)
    finally:
        context.close()
    assert not report(problems), "\n" + report(problems)
    expect_no_console_errors(errors)


def test_the_walk_reaches_the_pages_of_each_role(chromium: Browser, server: LiveServer) -> None:
    """The walk above proves something only if it gets somewhere: a manager reaches the
    cohorts and matching pages, a researcher the studies."""
    context = chromium.new_context(base_url=server.url, viewport=PHONE)
    page = context.new_page()
    try:
        reached: dict[str, set[str]] = {}
        for login in DEMO_LOGINS:
            if login.role.value not in ("manager", "researcher"):
                continue
            log_in(page, login.email)
            reached[login.role.value] = {kind(p) for p in links(page, server.url)}
            page.get_by_role("navigation", name="Main").get_by_role(
                "button", name="Log out").click()
    finally:
        context.close()
    assert any(p.startswith("/cohorts") for p in reached["manager"]), reached["manager"]
    assert any(p.startswith("/research") for p in reached["researcher"]), reached["researcher"]



def _rgb(colour: str) -> tuple[float, ...]:
    parts = [float(p) for p in re.findall(r"[\d.]+", colour)]
    return tuple(parts[:3]) + ((parts[3],) if len(parts) > 3 else (1.0,))


def contrast(one: str, other: str) -> float:
    def luminance(colour: str) -> float:
        channels = [c / 255 for c in _rgb(colour)[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


FOCUS_STYLE = """el => { const s = getComputedStyle(el);
  return {style: s.outlineStyle, width: parseFloat(s.outlineWidth), colour: s.outlineColor,
          border: s.borderColor,
          page: getComputedStyle(document.documentElement).backgroundColor}; }"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_keyboard_focus_is_clearly_visible(
        chromium: Browser, server: LiveServer, scheme: str) -> None:
    """WCAG 2.4.7: a solid ring at least 2 px wide with 3:1 contrast against the page, on a
    field and on a chosen radio button, which also keeps its chosen colour while focused."""
    context = chromium.new_context(base_url=server.url, color_scheme=scheme,  # type: ignore[arg-type]
                                  reduced_motion="reduce")  # colours read at rest
    page = context.new_page()
    try:
        page.goto("/login")
        page.keyboard.press("Tab")  # the skip link
        page.keyboard.press("Tab")
        field = page.evaluate("() => document.activeElement.outerHTML")
        rings = [page.evaluate(f"({FOCUS_STYLE})(document.activeElement)")]
        page.goto("/signup")
        page.get_by_label("Your name, as others will see it").fill("Kim Keyboard")
        page.get_by_label("E-mail").fill(f"keyboard-{scheme}@example.org")
        page.get_by_label("Password").fill("a long enough keyboard password")
        page.get_by_role("button", name="Create account").click()
        start_a_journey(page)
        page.goto("/surveys/pre/happiness")
        radio = page.locator("input[type=radio]").first
        radio.check()
        radio.blur()
        unfocused = page.evaluate(
            f"({FOCUS_STYLE})(document.querySelector('input[type=radio]:checked'))")
        radio.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowLeft")  # as a keyboard user reaches it: focus-visible
        chosen = page.evaluate(f"({FOCUS_STYLE})(document.activeElement)")
        rings.append(chosen)
    finally:
        context.close()
    for ring in rings:
        assert ring["style"] == "solid" and ring["width"] >= 2, (field, ring)
        assert contrast(ring["colour"], ring["page"]) >= 3, ring
    assert chosen["border"] == unfocused["border"], "a chosen radio looks different when focused"
    assert _rgb(chosen["border"])[3] == 1.0, chosen
