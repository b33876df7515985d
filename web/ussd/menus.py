"""The USSD menus: the door's translation of keys pressed into core calls and screens.

Stateless where possible: the position in the menus is derived from the inputs of the
dialogue (``text``, all choices so far), walked from the first screen each time (only
transitions run while walking, never actions). What a later step depends on, a screen's
offer (reward levels) or where the next page starts, is remembered in the dialogue's state
in the database (``app.ussd.service.remember``) under the step it was shown at, so any
replica can answer the next request. Only the screen answering the last input is rendered,
and only it runs its action (register, claim, change language); an action's request id is
the dialogue and the step that asked for it, so a repeat never does it twice.

Menu tree (item 5, reserving a prize, comes with the kiosk prize exchange)::

    new number:  1 register   2 terms (1 register, 0 back)   3 English/Shqip
    member:      1 balance    2 vouchers (9 more)   3 receipts (9 more)
                 4 claim a reward -> level -> 1 confirm     6 language -> 1 sq / 2 en
    everywhere:  0 back       00 main menu;  anything else re-prompts with a hint
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import on_commit
from app.errors import DomainError, RateLimited
from app.rewards import service as rewards
from app.rewards.models import RewardLevel
from app.runtime import Runtime
from app.ussd import service as ussd
from app.ussd.service import UssdMember
from web.ussd import gsm, texts

log = logging.getLogger(__name__)

Node = tuple[Any, ...]
PAGE_ROWS = 6  # most list rows one screen could ever hold
_NO_MEMBER_NEEDED = ("welcome", "terms", "register")


@dataclass(frozen=True)
class Screen:
    text: str
    more: bool  # True: CON (more input expected); False: END


@dataclass
class Dialogue:
    """One request of a dialogue, as the menus see it."""

    session: AsyncSession
    runtime: Runtime
    session_pk: int
    gateway_key: str
    session_id: str
    phone_e164: str
    started_as_member: bool
    member: UssdMember | None
    now: datetime
    timezone: str = "Europe/Tirane"


@dataclass
class _Walk:
    stack: list[Node]
    language: str
    is_member: bool
    invalid: bool = False
    values: dict[str, Any] = field(default_factory=dict)


def _points(n: int) -> str:
    return str(n)


def _money(amount: int, currency: str) -> str:
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    return f"{sign}{amount // 100}.{amount % 100:02d} {currency}"


def _code(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _join(*parts: str) -> str:
    return "\n".join(part for part in parts if part)


class Menus:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # --- walking the inputs --------------------------------------------------------

    async def answer(self, dialogue: Dialogue, inputs: list[str]) -> Screen:
        """The screen answering ``inputs`` (every choice of the dialogue so far)."""
        dialogue.timezone = await ussd.programme_timezone(dialogue.session)
        member = dialogue.member
        walk = _Walk(
            stack=[("main",) if dialogue.started_as_member else ("welcome",)],
            # A dialogue begun by a new number starts in Albanian whatever it chose later
            # (its choices are in the inputs, walked below).
            language=texts.language_of(
                member.language if member and dialogue.started_as_member else None
            ),
            is_member=dialogue.started_as_member,
        )
        for index, pressed in enumerate(inputs):
            walk.invalid = False
            if pressed == "00":
                walk.stack = [("main",) if walk.is_member else ("welcome",)]
            elif pressed == "0":
                if len(walk.stack) > 1:
                    walk.stack.pop()
                else:
                    walk.invalid = True
            elif not await self._step(dialogue, walk, pressed, index):
                walk.invalid = True
        screen = await self._render(dialogue, walk, len(inputs))
        shown = gsm.to_gsm(screen.text)
        if not gsm.fits(shown):  # a bug, not the member's problem: cut rather than fail
            log.warning("USSD screen too long (%s characters), cut", len(shown))
            shown = shown[: gsm.MAX_GSM_SEPTETS - 10]
        return Screen(shown, screen.more)

    async def _step(self, d: Dialogue, walk: _Walk, pressed: str, index: int) -> bool:
        top = walk.stack[-1]
        kind = top[0]
        if d.member is None and kind not in _NO_MEMBER_NEEDED:
            kind = "welcome"  # the member is gone (deleted, or never registered)
        if kind in ("welcome", "terms"):
            if pressed == "1":
                walk.stack = [("main",), ("register", index, walk.language)]
                walk.is_member = True
                return True
            if kind == "welcome" and pressed == "2":
                walk.stack.append(("terms",))
                return True
            if kind == "welcome" and pressed == "3":
                walk.language = "en" if walk.language == "sq" else "sq"
                return True
            return False
        if kind == "main":
            target = {
                "1": ("balance",),
                "2": ("vouchers", None),
                "3": ("receipts", None),
                "4": ("levels",),
                "6": ("language",),
            }.get(pressed)
            if target is None:
                return False
            walk.stack.append(target)
            return True
        if kind in ("vouchers", "receipts") and pressed == "9":
            following = await self._next_cursor(d, walk, top, index)
            if following is None:
                return False
            walk.stack.append((kind, following))
            return True
        if kind == "levels" and pressed.isascii() and pressed.isdigit():
            options = await self._level_options(d, index)
            number = int(pressed)
            if not 1 <= number <= len(options):
                return False
            walk.stack.append(("confirm", options[number - 1]))
            return True
        if kind == "confirm" and pressed == "1":
            walk.stack = [("main",), ("claim", top[1], index)]
            return True
        if kind == "language" and pressed in ("1", "2"):
            walk.language = "sq" if pressed == "1" else "en"
            walk.stack = [("main",), ("set_language", walk.language, index)]
            return True
        return False

    # --- remembered offers and pages -------------------------------------------------

    async def _level_options(self, d: Dialogue, step: int) -> list[int]:
        found = await ussd.recall(d.session, d.session_pk, f"levels@{step}")
        if isinstance(found, list):
            return [int(x) for x in found]
        return [row.level for row in await ussd.reward_levels(d.session)]

    async def _next_cursor(
        self, d: Dialogue, walk: _Walk, node: Node, step: int
    ) -> list[Any] | None:
        found = await ussd.recall(d.session, d.session_pk, f"{node[0]}@{step}")
        if isinstance(found, dict):
            following = found.get("next")
            return list(following) if following else None
        # Not remembered (the dialogue was purged): lay the page out again.
        _, following = await self._page(d, walk.language, node, "")
        return following

    # --- screens -----------------------------------------------------------------------

    async def _render(self, d: Dialogue, walk: _Walk, step: int) -> Screen:
        lang = walk.language
        hint = texts.text("invalid", lang) if walk.invalid else ""
        top = walk.stack[-1]
        kind = top[0]
        if d.member is None and kind not in _NO_MEMBER_NEEDED:
            kind = "welcome"
        if kind == "welcome":
            return Screen(_join(hint, texts.text("welcome", lang)), True)
        if kind == "terms":
            url = f"{self.runtime.settings.public_base_url}/terms"
            return Screen(_join(hint, texts.text("terms", lang, url=url)), True)
        if kind == "register":
            return await self._register(d, lang, hint)
        assert d.member is not None
        member = d.member
        if kind == "main":
            name = f", {gsm.shorten(member.first_name, 20)}" if member.first_name else ""
            return Screen(_join(hint, texts.text("main", lang, name=name)), True)
        if kind == "balance":
            return Screen(_join(hint, await self._balance(d, member, lang)), True)
        if kind in ("vouchers", "receipts"):
            body, following = await self._page(d, lang, top, hint)
            await ussd.remember(d.session, d.session_pk, f"{kind}@{step}", {"next": following})
            return Screen(body, True)
        if kind == "levels":
            return Screen(await self._levels(d, member, lang, hint, step), True)
        if kind == "confirm":
            return Screen(await self._confirm(d, member, lang, hint, int(top[1])), True)
        if kind == "claim":
            return Screen(await self._claim(d, member, lang, hint, int(top[1]), int(top[2])), True)
        if kind == "language":
            return Screen(_join(hint, texts.text("language", lang)), True)
        if kind == "set_language":
            return Screen(await self._set_language(d, member, str(top[1]), hint), True)
        raise AssertionError(f"no screen for {kind}")  # pragma: no cover - a menu bug

    def _error(self, exc: DomainError, lang: str, hint: str, footer: str) -> str:
        key = f"error.{exc.code}"
        if isinstance(exc, RateLimited):
            message = texts.text(key, lang, wait=texts.wait(exc.retry_after, lang))
        elif texts.has(key):
            message = texts.text(key, lang)
        else:
            from app import i18n

            message = gsm.shorten(i18n.translate(exc.code.value, lang, **exc.params), 120)
        return _join(hint, message, footer)

    async def _register(self, d: Dialogue, lang: str, hint: str) -> Screen:
        try:
            async with d.session.begin_nested():
                done = await ussd.register_member(
                    d.session, self.runtime, phone_e164=d.phone_e164, language=lang, now=d.now
                )
        except DomainError as exc:
            return Screen(self._error(exc, lang, hint, ""), False)
        card = done.card_number or ""
        if not done.is_new:
            return Screen(_join(hint, texts.text("already_member", lang, card=card)), True)
        sms = texts.text("sms.welcome", lang, card=card, points=done.available)
        sender, phone = self.runtime.sms, d.phone_e164

        async def send_card_number() -> None:
            await sender.send(phone, sms)

        on_commit(d.session, send_card_number)
        body = texts.text("registered", lang, card=card, points=_points(done.available))
        return Screen(_join(hint, body), True)

    async def _balance(self, d: Dialogue, member: UssdMember, lang: str) -> str:
        summary = await ussd.balance_summary(d.session, member.id, d.now)
        lines = [texts.text("balance", lang, available=_points(summary.available))]
        if summary.expiring_points > 0 and summary.expiring_date is not None:
            lines.append(
                texts.text(
                    "balance.expiring",
                    lang,
                    points=_points(summary.expiring_points),
                    date=summary.expiring_date.strftime("%d.%m.%Y"),
                )
            )
        if summary.claimable:
            lines.append(texts.text("balance.claimable", lang, level=summary.claimable[-1]))
        elif summary.next_level is not None:
            lines.append(
                texts.text(
                    "balance.next",
                    lang,
                    level=summary.next_level.level,
                    points=_points(summary.next_level.points),
                    needed=_points(summary.next_level.points_needed),
                )
            )
        lines.append(texts.text("back", lang))
        return "\n".join(lines)

    async def _page(
        self, d: Dialogue, lang: str, node: Node, hint: str
    ) -> tuple[str, list[Any] | None]:
        """A page of vouchers or receipts starting at ``node[1]``: as many rows as fit on
        the screen; the cursor of the next page, if there is one."""
        kind, cursor = node[0], node[1]
        assert d.member is not None
        zone = ZoneInfo(d.timezone)
        rows: list[tuple[str, list[Any]]] = []
        if kind == "vouchers":
            after = None if cursor is None else (datetime.fromisoformat(cursor[0]), cursor[1])
            found = await rewards.list_member_vouchers(
                d.session,
                d.member.id,
                status=rewards.MemberVoucherStatus.ACTIVE,
                now=d.now,
                after=after,
                limit=PAGE_ROWS + 1,
            )
            for voucher in found:
                line = texts.text(
                    "voucher",
                    lang,
                    code=_code(voucher.code),
                    value=_money(voucher.value_amount, voucher.currency),
                    date=voucher.expires_at.astimezone(zone).strftime("%d.%m.%y"),
                )
                rows.append((line, [voucher.expires_at.isoformat(), voucher.id]))
            header, empty = texts.text("vouchers", lang), texts.text("vouchers.none", lang)
        else:
            after = None if cursor is None else (datetime.fromisoformat(cursor[0]), cursor[1])
            receipts = await ussd.receipt_page(
                d.session, d.member.id, after=after, limit=PAGE_ROWS + 1
            )
            for receipt in receipts:
                line = texts.text(
                    "receipt",
                    lang,
                    date=receipt.issued_at.astimezone(zone).strftime("%d.%m"),
                    partner="{partner}",
                    points=f"{receipt.points:+d}",
                )
                room = 32 - len(gsm.to_gsm(line.replace("{partner}", "")))
                line = line.replace(
                    "{partner}", gsm.shorten(gsm.to_gsm(receipt.partner_name), room)
                )
                rows.append((line, [receipt.issued_at.isoformat(), receipt.id]))
            header, empty = texts.text("receipts", lang), texts.text("receipts.none", lang)
        back, more = texts.text("back", lang), texts.text("more", lang)
        if not rows:
            return _join(hint, empty if cursor is None else header, back), None
        shown: list[str] = []
        following: list[Any] | None = None
        for position, (line, _key) in enumerate(rows):
            if position == PAGE_ROWS:  # the look-ahead row: there is a next page
                following = rows[position - 1][1]
                break
            has_after = position + 1 < len(rows)
            footer = _join(more, back) if has_after else back
            if not gsm.fits(gsm.to_gsm(_join(hint, header, *shown, line, footer))):
                if shown:
                    following = rows[position - 1][1]
                    break
            shown.append(line)
        footer = _join(more, back) if following is not None else back
        return _join(hint, header, *shown, footer), following

    async def _levels(
        self, d: Dialogue, member: UssdMember, lang: str, hint: str, step: int
    ) -> str:
        levels = (await ussd.reward_levels(d.session))[:8]
        available = (await ussd.balance_summary(d.session, member.id, d.now)).available
        header = texts.text("levels", lang, available=_points(available))
        back = texts.text("back", lang)
        lines = [
            texts.text(
                "level",
                lang,
                option=position,
                points=_points(row.points),
                count=row.voucher_count,
                total=_money(row.voucher_count * row.voucher_value, row.currency),
            )
            for position, row in enumerate(levels, start=1)
        ]
        # Only the levels that fit on the handset's screen are offered (and remembered), so
        # every option the member can press is one they saw.
        while lines and not gsm.fits(gsm.to_gsm(_join(hint, header, *lines, back))):
            lines.pop()
        options = await ussd.remember(
            d.session, d.session_pk, f"levels@{step}", [row.level for row in levels[: len(lines)]]
        )
        if not options:
            return _join(hint, texts.text("levels.none", lang), back)
        # What this dialogue was offered first (a later "0" back to this screen shows the same).
        by_level = {row.level: row for row in levels}
        lines = [
            texts.text(
                "level",
                lang,
                option=position,
                points=_points(row.points),
                count=row.voucher_count,
                total=_money(row.voucher_count * row.voucher_value, row.currency),
            )
            for position, level in enumerate(options, start=1)
            if (row := by_level.get(int(level))) is not None
        ]
        return _join(hint, header, *lines, back)

    async def _confirm(
        self, d: Dialogue, member: UssdMember, lang: str, hint: str, level: int
    ) -> str:
        row: RewardLevel | None = await ussd.reward_level(d.session, level)
        if row is None:
            message = texts.text("error.REWARD_LEVEL_NOT_FOUND", lang)
            return _join(hint, message, texts.text("back", lang))
        available = (await ussd.balance_summary(d.session, member.id, d.now)).available
        if available < row.points:
            message = texts.text(
                "confirm.short",
                lang,
                level=row.level,
                points=_points(row.points),
                available=_points(available),
            )
            return _join(hint, message, texts.text("back", lang))
        body = texts.text(
            "confirm",
            lang,
            level=row.level,
            count=row.voucher_count,
            each=_money(row.voucher_value, row.currency),
            points=_points(row.points),
        )
        return _join(hint, body)

    def request_id(self, d: Dialogue, step: int) -> str:
        """The id of the action asked for at ``step`` of this dialogue (a claim's request
        id): the same for every repeat of the request, another for a new step."""
        digest = hashlib.sha256(f"{d.gateway_key}|{d.session_id}|{step}".encode()).hexdigest()
        return f"ussd:{digest[:40]}"

    async def _claim(
        self, d: Dialogue, member: UssdMember, lang: str, hint: str, level: int, step: int
    ) -> str:
        try:
            async with d.session.begin_nested():
                claim = await ussd.claim_level(
                    d.session,
                    member_id=member.id,
                    level=level,
                    request_id=self.request_id(d, step),
                    now=d.now,
                    claims_per_day=self.runtime.settings.ussd_claims_per_phone_per_day,
                )
        except DomainError as exc:
            return self._error(exc, lang, hint, texts.text("menu", lang))
        total = sum(v.value_amount for v in claim.vouchers)
        currency = claim.vouchers[0].currency if claim.vouchers else claim.level.currency
        body = texts.text(
            "claimed",
            lang,
            level=claim.level.level,
            count=len(claim.vouchers),
            total=_money(total, currency),
            balance=_points(claim.balance),
        )
        return _join(hint, body, texts.text("menu", lang))

    async def _set_language(self, d: Dialogue, member: UssdMember, language: str, hint: str) -> str:
        try:
            async with d.session.begin_nested():
                await ussd.set_language(
                    d.session, member_id=member.id, language=language, now=d.now
                )
        except DomainError as exc:
            return self._error(exc, language, hint, texts.text("menu", language))
        return _join(hint, texts.text("language.set", language), texts.text("menu", language))
