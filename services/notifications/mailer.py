"""Sending one queued letter through SMTP (`SMTP_HOST`:`SMTP_PORT`, residency-checked at start, R-SEC-6).

The row in `notification_mail` is the truth: it is locked while its letter is sent, marked sent once the server
accepted it, and on a failure keeps its attempts and the next attempt's time, so the scheduler sends it again. A
crash between the server's acceptance and the commit sends the letter twice; nothing loses it.
Logs name the letter's id and the failure's type and SMTP code only: the server's text may quote the address.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.config import OutboundSettings
from services.notifications.models import NotificationMail
from services.notifications.service import backoff

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_S = 20.0


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    """"sent", "failed" or "skipped" (already sent, or another delivery holds it)."""
    error: str | None = None


def build_message(outbound: OutboundSettings, mail: NotificationMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = outbound.smtp_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=outbound.smtp_from.rpartition("@")[2] or "localhost")
    message.set_content(mail.body, charset="utf-8")
    return message


async def deliver(outbound: OutboundSettings, message: EmailMessage) -> None:
    if not outbound.smtp_host:
        raise SmtpNotConfigured("SMTP_HOST is not set")
    await aiosmtplib.send(
        message, hostname=outbound.smtp_host, port=outbound.smtp_port, timeout=SMTP_TIMEOUT_S,
        start_tls=outbound.smtp_starttls, use_tls=False,
        username=outbound.smtp_username or None, password=outbound.smtp_password or None,
    )


class SmtpNotConfigured(Exception):
    pass


def _reason(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__} {code}" if isinstance(code, int) else type(exc).__name__


async def send_queued(session: AsyncSession, outbound: OutboundSettings, mail_id: int, *, now: datetime) -> Outcome:
    """Send letter `mail_id` unless it went already; record the outcome on its row (in the caller's transaction).

    When a letter is due (quiet hours, digests, backoff) is decided by whoever hands it over: the fan-out for a
    letter due at once, the scheduler's pass for the others (`lease_due_mails`).
    """
    mail = await session.scalar(select(NotificationMail).where(NotificationMail.id == mail_id)
                                .with_for_update(skip_locked=True))
    if mail is None or mail.sent_at is not None:
        return Outcome("skipped")
    mail.attempts += 1
    try:
        await deliver(outbound, build_message(outbound, mail))
    except (aiosmtplib.SMTPException, OSError, TimeoutError, SmtpNotConfigured) as exc:
        reason = _reason(exc)
        mail.last_error = reason[:200]
        mail.next_attempt_at = now + backoff(mail.attempts)
        await session.flush()
        logger.warning("notification mail %s not sent (attempt %s): %s; next attempt in %s s", mail.id,
                       mail.attempts, reason, int(backoff(mail.attempts).total_seconds()))
        return Outcome("failed", reason)
    mail.sent_at, mail.last_error = now, None
    await session.flush()
    logger.info("notification mail %s sent (attempt %s)", mail.id, mail.attempts)
    return Outcome("sent")
