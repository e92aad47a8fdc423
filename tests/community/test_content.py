"""The content library: managers write, edit, archive and import items; members read them
and are offered a varied few that fit their purpose."""

import re
from html import unescape

import httpx
import pytest
from sqlmodel import Session, col, select

from app.accounts.models import Role
from app.community import content, demo
from app.community.models import ContentItem, Theme
from app.matching.engine import MemberProfile
from tests.browsing import Browser, csrf_token_in
from tests.community.content_factories import create_item, create_theme
from tests.journeys.walking import another_browser, sign_in

NEW = {"title": "Three good things", "summary": "Note three things that went well today.",
       "url": "", "body": "Each evening, write them down.", "kind": "exercise",
       "language": "en"}


def all_items(db: Session) -> list[ContentItem]:
    db.expire_all()
    return list(db.exec(select(ContentItem).order_by(col(ContentItem.id))))


def upload(browser: Browser, data: bytes, name: str = "items.csv") -> httpx.Response:
    token = csrf_token_in(browser.get("/content/import").text)
    return browser.client.post("/content/import", data={"csrf_token": token},
                               files={"file": (name, data, "text/csv")})


def problems_in(html: str) -> list[str]:
    return [unescape(item) for item in re.findall(r"<li>(row [^<]*|file[^<]*|column[^<]*)</li>",
                                                  html)]


# Adding and editing -----------------------------------------------------------------------


def test_a_manager_adds_an_item_that_members_can_read(browser: Browser, db: Session) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    theme = create_theme(db, "Health and wellbeing")
    response = browser.submit("/content/new", {**NEW, "themes": [theme.key],
                                               "stages": ["discover", "reflect"]})
    assert response.status_code == 303 and response.headers["location"] == "/content"
    [item] = all_items(db)
    assert (item.title, item.kind, item.themes, item.stages, item.version) == (
        "Three good things", "exercise", ["health-and-wellbeing"], ["discover", "reflect"], 1)
    listing = browser.get("/content").text
    assert "“Three good things” added to the library." in listing
    assert f'<a href="/content/{item.id}">Three good things</a>' in listing

    member = another_browser(browser)
    sign_in(member, db)
    page = member.get(f"/library/{item.id}")
    assert page.status_code == 200
    assert "<h1>Three good things</h1>" in page.text
    assert "<p>Each evening, write them down.</p>" in page.text
    assert "Health and wellbeing" in page.text and "Edit this item" not in page.text


