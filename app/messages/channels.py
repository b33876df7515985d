"""The channels member messages leave through, behind one interface.

Each backend is chosen by settings (``HAPPY_EMAIL_BACKEND``, ``HAPPY_PUSH_BACKEND``,
``HAPPY_VIBER_BACKEND``, ``HAPPY_SMS_BACKEND``); ``outbox`` (the default) appends JSON
lines to ``<outbox_dir>/<channel>.jsonl``. A send either returns (the provider's id, if
any), raises :class:`PermanentFailure` (retrying cannot help: a refused address, an
unregistered device) or raises anything else (retried with back-off).

Every send carries the message's idempotency key; providers that take one get it (Viber,
email's Message-ID, APNs' apns-id), and the recording backends keep it: a key already in
the file is not written again, as a provider with idempotency would not send twice.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import time
import uuid
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path
from typing import Any, Protocol

import httpx
import jwt

from app import clock
from app.messages.models import Category, Channel, PushPlatform
from app.notifications.sms import LogSmsSender, SmsSender, SnsSmsSender
from app.settings import Settings


class PermanentFailure(Exception):
    """The provider refused the message for good: no retry (a dead letter at once)."""


@dataclass(frozen=True)
class PushTarget:
    platform: PushPlatform
    token: str


@dataclass(frozen=True)
class OutgoingMessage:
    idempotency_key: str
    channel: Channel
    kind: str
    category: Category
    recipient: str
    subject: str
    body: str
    unsubscribe_url: str | None = None
    open_url: str | None = None
    push_targets: tuple[PushTarget, ...] = ()


class ChannelBackend(Protocol):
    async def send(self, message: OutgoingMessage) -> str | None: ...

    async def aclose(self) -> None: ...


@dataclass
class RecordingChannel:
    """Development and tests: one JSON line per message in ``path``, each key once (a
    file lock makes the check-and-append atomic across worker processes)."""

    path: Path

    async def send(self, message: OutgoingMessage) -> str | None:
        line = json.dumps(
            {
                "idempotency_key": message.idempotency_key,
                "channel": message.channel.value,
                "kind": message.kind,
                "category": message.category.value,
                "to": message.recipient,
                "subject": message.subject,
                "text": message.body,
                "unsubscribe_url": message.unsubscribe_url,
                "push_tokens": [t.token for t in message.push_targets],
                "sent_at": clock.now().isoformat(),
            },
            ensure_ascii=False,
        )
        await asyncio.to_thread(self._append_once, message.idempotency_key, line)
        return message.idempotency_key

    def _append_once(self, key: str, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.seek(0)
                needle = json.dumps(key)
                for existing in handle:
                    if f'"idempotency_key": {needle}' in existing:
                        return
                handle.write(line + "\n")
                handle.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    async def aclose(self) -> None:
        return None


@dataclass
class SmsChannel:
    """Member messages by SMS through the sign-in codes' sender (SNS, or the log)."""

    sender: SmsSender

    async def send(self, message: OutgoingMessage) -> str | None:
        await self.sender.send(message.recipient, message.body)
        return None

    async def aclose(self) -> None:
        return None


