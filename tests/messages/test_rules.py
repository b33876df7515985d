"""The rules as pure functions: quiet hours in the member's zone, the transactional
channel, marketing consent, templates per language, signed links."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from app.keys import Keys
from app.messages.links import Links
from app.messages.models import Channel
from app.messages.rules import QuietHours, Reachability, member_zone
from app.messages.templates import TEMPLATES, render

QUIET = QuietHours.parse("21:00-09:00")
TIRANA = member_zone("+355691234567", "Europe/Tirane")


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2026, 1, 10, 12, 0, tzinfo=UTC), datetime(2026, 1, 10, 12, 0, tzinfo=UTC)),
        # 21:30 local -> 09:00 local next day (08:00 UTC in winter)
        (datetime(2026, 1, 10, 20, 30, tzinfo=UTC), datetime(2026, 1, 11, 8, 0, tzinfo=UTC)),
        # 02:00 local -> 09:00 the same day
        (datetime(2026, 1, 10, 1, 0, tzinfo=UTC), datetime(2026, 1, 10, 8, 0, tzinfo=UTC)),
        # summer time: 09:00 local is 07:00 UTC
        (datetime(2026, 7, 10, 20, 0, tzinfo=UTC), datetime(2026, 7, 11, 7, 0, tzinfo=UTC)),
    ],
)
def test_quiet_hours_delay_to_the_morning(utc: datetime, expected: datetime) -> None:
    assert QUIET.next_allowed(utc, TIRANA) == expected


def test_quiet_hours_shapes() -> None:
    assert QuietHours.parse("13:00-14:00").contains(time(13, 30))
    assert not QuietHours.parse("00:00-00:00").contains(time(3, 0))  # none
    with pytest.raises(ValueError):
        QuietHours.parse("nine-to-five")


def test_member_zone_by_number() -> None:
    assert str(member_zone("+38344123456", "Europe/Tirane")) == "Europe/Belgrade"
    assert str(member_zone("+38970123456", "Europe/Tirane")) == "Europe/Skopje"
    assert str(member_zone(None, "Europe/Tirane")) == "Europe/Tirane"


def reach(**changes: object) -> Reachability:
    values: dict[str, object] = {
        "has_phone": True,
        "has_email": False,
        "has_push_device": False,
        "consents": {},
    }
    values.update(changes)
    return Reachability(**values)  # type: ignore[arg-type]


def test_transactional_channel_order_and_refusals() -> None:
    assert reach().transactional_channel() is Channel.SMS
    assert reach(has_push_device=True).transactional_channel() is Channel.PUSH
    assert reach(consents={Channel.VIBER: True}).transactional_channel() is Channel.VIBER
    refused_sms = reach(has_email=True, consents={Channel.SMS: False})
    assert refused_sms.transactional_channel() is Channel.EMAIL
    assert reach(consents={Channel.SMS: False}).transactional_channel() is None
    pushed_but_refused = reach(has_push_device=True, consents={Channel.PUSH: False})
    assert pushed_but_refused.transactional_channel() is Channel.SMS


def test_marketing_needs_explicit_consent() -> None:
    assert not reach().marketing_allowed(Channel.SMS)
    assert reach(consents={Channel.SMS: True}).marketing_allowed(Channel.SMS)
    assert not reach(consents={Channel.EMAIL: True}).marketing_allowed(Channel.EMAIL)  # no address


def test_every_template_has_albanian_and_english_with_the_same_fields() -> None:
    for kind, template in TEMPLATES.items():
        assert set(template.texts) >= {"sq", "en"}, kind
    used, subject, body = render(
        "points_earned", "mk", {"points": 5, "partner": "Spar", "balance": 9}
    )
    assert used == "sq" and "5" in body and subject  # falls back to Albanian


def test_links_are_signed() -> None:
    links = Links(Keys(b"j" * 32, b"h" * 32), "https://happy.example")
    url = links.unsubscribe_url("abc123", "sms")
    token = url.rsplit("/", 1)[1]
    assert links.read_unsubscribe(token) == ("abc123", "sms")
    assert links.read_unsubscribe(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert links.read_open(token) is None  # an unsubscribe link is not an open link
    assert links.read_open(links.open_url(42).rsplit("/", 1)[1]) == 42


def test_campaign_file_in_toml() -> None:
    from app.messages.campaigns import parse_definition

    definition = parse_definition(
        """
code = "spring"
send_at = 2027-03-20T10:00:00+01:00
channel = "email"
template = "news"
[segment]
city = "Tiranë"
balance_min = 100
""",
        toml=True,
    )
    assert definition.trigger == "scheduled" and definition.send_at is not None
    assert definition.segment.city == "Tiranë" and definition.segment.balance_min == 100
