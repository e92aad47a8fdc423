from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field

from app.clock import UTCDateTime, now
from app.tables import SQLModel


class ConsentDocument(SQLModel, table=True):
    """One version of a consent text (Markdown), identified by its content hash."""

    __tablename__ = "consent_document"
    __table_args__ = (UniqueConstraint("key", "content_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, index=True)
    version: str = Field(max_length=40)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    content_hash: str = Field(max_length=64)
    # Front matter `research_free_text: true`: research consent under this version also
    # covers what the member wrote (reflections, statements), for studies that ask for it.
    research_free_text: bool = False
    loaded_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)


class ConsentRecord(SQLModel, table=True):
    """Who agreed to which version, to what, when; and any withdrawal from research."""

    __tablename__ = "consent_record"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False,
                         index=True)
    )
    document_id: int = Field(
        sa_column=Column(Integer, ForeignKey("consent_document.id", ondelete="RESTRICT"),
                         nullable=False, index=True)
    )
    app_use: bool
    research_use: bool
    agreed_at: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    research_withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