@dataclass
class SmtpEmailChannel:
    """Email over SMTP (aiosmtplib). The Message-ID is derived from the idempotency key,
    so a resend after a crash is recognisable downstream; marketing mail carries
    List-Unsubscribe with one-click POST (RFC 8058)."""

    host: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    security: str = "starttls"
    timeout: float = 20.0

    def build(self, message: OutgoingMessage) -> EmailMessage:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.recipient
        email["Subject"] = message.subject
        domain = self.sender.rsplit("@", 1)[-1].strip("> ") or "happy.example"
        email["Message-ID"] = make_msgid(idstring=message.idempotency_key, domain=domain)
        email["X-Happy-Idempotency-Key"] = message.idempotency_key
        body = message.body
        if message.unsubscribe_url:
            email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email.set_content(body)
        if message.open_url:
            html = "".join(f"<p>{_escape(p)}</p>" for p in body.split("\n") if p)
            html += f'<img src="{_escape(message.open_url)}" width="1" height="1" alt="">'
            email.add_alternative(f"<!doctype html><html><body>{html}</body></html>", "html")
        return email

    async def send(self, message: OutgoingMessage) -> str | None:
        import aiosmtplib

        email = self.build(message)
        # Flattened here with long lines allowed (RFC 5322: 998): folding would encode
        # the List-Unsubscribe URL (RFC 2047), which mail clients then cannot follow.
        raw = email.as_bytes(policy=email_policy.SMTP.clone(max_line_length=998))
        try:
            await aiosmtplib.send(
                raw,
                sender=parseaddr(self.sender)[1],
                recipients=[message.recipient],
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self.password or None,
                use_tls=self.security == "tls",
                start_tls=True if self.security == "starttls" else False,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipient refused: {exc}") from exc
        return str(email["Message-ID"])

    async def aclose(self) -> None:
        return None


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


@dataclass
class LivePushChannel:
    """Push to the member's devices: FCM HTTP v1 for Android (OAuth as the service
    account), APNs with token authentication (ES256 JWT) for iOS. Sent when at least
    one device took it; devices the providers call unregistered are reported in
    ``gone`` for the dispatcher to forget."""

    settings: Settings
    transport: httpx.AsyncBaseTransport | None = None
    gone: list[str] = field(default_factory=list)
    _client: httpx.AsyncClient | None = None
    _apns_client: httpx.AsyncClient | None = None
    _fcm_token: tuple[str, float] | None = None
    _apns_token: tuple[str, float] | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self.transport, timeout=10.0)
        return self._client

    def _http2(self) -> httpx.AsyncClient:
        if self._apns_client is None:
            self._apns_client = httpx.AsyncClient(
                transport=self.transport, timeout=10.0, http2=self.transport is None
            )
        return self._apns_client

    async def send(self, message: OutgoingMessage) -> str | None:
        if not message.push_targets:
            raise PermanentFailure("no push device registered")
        delivered = 0
        errors: list[str] = []
        for target in message.push_targets:
            try:
                if target.platform is PushPlatform.ANDROID:
                    await self._send_fcm(target.token, message)
                else:
                    await self._send_apns(target.token, message)
                delivered += 1
            except PermanentFailure as exc:
                self.gone.append(target.token)
                errors.append(str(exc))
        if delivered == 0:
            raise PermanentFailure("; ".join(errors)[:300])
        return message.idempotency_key

    async def _fcm_access_token(self) -> str:
        if self._fcm_token and time.time() < self._fcm_token[1] - 60:
            return self._fcm_token[0]
        path = Path(self.settings.messages.fcm_service_account_file)
        account = json.loads(await asyncio.to_thread(path.read_text))
        token_uri = str(account.get("token_uri", "https://oauth2.googleapis.com/token"))
        issued = int(time.time())
        assertion = jwt.encode(
            {
                "iss": account["client_email"],
                "scope": FCM_SCOPE,
                "aud": token_uri,
                "iat": issued,
                "exp": issued + 3600,
            },
            account["private_key"],
            algorithm="RS256",
            headers={"kid": account["private_key_id"]},
        )
        response = await self._http().post(
            token_uri,
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            },
        )
        response.raise_for_status()
        body = response.json()
        self._fcm_token = (str(body["access_token"]), time.time() + float(body["expires_in"]))
        return self._fcm_token[0]

    async def _send_fcm(self, token: str, message: OutgoingMessage) -> None:
        project = self.settings.messages.fcm_project_id
        response = await self._http().post(
            f"https://fcm.googleapis.com/v1/projects/{project}/messages:send",
            headers={"Authorization": f"Bearer {await self._fcm_access_token()}"},
            json={
                "message": {
                    "token": token,
                    "notification": {"title": message.subject, "body": message.body},
                    "data": {"kind": message.kind, "message_id": message.idempotency_key},
                }
            },
        )
        if response.status_code in (400, 403, 404):
            raise PermanentFailure(f"FCM {response.status_code}: {response.text[:200]}")
        response.raise_for_status()

    def _apns_jwt(self) -> str:
        if self._apns_token and time.time() < self._apns_token[1]:
            return self._apns_token[0]
        s = self.settings
        key = Path(s.messages.apns_push_key_file).read_text()
        token = jwt.encode(
            {"iss": s.apple_team_id, "iat": int(time.time())},
            key,
            algorithm="ES256",
            headers={"kid": s.messages.apns_push_key_id},
        )
        self._apns_token = (token, time.time() + 50 * 60)  # Apple: refresh within an hour
        return token

    async def _send_apns(self, token: str, message: OutgoingMessage) -> None:
        s = self.settings.messages
        host = "api.sandbox.push.apple.com" if s.apns_push_sandbox else "api.push.apple.com"
        response = await self._http2().post(
            f"https://{host}/3/device/{token}",
            headers={
                "authorization": f"bearer {self._apns_jwt()}",
                "apns-topic": s.apns_push_topic,
                "apns-push-type": "alert",
                "apns-id": str(uuid.uuid5(uuid.NAMESPACE_URL, message.idempotency_key)),
            },
            json={"aps": {"alert": {"title": message.subject, "body": message.body}}},
        )
        if response.status_code in (400, 403, 410):
            raise PermanentFailure(f"APNs {response.status_code}: {response.text[:200]}")
        response.raise_for_status()

    async def aclose(self) -> None:
        for client in (self._client, self._apns_client):
            if client is not None:
                await client.aclose()


