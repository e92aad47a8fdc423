"""Consent documents (versioned Markdown) and each member's consent, given and withdrawn."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt
from markupsafe import Markup
from ruamel.yaml import YAML
from sqlmodel import Session, col, select

from app.accounts.consent_models import ConsentDocument, ConsentRecord
from app.audit import service as audit
from app.clock import now
from app.definitions import DefinitionError, Problem
from app.errors import TelosError
from app.settings import ROOT

CONSENT_DIR = ROOT / "surveys" / "consent"
DEFAULT_KEY = "telos"
_markdown = MarkdownIt("commonmark", {"html": False})


class ConsentNeeded(TelosError):
    """Raised where the member must read and answer the consent document first."""

    status_code = 303

    def __init__(self, next_url: str) -> None:
        super().__init__("Please read how Telos uses what you share, and answer, first.")
        self.next_url = next_url


@dataclass(frozen=True)
class ConsentText:
    key: str
    version: str
    title: str
    body: str
    content_hash: str
    research_free_text: bool = False


def read_document(path: Path) -> ConsentText:
    """A Markdown file whose front matter (between --- lines) gives id, title, version."""
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    parts = text.split("---\n", 2)
    if len(parts) != 3 or parts[0].strip():
        raise DefinitionError([Problem(str(path), "", 1, "front matter (--- … ---) is missing")])
    meta = YAML(typ="safe").load(parts[1]) or {}
    missing = [key for key in ("id", "title", "version") if not meta.get(key)]
    if missing:
        raise DefinitionError([Problem(str(path), key, 2, "this required key is missing")
                               for key in missing])
    return ConsentText(key=str(meta["id"]), version=str(meta["version"]),
                       title=str(meta["title"]), body=parts[2].strip(),
                       content_hash=hashlib.sha256(raw).hexdigest(),
                       research_free_text=meta.get("research_free_text") is True)


def store_documents(session: Session, directory: Path = CONSENT_DIR) -> int:
    added = 0
    for path in sorted(directory.glob("*.md")):
        text = read_document(path)
        exists = session.exec(select(ConsentDocument.id).where(
            ConsentDocument.key == text.key, ConsentDocument.content_hash == text.content_hash
        )).first()
        if exists is None:
            session.add(ConsentDocument(key=text.key, version=text.version, title=text.title,
                                        body=text.body, content_hash=text.content_hash,
                                        research_free_text=text.research_free_text))
            added += 1
    session.flush()
    return added


def current_document(session: Session, key: str = DEFAULT_KEY) -> ConsentDocument | None:
    return session.exec(
        select(ConsentDocument).where(ConsentDocument.key == key)
        .order_by(col(ConsentDocument.id).desc())
    ).first()


def as_html(document: ConsentDocument) -> Markup:
    """The document's Markdown as HTML; raw HTML in it is shown as text, never run."""
    return Markup(_markdown.render(document.body))  # noqa: S704  (html disabled above)


def latest_record(session: Session, *, user_id: int) -> ConsentRecord | None:
    return session.exec(
        select(ConsentRecord).where(ConsentRecord.user_id == user_id)
        .order_by(col(ConsentRecord.id).desc())
    ).first()


def has_current_consent(session: Session, *, user_id: int) -> bool:
    """Whether the member agreed to use the app under the current document version."""
    document = current_document(session)
    if document is None:
        return True  # no consent document loaded: nothing to ask
    record = latest_record(session, user_id=user_id)
    return record is not None and record.document_id == document.id and record.app_use


def require_consent(session: Session, *, user_id: int, then: str) -> None:
    """Before joining: the member answers the current consent document, then goes to `then`."""
    if not has_current_consent(session, user_id=user_id):
        raise ConsentNeeded(then)


def give(session: Session, *, user_id: int, document: ConsentDocument,
         research_use: bool) -> ConsentRecord:
    assert document.id is not None
    record = ConsentRecord(user_id=user_id, document_id=document.id, app_use=True,
                           research_use=research_use)
    session.add(record)
    session.flush()
    audit.record(session, action="consent.given", actor_id=user_id, target_type="consent",
                 target_id=record.id, document=document.key, version=document.version,
                 research_use=research_use)
    return record


def research_consent_active(session: Session, *, user_id: int) -> bool:
    """Research may use this member's answers: they said yes and have not withdrawn."""
    record = latest_record(session, user_id=user_id)
    return bool(record and record.research_use and record.research_withdrawn_at is None)


def withdraw_research(session: Session, *, user_id: int) -> bool:
    """Stops research use at once; returns False when there was nothing to withdraw."""
    record = latest_record(session, user_id=user_id)
    if record is None or not record.research_use or record.research_withdrawn_at is not None:
        return False
    record.research_withdrawn_at = now()
    session.add(record)
    audit.record(session, action="consent.research_withdrawn", actor_id=user_id,
                 target_type="consent", target_id=record.id)
    session.flush()
    from app.research import service as research  # research reads consent: import on use
    research.data_changed(session, user_id=user_id)
    return True
