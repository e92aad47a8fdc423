"""The shared theme list: managers add, rename and (when unused) delete themes."""

from sqlmodel import Session, select

from app.accounts.models import Role
from app.community import themes
from app.community.models import Theme
from tests.browsing import Browser
from tests.community.content_factories import create_item, create_theme
from tests.journeys.walking import sign_in


def theme_called(db: Session, label: str) -> Theme | None:
    db.expire_all()
    return db.exec(select(Theme).where(Theme.label == label)).first()


def test_a_manager_adds_a_theme_whose_key_is_made_from_its_name(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    response = browser.submit("/themes", {"label": "  Youth  & Éducation "}, page="/themes")
    assert response.status_code == 303 and response.headers["location"] == "/themes"
    theme = theme_called(db, "Youth & Éducation")
    assert theme is not None and theme.key == "youth-education"
    page = browser.get("/themes")
    assert "Theme “Youth &amp; Éducation” added." in page.text
    assert 'value="Youth &amp; Éducation"' in page.text and "<code>youth-education</code>" \
        in page.text


def test_two_names_with_the_same_key_get_distinct_keys(browser: Browser, db: Session) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    browser.submit("/themes", {"label": "Youth education"}, page="/themes")
    browser.submit("/themes", {"label": "Youth: education"}, page="/themes")
    first, second = theme_called(db, "Youth education"), theme_called(db, "Youth: education")
    assert first is not None and second is not None
    assert (first.key, second.key) == ("youth-education", "youth-education-2")


def test_a_taken_or_empty_name_is_refused_beside_the_field_with_the_input_kept(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    create_theme(db, "Climate")
    taken = browser.submit("/themes", {"label": "climate"}, page="/themes")
    assert taken.status_code == 400
    assert '<small id="label-message" class="field-error">There is already a theme called ' \
        '“Climate”.' in taken.text
    assert 'value="climate"' in taken.text
    blank = browser.submit("/themes", {"label": "!!!"}, page="/themes")
    assert blank.status_code == 400
    assert "Use at least one letter or digit in the name." in blank.text
    empty = browser.submit("/themes", {"label": ""}, page="/themes")
    assert "This field is required." in empty.text
    db.expire_all()
    assert [theme.label for theme in db.exec(select(Theme))] == ["Climate"]


def test_renaming_keeps_the_key_so_tagged_items_keep_the_theme(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    theme = create_theme(db, "Climate")
    item = create_item(db, title="Repair café", themes=[theme.key])
    response = browser.submit(f"/themes/{theme.id}", {"label": "Climate and nature"},
                              page="/themes")
    assert response.status_code == 303
    db.expire_all()
    renamed = db.get(Theme, theme.id)
    assert renamed is not None and (renamed.key, renamed.label) == ("climate",
                                                                   "Climate and nature")
    assert "Climate and nature" in browser.get(f"/library/{item.id}").text


def test_a_rename_to_a_taken_name_is_refused_beside_that_theme(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    create_theme(db, "Climate")
    other = create_theme(db, "Faith")
    response = browser.submit(f"/themes/{other.id}", {"label": "CLIMATE"}, page="/themes")
    assert response.status_code == 400
    assert f'<small id="theme-{other.id}-message" class="field-error" role="alert">There is ' \
        'already a theme called “Climate”.' in response.text
    assert 'value="CLIMATE"' in response.text
    assert theme_called(db, "Faith") is not None


def test_a_theme_in_use_is_not_deleted_and_the_page_says_what_uses_it(
    browser: Browser, db: Session
) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    used = create_theme(db, "Climate")
    create_item(db, title="Repair café", themes=[used.key])
    response = browser.submit(f"/themes/{used.id}/delete", page="/themes")
    assert response.status_code == 409
    assert "“Climate” is still used by 1 content item (“Repair café”)." in response.text
    assert theme_called(db, "Climate") is not None


def test_an_unused_theme_is_deleted(browser: Browser, db: Session) -> None:
    sign_in(browser, db, roles=(Role.manager,))
    unused = create_theme(db, "Faith")
    response = browser.submit(f"/themes/{unused.id}/delete", page="/themes")
    assert response.status_code == 303
    assert "Theme “Faith” deleted." in browser.get("/themes").text
    assert theme_called(db, "Faith") is None


def test_other_domains_can_say_what_uses_a_theme(db: Session) -> None:
    theme = create_theme(db, "Faith")

    def mentors(session: Session, key: str) -> list[str]:
        return ["2 mentor profiles"] if key == "faith" else []

    themes.register_use(mentors)
    try:
        assert themes.theme_uses(db, "faith") == ["2 mentor profiles"]
        refused = None
        try:
            themes.delete_theme(db, theme=theme)
        except themes.ThemeInUse as error:
            refused = error.message
        assert refused is not None and "still used by 2 mentor profiles" in refused
    finally:
        themes._uses.remove(mentors)


def test_only_managers_keep_the_theme_list(browser: Browser, db: Session) -> None:
    sign_in(browser, db, roles=(Role.member,))
    page = browser.get("/themes")
    assert page.status_code == 403
    assert "This page is for people with the manager role." in page.text