def test_an_item_needs_a_link_or_a_text_and_a_web_address_that_is_one(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    neither = browser.submit("/content/new", {**NEW, "body": ""})
    assert neither.status_code == 400
    assert '<small id="body-message" class="field-error">Give a text to read here, a link, ' \
        'or both.' in neither.text
    assert 'value="Three good things"' in neither.text
    assert "Note three things that went well today.</textarea>" in neither.text
    bad_link = browser.submit("/content/new", {**NEW, "url": "javascript:alert(1)"})
    assert bad_link.status_code == 400
    assert '<small id="url-message" class="field-error">Give a full web address starting ' \
        'with https://' in bad_link.text
    no_kind = browser.submit("/content/new", {**NEW, "kind": "podcast"})
    assert "Choose one of: article, video, exercise, event." in no_kind.text
    assert all_items(db) == []


def test_a_title_already_in_the_library_is_refused(browser: Browser, db: Session) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    create_item(db, title="Three Good  Things")
    response = browser.submit("/content/new", NEW)
    assert response.status_code == 400
    assert '<small id="title-message" class="field-error">Another item already has this ' \
        'title.' in response.text
    assert len(all_items(db)) == 1


def test_a_theme_taken_off_the_list_meanwhile_is_refused_with_the_input_kept(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    response = browser.submit("/content/new", {**NEW, "themes": ["gone"]})
    assert response.status_code == 400
    assert "Choose themes from the list; one of them is no longer on it." in response.text
    assert all_items(db) == []


def edit_form(browser: Browser, item_id: int) -> dict[str, str]:
    page = browser.get(f"/content/{item_id}").text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    return {"csrf_token": csrf_token_in(page), "version": version.group(1)}


def test_a_second_editor_is_told_of_the_first_edit_and_keeps_their_input(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    other = another_browser(browser)
    sign_in(other, db, roles=(Role.manager,))
    item = create_item(db, **NEW)
    first, second = edit_form(browser, item.id or 0), edit_form(other, item.id or 0)

    saved = browser.client.post(f"/content/{item.id}", data={
        **first, **NEW, "title": "Three good things each day"})
    assert saved.status_code == 303
    late = other.client.post(f"/content/{item.id}", data={
        **second, **NEW, "summary": "My better summary."})
    assert late.status_code == 409
    assert "Someone else saved this item after you opened it." in late.text
    assert "My better summary.</textarea>" in late.text
    assert "<dd>Three good things each day</dd>" in late.text
    assert 'name="version" value="2"' in late.text
    [stored] = all_items(db)
    assert (stored.title, stored.summary, stored.version) == (
        "Three good things each day", NEW["summary"], 2)

    again = other.client.post(f"/content/{item.id}", data={
        **second, "version": "2", **NEW, "summary": "My better summary."})
    assert again.status_code == 303
    [stored] = all_items(db)
    assert (stored.title, stored.summary, stored.version) == (
        "Three good things", "My better summary.", 3)


def test_the_library_list_filters_by_kind_theme_and_language(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    theme = create_theme(db, "Climate")
    create_item(db, title="Repair café", kind="event", themes=[theme.key])
    create_item(db, title="Tres cosas buenas", language="es")
    create_item(db, title="Energy audit", kind="exercise")

    def titles(query: str) -> list[str]:
        return re.findall(r'<a href="/content/\d+">([^<]+)</a>', browser.get(query).text)

    assert titles("/content") == ["Energy audit", "Repair café", "Tres cosas buenas"]
    assert titles("/content?kind=event") == ["Repair café"]
    assert titles("/content?theme=climate") == ["Repair café"]
    assert titles("/content?language=es") == ["Tres cosas buenas"]
    assert "No items match these filters." in browser.get("/content?kind=video").text


# Archiving ------------------------------------------------------------------------------


def member_profile(text: str, *, themes: frozenset[str] = frozenset(),
                   languages: frozenset[str] = frozenset()) -> MemberProfile:
    return MemberProfile(id="1", text=text, themes=themes, languages=languages)


def suggested_titles(db: Session, member: MemberProfile, **options: object) -> list[str]:
    return [pick.item.title
            for pick in content.suggestions(db, member=member, **options)]  # type: ignore[arg-type]


def test_an_archived_item_is_never_suggested_and_members_cannot_open_it(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    item = create_item(db, title="Community garden work day",
                       summary="Dig, plant and weed the community garden together.")
    gardener = member_profile("I want to grow vegetables in the community garden.")
    assert suggested_titles(db, gardener) == ["Community garden work day"]

    archived = browser.submit(f"/content/{item.id}/archive", page="/content")
    assert archived.status_code == 303
    assert "it is no longer suggested to anyone" in browser.get("/content").text
    assert suggested_titles(db, gardener) == []
    assert "Community garden work day" in browser.get("/content?archived=1").text
    manager_view = browser.get(f"/library/{item.id}")
    assert "This item is archived" in manager_view.text

    member = another_browser(browser)
    sign_in(member, db)
    assert member.get(f"/library/{item.id}").status_code == 404

    browser.submit(f"/content/{item.id}/unarchive", page="/content")
    assert suggested_titles(db, gardener) == ["Community garden work day"]
    assert member.get(f"/library/{item.id}").status_code == 200


# Suggestions ------------------------------------------------------------------------------


def test_suggestions_are_varied_not_near_duplicates(db: Session) -> None:
    garden = create_theme(db, "Growing food")
    for n in range(1, 6):
        create_item(db, title=f"Community garden guide, part {n}", kind="article",
                    summary="How to start a community garden with your neighbours.",
                    body="Start a community garden with neighbours: find land, plant "
                         "vegetables, share the harvest of the community garden.",
                    themes=[garden.key])
    create_item(db, title="Seed swap evening", kind="event", themes=[garden.key],
                summary="Bring seeds from your garden and swap them with neighbours.",
                body="An evening to swap seeds and stories about growing vegetables.")
    create_item(db, title="A week of noticing plants", kind="exercise", themes=[garden.key],
                summary="Notice one plant a day and sketch it.",
                body="Growing things starts with looking closely at them.")
    create_item(db, title="Negotiating a pay rise", kind="article",
                summary="Prepare for a salary conversation.", body="Know your market rate.")
    member = member_profile("I want to start a community garden with my neighbours and "
                            "grow vegetables.", themes=frozenset({garden.key}))
    picks = content.suggestions(db, member=member, k=3)
    titles = [pick.item.title for pick in picks]
    assert len(titles) == 3
    assert sum(title.startswith("Community garden guide") for title in titles) == 1, titles
    assert "Negotiating a pay rise" not in titles
    assert len({pick.item.kind for pick in picks}) == 3
    assert all(pick.explanation for pick in picks)
    assert "about growing food, which you care about" in picks[0].explanation


def test_suggestions_are_in_the_members_languages(db: Session) -> None:
    create_item(db, title="Garden day", summary="Work in the garden together.")
    create_item(db, title="Día de huerto", summary="Trabajar juntos en el huerto.",
                language="es")
    everyone = member_profile("garden huerto")
    assert sorted(suggested_titles(db, everyone)) == ["Día de huerto", "Garden day"]
    assert suggested_titles(db, member_profile("garden huerto",
                                               languages=frozenset({"spanish"}))) == [
        "Día de huerto"]
    assert suggested_titles(db, member_profile("garden huerto",
                                               languages=frozenset({"en", "fr"}))) == [
        "Garden day"]


def test_suggestions_for_a_stage_include_items_for_its_phase_or_for_anywhere(
    db: Session
) -> None:
    create_item(db, title="For reflecting", stages=["reflect"])
    create_item(db, title="For the whole discover phase", stages=["discover"])
    create_item(db, title="For acting", stages=["act"])
    create_item(db, title="For anywhere")
    member = member_profile("a walk in the park")
    assert sorted(suggested_titles(db, member, stage="reflect")) == [
        "For anywhere", "For reflecting", "For the whole discover phase"]
    assert sorted(suggested_titles(db, member, stage="discover")) == [
        "For anywhere", "For reflecting", "For the whole discover phase"]
    assert sorted(suggested_titles(db, member, stage="act")) == ["For acting", "For anywhere"]


# Reading ----------------------------------------------------------------------------------


def test_author_text_is_shown_as_text_never_as_markup(browser: Browser, db: Session) -> None:
    sign_in(browser, db)
    item = create_item(db, title="<b>Bold</b> title", summary="<script>alert(1)</script>",
                       body="First <i>line</i>\n\nSecond paragraph",
                       url="https://example.com/a?b=1&c=2")
    page = browser.get(f"/library/{item.id}").text
    assert "<h1>&lt;b&gt;Bold&lt;/b&gt; title</h1>" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<p>First &lt;i&gt;line&lt;/i&gt;</p><p>Second paragraph</p>" in page
    assert 'href="https://example.com/a?b=1&amp;c=2"' in page


@pytest.mark.parametrize(("role", "library", "manage"), [
    (Role.member, 200, 403), (Role.manager, 200, 200), (Role.mentor, 403, 403),
    (Role.researcher, 403, 403), (Role.admin, 403, 403),
])
def test_who_may_read_and_who_may_manage_the_library(
    browser: Browser, db: Session, role: Role, library: int, manage: int
) -> None:
    item = create_item(db)
    sign_in(browser, db, roles=(role,))
    assert browser.get(f"/library/{item.id}").status_code == library
    for page in ("/content", "/content/new", "/content/import", f"/content/{item.id}",
                 "/themes"):
        assert browser.get(page).status_code == manage, page


def test_anonymous_visitors_are_sent_to_log_in(browser: Browser, db: Session) -> None:
    item = create_item(db)
    for page in (f"/library/{item.id}", "/content", "/themes"):
        response = browser.get(page)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


# CSV import -------------------------------------------------------------------------------

GOOD_CSV = (
    "title,summary,kind,themes,stages,language,url,body\n"
    "Three good things,Note what went well.,exercise,Health;climate,discover,en,,"
    "\"Each evening, write three things.\"\n"
    "Repair café,Fix things together.,event,climate,act; Explore,English,"
    "https://repair.example/cafe,\n"
    "Tres cosas buenas,Anota lo que salió bien.,Exercise,,,es,,Cada noche.\n"
)


def test_a_good_file_is_imported_whole_and_the_page_says_how_many(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    create_theme(db, "Health")
    create_theme(db, "Climate")
    response = upload(browser, GOOD_CSV.encode())
    assert response.status_code == 303 and response.headers["location"] == "/content"
    assert "Imported 3 items." in browser.get("/content").text
    items = {item.title: item for item in all_items(db)}
    assert set(items) == {"Three good things", "Repair café", "Tres cosas buenas"}
    assert items["Three good things"].themes == ["health", "climate"]
    assert items["Three good things"].body == "Each evening, write three things."
    assert items["Repair café"].stages == ["act", "explore"]
    assert items["Repair café"].language == "en"
    assert (items["Tres cosas buenas"].kind, items["Tres cosas buenas"].language) == (
        "exercise", "es")


def test_one_bad_row_imports_nothing_and_every_problem_is_listed_by_row(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    create_theme(db, "Health")
    create_theme(db, "Climate")
    create_item(db, title="Energy audit")
    bad = GOOD_CSV + (
        "Gardening,Grow things.,exercise,Gardening;Cooking,,,,Dig.\n"
        "Energy audit,Again.,exercise,,,,,Text.\n"
        "three good things,Twice.,article,,,,,Text.\n"
        "No text,Neither link nor body.,podcast,,nowhere,klingon,ftp://x,\n"
    )
    response = upload(browser, bad.encode())
    assert response.status_code == 400
    assert "Nothing was imported" in response.text
    assert problems_in(response.text) == [
        "row 5, themes: “Gardening” is not on the theme list",
        "row 5, themes: “Cooking” is not on the theme list",
        "row 6, title: an item with this title is already in the library; change the title, "
        "or edit that item on its page",
        "row 7, title: the same title as row 2; each item needs its own",
        "row 8, stages: “nowhere” is not a phase or stage of a loaded journey",
        "row 8, url: Give a full web address starting with https:// (or http://).",
        "row 8, kind: Choose one of: article, video, exercise, event.",
        "row 8, language: Choose one of the languages: English, Español, Français, Deutsch, "
        "Português.",
    ]
    assert "These themes are not on the theme list: <strong>Cooking</strong>, " \
        "<strong>Gardening</strong>." in response.text
    assert [item.title for item in all_items(db)] == ["Energy audit"]


def test_each_field_problem_of_a_row_is_named(browser: Browser, db: Session) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    response = upload(browser, (
        b"title,summary,kind,url,body,language\n"
        b"No text,Neither.,podcast,ftp://x,,klingon\n"
        b",,article,,Body,\n"
    ))
    assert response.status_code == 400
    assert problems_in(response.text) == [
        "row 2, url: Give a full web address starting with https:// (or http://).",
        "row 2, kind: Choose one of: article, video, exercise, event.",
        "row 2, language: Choose one of the languages: English, Español, Français, Deutsch, "
        "Português.",
        "row 3, title: This field is required.",
        "row 3, summary: This field is required.",
    ]
    assert all_items(db) == []


@pytest.mark.parametrize(("data", "message"), [
    (b"", "file: The file is empty."),
    (b"\n  \n", "file: The file is empty."),
    (b"title,summary,kind,body\n", "file: The file has column names but no rows"),
    ("title,résumé\nA,B\n".encode("latin-1"), "file: The file is not UTF-8 text."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "file: This is not a CSV file."),
    (b'title,summary,kind,body\n"Open quote,never closed\n',
     "file: This file cannot be read as CSV"),
])
def test_a_file_that_is_not_usable_csv_gets_one_clear_message(
    browser: Browser, db: Session, data: bytes, message: str
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    response = upload(browser, data)
    assert response.status_code == 400
    assert any(problem.startswith(message) for problem in problems_in(response.text)), \
        problems_in(response.text)
    assert all_items(db) == []


def test_missing_and_unknown_columns_are_named(browser: Browser, db: Session) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    response = upload(browser, b"Title,theme,summary\nA,b,c\n")
    assert response.status_code == 400
    assert problems_in(response.text) == [
        "column “kind”: this column is needed",
        "columns “url” and “body”: at least one is needed",
        "column “theme”: not a column we know; the columns are title, summary, url, body, "
        "kind, themes, stages, language",
    ]


def test_rows_with_too_few_or_too_many_cells_are_named(browser: Browser, db: Session) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    response = upload(browser, (
        b"title,summary,kind,body\n"
        b"Short,row,article\n"
        b"Long,row,article,body,extra, cells\n"
    ))
    assert problems_in(response.text) == [
        "row 2, row: fewer cells than there are columns",
        "row 3, row: more cells than there are columns (a text with a comma in it needs "
        "quotes around it)",
    ]


def test_sending_the_form_without_a_file_asks_for_one(browser: Browser, db: Session) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    response = browser.submit("/content/import", page="/content/import")
    assert response.status_code == 400
    assert "file: Choose a CSV file to import." in response.text


def test_a_byte_order_mark_from_a_spreadsheet_is_fine(browser: Browser, db: Session) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    response = upload(browser, "\ufefftitle,summary,kind,body\nA,B,video,C\n".encode())
    assert response.status_code == 303
    assert [item.title for item in all_items(db)] == ["A"]


# Demo data --------------------------------------------------------------------------------


def test_the_demo_library_loads_once_with_valid_themes_and_stages(db: Session) -> None:
    demo.load(db)
    demo.load(db)
    themes = {theme.key for theme in db.exec(select(Theme))}
    items = all_items(db)
    assert len(themes) == len(demo.THEMES) and 12 <= len(themes) <= 16
    assert len(items) == len(demo.ITEMS) and 25 <= len(items) <= 40
    stages = {choice.key for choice in content.stage_choices(db)}
    for item in items:
        assert item.body and not item.url, item.title
        assert set(item.themes) <= themes and item.themes, item.title
        assert set(item.stages) <= stages, item.title
    assert {item.kind for item in items} == {"article", "exercise", "event"}
