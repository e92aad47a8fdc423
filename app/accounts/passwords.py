from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

MIN_LENGTH = 12
MAX_LENGTH = 1024

_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the e-mail is unknown, so a failed login takes as long
# whether or not the account exists.
_UNKNOWN_USER_HASH = _hasher.hash("no account has this password, it only costs time")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    return _hasher.verify(password, password_hash or _UNKNOWN_USER_HASH) and bool(password_hash)


def problem(password: str) -> str | None:
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters. A few words in a row are easy to remember."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    return None
