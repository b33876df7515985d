"""Members stay in control: the data export lists their messages and devices; deleting
the account erases queued messages, addresses and texts, and push tokens; the member
door checks who registers a device."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.db import Database
from app.messages.models import MemberMessage, MessageStatus, PushDevice
from tests.helpers import Api
from tests.messages.conftest import Member, Pos, Sent, receipt, sign_up

REGISTER = """
mutation($platform: PushPlatform!, $token: String!) {
  registerPushDevice(platform: $platform, token: $token) {
    __typename ... on Error { code message field }
  }
}"""


async def test_export_lists_messages_and_devices(api: Api, member: Member) -> None:
    body = await api.gql(REGISTER, {"platform": "ANDROID", "token": "a" * 40}, token=member.token)
    assert body["data"]["registerPushDevice"]["__typename"] == "PushDeviceRegistered"
    body = await api.gql("mutation { exportMyData { data } }", token=member.token)
    data = body["data"]["exportMyData"]["data"]
    (welcome,) = data["messages"]
    assert welcome["kind"] == "welcome" and welcome["status"] == "sent"
    assert welcome["to"] == member.phone and member.card in welcome["text"]
    assert data["pushDevices"] == [
        {"platform": "android", "createdAt": data["pushDevices"][0]["createdAt"]}
    ]


async def test_delete_account_erases_queued_messages_and_push_tokens(
    api: Api, db: Database, member: Member, spar: Pos, sent: Sent
) -> None:
    await api.gql(REGISTER, {"platform": "IOS", "token": "b" * 64}, token=member.token)
    # A marketing message waiting for the morning (queued, not yet sent).
    async with db.unit_of_work() as session:
        session.add(
            MemberMessage(
                member_id=member.id,
                kind="news",
                event_key="campaign:test",
                channel="sms",
                category="marketing",
                language="sq",
                recipient=member.phone,
                subject="News",
                body="News",
                status=MessageStatus.PENDING,
                attempts=0,
                created_at=datetime.now(UTC),
                next_attempt_at=datetime(2100, 1, 1, tzinfo=UTC),
            )
        )
    body = await api.gql("mutation { deleteAccount { deletedAt } }", token=member.token)
    assert body["data"]["deleteAccount"]["deletedAt"]
    async with db.read_session() as session:
        left = list(
            await session.scalars(select(MemberMessage).where(MemberMessage.member_id == member.id))
        )
        devices = list(await session.scalars(select(PushDevice)))
    assert devices == []
    assert [m.kind for m in left] == ["welcome"]  # the queued one is gone
    assert left[0].recipient is None and left[0].body is None and left[0].subject is None


async def test_push_device_input_is_checked(api: Api, db: Database, member: Member) -> None:
    body = await api.gql(REGISTER, {"platform": "IOS", "token": "short"}, token=member.token)
    result = body["data"]["registerPushDevice"]
    assert result["__typename"] == "InputError" and result["field"] == "token"
    assert result["message"]  # in the member's language
    anonymous = await api.gql(REGISTER, {"platform": "IOS", "token": "c" * 64})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # A token moves to the member who registers it last (the phone changed hands).
    other = await sign_up(api, db, "+355693333333")
    await api.gql(REGISTER, {"platform": "IOS", "token": "d" * 64}, token=member.token)
    await api.gql(REGISTER, {"platform": "IOS", "token": "d" * 64}, token=other.token)
    async with db.read_session() as session:
        device = await session.scalar(select(PushDevice).where(PushDevice.token == "d" * 64))
    assert device is not None and device.member_id == other.id
    body = await api.gql(
        'mutation { unregisterPushDevice(token: "' + "d" * 64 + '") { removed } }',
        token=member.token,
    )
    assert body["data"]["unregisterPushDevice"]["removed"] is False  # not theirs


async def test_receipt_without_points_sends_nothing(
    api: Api, member: Member, spar: Pos, sent: Sent
) -> None:
    only_tobacco = receipt(
        "R-tob",
        member.card,
        lines=[
            {
                "sku": "TOB-20",
                "name": "Cigare",
                "brand": "Marlboro",
                "category": "Tobacco",
                "quantity": "1",
                "unitPrice": 50000,
                "amount": 50000,
            }
        ],
    )
    assert (await spar.submit(only_tobacco))["__typename"] == "ReceiptAccepted"
    assert sent.kinds("sms") == ["welcome"]


def test_every_way_out_and_open_link_reads_back() -> None:
    """A MAC byte that happens to be "." must not break a member's link (it used to for
    about one member in twenty)."""
    import secrets as random_ids

    from app.keys import Keys
    from app.messages.links import Links

    links = Links(Keys(b"j" * 32, b"h" * 32), "https://x")
    for _ in range(3000):
        public_id = random_ids.token_hex(6)
        token = links.unsubscribe_url(public_id, "sms").rsplit("/", 1)[1]
        assert links.read_unsubscribe(token) == (public_id, "sms")
