"""The rules of who gets what, where and when: channels by consent, the member's time
zone, quiet hours. Pure functions over plain values, so they are tested directly.

- A **transactional** message (about the member's own account: welcome, points earned,
  vouchers ready or expiring, points expiring, a new tier) needs no marketing consent.
  It goes on one channel, the member's first usable one in the order push (a registered
  device), Viber (consent given), SMS, email (an address on file), skipping every
  channel the member explicitly refused: a refusal is never overridden.
- A **marketing** message (campaigns, birthday, reward within reach, dormant
  reactivation) goes on the campaign's channel only with the member's marketing consent
  for that channel, never in quiet hours (delayed to their end, not dropped), and always
  carries a way out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.messages.models import Channel

# Calling code -> IANA zone of the programme's markets. Members have no time zone field;
# their verified number's country is the best sign of where they live.
ZONES_BY_CALLING_CODE = {
    "+355": "Europe/Tirane",
    "+383": "Europe/Belgrade",  # Kosovo (same offset as Pristina)
    "+389": "Europe/Skopje",
    "+382": "Europe/Podgorica",
    "+381": "Europe/Belgrade",
}


def member_zone(phone_e164: str | None, programme_zone: str) -> ZoneInfo:
    """The member's time zone: their number's country, else the programme's."""
    if phone_e164:
        for prefix, zone in ZONES_BY_CALLING_CODE.items():
            if phone_e164.startswith(prefix):
                return ZoneInfo(zone)
    return ZoneInfo(programme_zone)


@dataclass(frozen=True)
class QuietHours:
    start: time  # e.g. 21:00
    end: time  # e.g. 09:00 (the next morning when end < start)

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """``"21:00-09:00"``; ``ValueError`` when malformed."""
        first, _, second = text.partition("-")
        return cls(time.fromisoformat(first.strip()), time.fromisoformat(second.strip()))

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_allowed(self, now: datetime, zone: ZoneInfo) -> datetime:
        """``now`` if outside quiet hours, else when they end in ``zone`` (as UTC)."""
        local = now.astimezone(zone)
        if not self.contains(local.time().replace(tzinfo=None)):
            return now
        end_day = local.date()
        if self.start > self.end and local.time().replace(tzinfo=None) >= self.start:
            end_day = end_day + timedelta(days=1)
        end = datetime.combine(end_day, self.end, tzinfo=zone)
        return end.astimezone(now.tzinfo)


TRANSACTIONAL_ORDER = (Channel.PUSH, Channel.VIBER, Channel.SMS, Channel.EMAIL)


@dataclass(frozen=True)
class Reachability:
    """What the composer knows about one member's channels."""

    has_phone: bool
    has_email: bool
    has_push_device: bool
    consents: dict[Channel, bool]  # channel -> granted (absent: never asked)

    def usable(self, channel: Channel) -> bool:
        if channel is Channel.PUSH:
            return self.has_push_device
        if channel is Channel.EMAIL:
            return self.has_email
        return self.has_phone  # SMS and Viber go to the phone number

    def transactional_channel(self) -> Channel | None:
        """The one channel for a transactional message (None: none left)."""
        for channel in TRANSACTIONAL_ORDER:
            if self.consents.get(channel) is False or not self.usable(channel):
                continue
            if channel is Channel.VIBER and self.consents.get(channel) is not True:
                continue  # Viber only for members who chose it
            return channel
        return None

    def marketing_allowed(self, channel: Channel) -> bool:
        return self.consents.get(channel) is True and self.usable(channel)
