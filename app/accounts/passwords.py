from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pwdlib import PasswordHash

MIN_LENGTH = 12
MAX_LENGTH = 1024


@cache
def _hasher() -> "PasswordHash":
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    return PasswordHash((Argon2Hasher(),))


@cache
def _unknown_user_hash() -> str:
    """Verified against when the e-mail is unknown, so a failed login takes as long
    whether or not the account exists (computed at the first sign-in, not at import)."""
    return _hasher().hash("no account has this password, it only costs time")


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    checked = password_hash or _unknown_user_hash()
    return _hasher().verify(password, checked) and bool(password_hash)


def problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters. A few words in a row are easy to remember."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    return None
