"""Configuration from TELOS_* environment variables."""

import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(Exception):
    """The settings cannot work; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TELOS_", env_file=".env", extra="ignore")

    env: Literal["development", "production"] = "development"
    var_dir: Path = ROOT / "var"
    database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    # The reverse proxies whose X-Forwarded-For/-Proto `telos serve` believes (comma-separated
    # addresses or networks, "*" for any); empty: none, the client is the socket's peer.
    forwarded_allow_ips: str = ""

    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "Telos <no-reply@telos.localhost>"

    session_idle_minutes: int = 60 * 12
    session_absolute_hours: int = 24 * 14
    password_reset_minutes: int = 60
    invitation_days: int = 14
    # A member this many days without activity in an active journey gets one nudge.
    nudge_after_days: int = 10
    # The job queue: unset means the app's own database (a SQLite file beside a SQLite
    # database; the same PostgreSQL database); or redis://host:6379/0.
    queue_url: str = ""
    queue_name: str = "telos"
    worker_threads: int = 2
    # Text encoder of the matcher: "tfidf" (built in) or "minilm" (optional extra).
    encoder: str = "tfidf"

    @model_validator(mode="after")
    def _defaults_under_var(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{self.var_dir / 'telos.db'}"
        return self

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @cached_property
    def signing_key(self) -> bytes:
        return self.resolve_secret_key().encode()

    def resolve_secret_key(self) -> str:
        """The configured key; in development one generated once and kept in var/."""
        if self.secret_key:
            return self.secret_key
        if self.env == "production":
            raise ConfigurationError(
                "TELOS_SECRET_KEY is not set. Production mode refuses to start without it: "
                "set it to a long random value, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        path = self.var_dir / "secret_key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
