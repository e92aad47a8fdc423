"""Telos: purpose discovery for communities."""

from sqlmodel import SQLModel

__version__ = "0.1.0"

# Named constraints make migrations reproducible on SQLite and PostgreSQL alike;
# set here because it must be in place before the first table is declared.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
