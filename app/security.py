"""Random tokens, their stored hashes, and signed values for cookies."""

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens are stored hashed, so a copy of the database opens no sessions."""
    return hashlib.sha256(token.encode()).hexdigest()


def sign(key: bytes, purpose: str, value: str) -> str:
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def dump_signed(key: bytes, purpose: str, payload: Any) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return f"{body}.{sign(key, purpose, body)}"


def load_signed(key: bytes, purpose: str, value: str) -> Any | None:
    body, _, signature = value.rpartition(".")
    if not body or not hmac.compare_digest(signature, sign(key, purpose, body)):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        return None
