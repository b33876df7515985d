"""Sending SMS behind one interface: ``outbox`` (development), ``log``, ``sns``."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from app import clock
from app.members.phone import mask_phone
from app.settings import Settings

log = logging.getLogger(__name__)


class SmsSender(Protocol):
    async def send(self, to: str, text: str) -> None: ...


@dataclass
class OutboxSmsSender:
    """Appends each message as one JSON line to a file (development and tests)."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def send(self, to: str, text: str) -> None:
        line = json.dumps(
            {"to": to, "text": text, "sent_at": clock.now().isoformat()}, ensure_ascii=False
        )
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")


class LogSmsSender:
    """Logs that a message would be sent (masked number, no text: it may hold a code)."""

    async def send(self, to: str, text: str) -> None:
        log.info("sms", extra={"to": mask_phone(to), "length": len(text)})


@dataclass
class SnsSmsSender:
    """Amazon SNS direct publish to a phone number (transactional)."""

    region: str
    sender_id: str
    client: Any = None

    async def send(self, to: str, text: str) -> None:
        await asyncio.to_thread(self._publish, to, text)

    def _publish(self, to: str, text: str) -> None:
        if self.client is None:
            import boto3

            self.client = boto3.client("sns", region_name=self.region)
        self.client.publish(
            PhoneNumber=to,
            Message=text,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": self.sender_id},
            },
        )


def make_sms_sender(settings: Settings) -> SmsSender:
    if settings.sms_backend == "outbox":
        return OutboxSmsSender(settings.sms_outbox)
    if settings.sms_backend == "sns":
        return SnsSmsSender(region=settings.aws_region, sender_id=settings.sms_sender_id)
    return LogSmsSender()
