from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.accounts import consent
from app.accounts.consent_models import ConsentRecord
from app.audit.models import AuditEvent
from app.definitions import DefinitionError
from tests.browsing import Browser
from tests.factories import PASSWORD, create_user


def _member(browser: Browser, db: Session) -> int:
    member = create_user(db)
    browser.login(member.email, PASSWORD)
    assert member.id is not None
    return member.id


def test_consent_asks_separately_and_records_what_was_agreed(
    browser: Browser, db: Session
) -> None:
    user_id = _member(browser, db)
    page = browser.get("/consent?next=/journey")
    assert "Taking part in Telos" in page.text and "(a) I agree" in page.text
    response = browser.submit("/consent", {"app_use": "yes", "next": "/journey"},
                              page="/consent")
    assert response.headers["location"] == "/journey"
    record = db.exec(select(ConsentRecord).where(ConsentRecord.user_id == user_id)).one()
    document = consent.current_document(db)
    assert document is not None
    assert (record.document_id, record.app_use, record.research_use) == (document.id, True,
                                                                         False)
    assert not consent.research_consent_active(db, user_id=user_id)


def test_consent_without_agreeing_to_use_the_app_stores_nothing(
    browser: Browser, db: Session
) -> None:
    user_id = _member(browser, db)
    response = browser.submit("/consent", {"research_use": "yes"}, page="/consent")
    assert response.status_code == 400
    assert "cannot keep your journey without this" in response.text
    assert 'id="research_use" name="research_use" value="yes" checked' in response.text
    assert db.exec(select(ConsentRecord).where(ConsentRecord.user_id == user_id)).first() is None


def test_withdrawal_is_one_click_immediate_and_logged(browser: Browser, db: Session) -> None:
    user_id = _member(browser, db)
    browser.submit("/consent", {"app_use": "yes", "research_use": "yes"}, page="/consent")
    assert consent.research_consent_active(db, user_id=user_id)
    assert "Withdraw from research" in browser.get("/profile").text
    response = browser.submit("/consent/withdraw", page="/profile")
    assert response.status_code == 303
    assert not consent.research_consent_active(db, user_id=user_id)
    assert "You withdrew from research on" in browser.get("/profile").text
    logged = db.exec(select(AuditEvent).where(
        AuditEvent.action == "consent.research_withdrawn", AuditEvent.actor_id == user_id
    )).one()
    assert logged.target_type == "consent"


def test_a_new_document_version_is_asked_again(db: Session, tmp_path: Path) -> None:
    member = create_user(db)
    assert member.id is not None
    document = consent.current_document(db)
    assert document is not None
    consent.give(db, user_id=member.id, document=document, research_use=False)
    assert consent.has_current_consent(db, user_id=member.id)
    (tmp_path / "telos.md").write_text("---\nid: telos\ntitle: New\nversion: '2.0'\n---\nNew.")
    assert consent.store_documents(db, tmp_path) == 1
    assert not consent.has_current_consent(db, user_id=member.id)


def test_consent_markdown_never_runs_html(db: Session, tmp_path: Path) -> None:
    (tmp_path / "x.md").write_text("---\nid: x\ntitle: X\nversion: '1'\n---\n<script>x</script>")
    consent.store_documents(db, tmp_path)
    document = consent.current_document(db, "x")
    assert document is not None
    assert "<script>" not in consent.as_html(document)


def test_a_document_without_front_matter_is_refused_with_its_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.md"
    path.write_text("# Just a heading\n")
    with pytest.raises(DefinitionError) as error:
        consent.read_document(path)
    assert str(path) in str(error.value) and "front matter" in str(error.value)


def test_a_journey_starts_only_after_consent(browser: Browser, db: Session) -> None:
    _member(browser, db)
    assert browser.get("/journey").headers["location"] == "/consent?next=/journey"
    refused = browser.submit("/journey/start", {"journey": "walk"}, page="/consent")
    assert refused.headers["location"] == "/consent?next=/journey"
    browser.submit("/consent", {"app_use": "yes", "next": "/journey"}, page="/consent")
    assert browser.get("/journey").status_code == 200
    started = browser.submit("/journey/start", {"journey": "walk"}, page="/journey")
    assert started.headers["location"] == "/journey"