@dataclass
class ViberChannel:
    """Viber Business Messages over the provider's REST API: JSON with the sender name,
    the receiver's number, the text and our idempotency key as the message id."""

    url: str
    token: str
    sender: str
    transport: httpx.AsyncBaseTransport | None = None
    _client: httpx.AsyncClient | None = None

    async def send(self, message: OutgoingMessage) -> str | None:
        if self._client is None:
            self._client = httpx.AsyncClient(transport=self.transport, timeout=10.0)
        response = await self._client.post(
            self.url,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": message.idempotency_key,
            },
            json={
                "sender": self.sender,
                "receiver": message.recipient.lstrip("+"),
                "text": message.body,
                "message_id": message.idempotency_key,
            },
        )
        if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
            raise PermanentFailure(f"Viber {response.status_code}: {response.text[:200]}")
        response.raise_for_status()
        try:
            body: Any = response.json()
        except ValueError:
            return None
        return str(body.get("message_token") or body.get("id") or "") or None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def build_channels(settings: Settings) -> dict[Channel, ChannelBackend]:
    """Every channel's backend, as configured."""
    m = settings.messages
    out = m.outbox_dir

    sms: ChannelBackend
    if settings.sms_backend == "outbox":
        sms = RecordingChannel(out / "sms.jsonl")
    elif settings.sms_backend == "sns":
        sms = SmsChannel(SnsSmsSender(region=settings.aws_region, sender_id=settings.sms_sender_id))
    else:
        sms = SmsChannel(LogSmsSender())
    email: ChannelBackend = (
        SmtpEmailChannel(
            host=m.smtp_host,
            port=m.smtp_port,
            sender=m.email_from,
            username=m.smtp_username,
            password=m.smtp_password,
            security=m.smtp_security,
        )
        if m.email_backend == "smtp"
        else RecordingChannel(out / "email.jsonl")
    )
    push: ChannelBackend = (
        LivePushChannel(settings)
        if m.push_backend == "live"
        else RecordingChannel(out / "push.jsonl")
    )
    viber: ChannelBackend = (
        ViberChannel(m.viber_url, m.viber_token, m.viber_sender)
        if m.viber_backend == "rest"
        else RecordingChannel(out / "viber.jsonl")
    )
    return {Channel.SMS: sms, Channel.EMAIL: email, Channel.PUSH: push, Channel.VIBER: viber}


def records_only(settings: Settings) -> bool:
    """True when every channel only records (development, tests): deliver inline."""
    m = settings.messages
    return (
        settings.sms_backend == "outbox"
        and m.email_backend == "outbox"
        and m.push_backend == "outbox"
        and m.viber_backend == "outbox"
    )
