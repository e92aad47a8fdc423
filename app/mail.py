"""Outgoing e-mail: SMTP when configured, else an .eml file per message in var/outbox/."""

import logging
import re
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from app.clock import now
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def build(settings: Settings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(domain="telos.localhost")
    message["Date"] = now().strftime("%a, %d %b %Y %H:%M:%S +0000")
    message.set_content(mail.body)
    return message


def send(settings: Settings, mail: Mail) -> None:
    message = build(settings, mail)
    if settings.smtp_host:
        _send_smtp(settings, message)
    else:
        path = _write_outbox(settings, message, mail)
        log.info("e-mail to %s written to %s", mail.to, path)


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _write_outbox(settings: Settings, message: EmailMessage, mail: Mail) -> str:
    settings.outbox_dir.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", mail.subject.lower()).strip("-")[:40]
    stamp = now().strftime("%Y%m%dT%H%M%S%f")
    path = settings.outbox_dir / f"{stamp}-{slug}.eml"
    path.write_bytes(bytes(message))
    return str(path)
