"""E-mail on the wire: pages and audience updates through the SMTP server of [channels.smtp],
with the stdlib's smtplib in a thread (one connection per message: they are few).

The Message-ID is the outbox item's own (the same on every attempt), so a mail client that
files by Message-ID shows a resent message once.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from warroom.actions.notify import Attempt, Message
from warroom.destinations import Destination, SecretError
from warroom.sanitize import one_line


def build(dest: Destination, msg: Message, idempotency_key: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = one_line(msg.headline)[:200]
    mail["From"] = str(dest.options.get("from") or "warroom@localhost")
    mail["To"] = ", ".join(dest.to)
    mail["Date"] = formatdate(usegmt=True)
    safe = "".join(c if c.isalnum() or c in ".-" else "." for c in idempotency_key)
    mail["Message-ID"] = f"<{safe}@warroom>"
    mail["X-Warroom-Incident"] = msg.incident
    mail.set_content(msg.body + "\n")
    return mail


async def send_email(dest: Destination, msg: Message, idempotency_key: str) -> Attempt:
    opts = dest.options
    if not opts.get("host"):
        return Attempt(False, error="no SMTP server: set channels.smtp.host")
    password = None
    if opts.get("user"):
        try:
            password = dest.secret.read() if dest.secret else None
        except SecretError as exc:
            return Attempt(False, error=f"no SMTP password: {exc.key}: {exc.problem}")
    mail = build(dest, msg, idempotency_key)
    return await asyncio.to_thread(_send, dest, mail, password)


def _send(dest: Destination, mail: EmailMessage, password: str | None) -> Attempt:
    o = dest.options
    host, port, timeout = str(o["host"]), int(o["port"]), dest.timeout
    try:
        if o.get("security") == "ssl":
            ctx = ssl.create_default_context()
            conn: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ctx)
        else:
            conn = smtplib.SMTP(host, port, timeout=timeout)
        with conn:
            if o.get("security") == "starttls":
                conn.starttls(context=ssl.create_default_context())
            if o.get("user"):
                conn.login(str(o["user"]), password or "")
            refused = conn.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        return Attempt(False, exc.smtp_code, f"SMTP {exc.smtp_code}: authentication failed")
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _ in exc.recipients.values()})
        return Attempt(False, codes[0] if codes else None, f"SMTP: recipients refused {codes}")
    except smtplib.SMTPNotSupportedError as exc:
        return Attempt(False, error=f"SMTP: {one_line(str(exc))[:120]}")
    except smtplib.SMTPResponseException as exc:
        said = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        return Attempt(False, exc.smtp_code, f"SMTP {exc.smtp_code}: {one_line(said)[:120]}")
    except TimeoutError:
        return Attempt(False, error=f"SMTP timeout after {timeout:g}s")
    except ConnectionRefusedError:
        return Attempt(False, error=f"SMTP connection refused ({host}:{port})")
    except (OSError, smtplib.SMTPException) as exc:
        return Attempt(False, error=f"SMTP: {type(exc).__name__}: {one_line(str(exc))[:120]}")
    if refused:
        return Attempt(False, error=f"SMTP: refused {', '.join(sorted(refused))}")
    return Attempt(True, 250)
