"""Outgoing e-mail: SMTP when configured, else an .eml file per message in var/outbox/.

Every message goes out as a job ("mail.send"), retried with backoff when SMTP fails;
`queue(session, mails)` asks for them in the caller's transaction.
"""

import logging
import re
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from typing import Any

from sqlmodel import Session

from app import jobs
from app.clock import now
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    # An address Telos keeps no longer than its purpose (someone outside Telos asked for
    # feedback): the job forgets it too once the message is sent.
    forget_address: bool = False


def queue(session: Session, mails: Iterable[Mail]) -> None:
    """Send each mail once the caller's transaction commits (never if it rolls back)."""
    for mail in mails:
        extra: dict[str, Any] = {"forget_address": True} if mail.forget_address else {}
        jobs.enqueue(session, "mail.send", to=mail.to, subject=mail.subject, body=mail.body,
                     **extra)


def _describe(payload: dict[str, Any]) -> str:
    return f"to {payload.get('to', '?')}: {payload.get('subject', '')}"


# Once sent, the body (which may hold a sign-in or reset link) is not kept in the job.
SENT_BODY = "(the text is not kept once the message is sent)"
SENT_ADDRESS = "(the address is not kept once the message is sent)"


@jobs.task("mail.send", attempts=8, retry_delay=30, backoff=3, lease=timedelta(minutes=2),
           describe=_describe)
def deliver(ctx: jobs.JobContext, *, to: str, subject: str, body: str,
            forget_address: bool = False) -> dict[str, Any]:
    # One Message-ID per job, so a retry after a crash is recognisably the same message.
    domain = parseaddr(ctx.settings.mail_from)[1].rpartition("@")[2] or "telos.localhost"
    mail = Mail(to=to, subject=subject, body=body)
    try:
        build(ctx.settings, mail)
    except (ValueError, TypeError) as error:  # e.g. a line break in a header
        raise jobs.CannotSucceed(f"the message cannot be built: {error}") from error
    where = send(ctx.settings, mail, message_id=f"<job-{ctx.job_id}@{domain}>",
                 name=f"{ctx.job_id:08d}")
    ctx.payload_after = {"to": SENT_ADDRESS if forget_address else to, "subject": subject,
                         "body": SENT_BODY}
    return {"sent": where}


def build(settings: Settings, mail: Mail, *, message_id: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = message_id or make_msgid(domain="telos.localhost")
    message["Date"] = now().strftime("%a, %d %b %Y %H:%M:%S +0000")
    message.set_content(mail.body)
    return message


def send(settings: Settings, mail: Mail, *, message_id: str | None = None,
         name: str | None = None) -> str:
    """Send now; says where it went. Use `queue` from requests: this blocks and may fail."""
    message = build(settings, mail, message_id=message_id)
    if settings.smtp_host:
        _send_smtp(settings, message)
        return "smtp"
    path = _write_outbox(settings, message, mail, name)
    log.info("e-mail to %s written to %s", mail.to, path)
    return "outbox"


def _send_smtp(settings: Settings, message: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _write_outbox(settings: Settings, message: EmailMessage, mail: Mail,
                  name: str | None) -> str:
    settings.outbox_dir.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", mail.subject.lower()).strip("-")[:40]
    stamp = name or now().strftime("%Y%m%dT%H%M%S%f")
    path = settings.outbox_dir / f"{stamp}-{slug}.eml"
    # Written whole under another name, then renamed: a reader never sees half a file.
    partial = path.with_suffix(".part")
    partial.write_bytes(bytes(message))
    partial.replace(path)
    return str(path)
