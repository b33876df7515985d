"""JSON logs with the request id; phone numbers masked."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime

_request_id: ContextVar[str | None] = ContextVar("happy_request_id", default=None)
_PHONE = re.compile(r"\+\d{6,14}")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


def current_request_id() -> str | None:
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    _request_id.set(value)


def mask_phones(text: str) -> str:
    return _PHONE.sub(
        lambda m: m.group(0)[:6] + "*" * (len(m.group(0)) - 8) + m.group(0)[-2:], text
    )


# One encoder for every line (json.dumps with options builds a new one per call).
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)


def _masked(value: str) -> str:
    return mask_phones(value) if "+" in value else value  # no "+", no phone number


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Cheap on the hot path (every request writes its access
    line): one encoder, extras found by a set difference, phone masking only where a "+"
    could start a number."""

    def format(self, record: logging.LogRecord) -> str:
        fields = record.__dict__
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": _masked(record.getMessage()),
        }
        request_id = current_request_id()
        if request_id:
            payload["request_id"] = request_id
        for key in fields.keys() - _STANDARD:
            if not key.startswith("_"):
                value = fields[key]
                payload[key] = _masked(value) if isinstance(value, str) else value
        if record.exc_info:
            payload["exception"] = mask_phones(self.formatException(record.exc_info))
        return _ENCODER.encode(payload)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # One access line per request comes from happy.access (path without the query string);
    # uvicorn's own would repeat it with the query, where a USSD gateway's ?token= would be.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
