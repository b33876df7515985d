"""The member door's push devices: ``registerPushDevice`` and ``unregisterPushDevice``
(the app calls them with its FCM or APNs token after the member signs in)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from app import clock
from app.messages import service as messages
from app.messages.models import PushPlatform
from graphql_schema.context import MemberContext
from graphql_schema.errors import InputError


@strawberry.enum(name="PushPlatform", description="ANDROID: FCM token; IOS: APNs token.")
class PushPlatformEnum(Enum):
    ANDROID = "android"
    IOS = "ios"


@strawberry.type(description="The device receives the member's push messages.")
class PushDeviceRegistered:
    platform: PushPlatformEnum


@strawberry.type(description="Whether the device was registered to the member (now it is not).")
class PushDeviceUnregistered:
    removed: bool


RegisterPushDeviceResult = Annotated[
    PushDeviceRegistered | InputError, strawberry.union("RegisterPushDeviceResult")
]


async def register_push_device(
    ctx: MemberContext, platform: PushPlatformEnum, token: str
) -> PushDeviceRegistered:
    caller = await ctx.caller()
    async with ctx.db.unit_of_work() as session:
        await messages.register_push_device(
            session,
            member_id=caller.id,
            platform=PushPlatform(platform.value),
            token=token,
            now=clock.now(),
        )
    return PushDeviceRegistered(platform=platform)


async def unregister_push_device(ctx: MemberContext, token: str) -> PushDeviceUnregistered:
    caller = await ctx.caller()
    async with ctx.db.unit_of_work() as session:
        removed = await messages.unregister_push_device(session, member_id=caller.id, token=token)
    return PushDeviceUnregistered(removed=removed)
