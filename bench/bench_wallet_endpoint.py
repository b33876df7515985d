"""The served pass, end to end: ``python bench/bench_wallet_endpoint.py [N]``.

Runs the real app (SQLite in a temporary folder, local storage, development certificates)
through httpx's ASGI transport. One member signs up, downloads the pass and registers a
device; then N times: the balance changes (ledger.post in a unit of work: update tag bumped,
APNs push and Google PATCH queued and dispatched after commit to the recording backends),
and the device fetches ``GET /wallet/v1/passes/{type}/{serial}`` with its ApplePass token,
which loads the pass, builds and signs it (new content) and stores it. Prints the request
times ("fresh": built and signed; "cached": the same content again, from memory/storage;
"readyz": the floor of any request, one ``SELECT 1``; "change": the posting's unit of work
including the after-commit dispatch).
Target: at most 20 ms per pass.
"""

from __future__ import annotations

import asyncio
import io
import json
import platform
import re
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import httpx

from app import clock
from app.db import create_database
from app.ledger import service as ledger
from app.ledger.models import EntryKind
from app.main import create_app
from app.migrations import upgrade
from app.settings import Settings

TARGET_MS = 20.0
PASS_TYPE = "pass.al.happy.card"


def _report(name: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    print(
        f"{name:7s} n={len(ordered)}  mean {statistics.mean(ordered):.2f} ms  "
        f"p50 {statistics.median(ordered):.2f} ms  p95 {p95:.2f} ms  max {ordered[-1]:.2f} ms"
    )


async def run(count: int) -> int:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        url = f"sqlite+aiosqlite:///{root / 'bench.db'}"
        await asyncio.to_thread(upgrade, url)  # alembic runs its own event loop
        settings = Settings(
            env="test",
            database_url=url,
            jwt_secret="bench-jwt-" + "x" * 40,
            hash_secret="bench-hash-" + "y" * 40,
            sms_outbox=root / "sms.jsonl",
            storage_dir=root / "files",
            wallet_dev_dir=root / "wallet",
            apns_outbox=root / "apns.jsonl",
            google_outbox=root / "google.jsonl",
            public_base_url="https://happy.example",
            graphiql=False,
        )
        db = create_database(settings)
        app = create_app(settings, db)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def gql(query: str, variables: dict[str, str], token: str = "") -> dict:  # type: ignore[type-arg]
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                response = await client.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                )
                return response.json()["data"]  # type: ignore[no-any-return]

            phone = "+355691234500"
            await gql("mutation($p:String!){requestOtp(phone:$p){__typename}}", {"p": phone})
            sms = (root / "sms.jsonl").read_text().splitlines()[-1]
            code = re.search(r"\b(\d{6})\b", json.loads(sms)["text"]).group(1)  # type: ignore[union-attr]
            session = await gql(
                "mutation($p:String!,$c:String!){verifyOtp(phone:$p,code:$c)"
                "{... on Session{accessToken}}}",
                {"p": phone, "c": code},
            )
            token = session["verifyOtp"]["accessToken"]
            card = await gql("query{me{card{appleWalletUrl}}}", {}, token)
            link = card["me"]["card"]["appleWalletUrl"].removeprefix("https://happy.example")
            data = (await client.get(link)).content
            document = json.loads(zipfile.ZipFile(io.BytesIO(data)).read("pass.json"))
            serial, auth = document["serialNumber"], document["authenticationToken"]
            headers = {"Authorization": f"ApplePass {auth}"}
            await client.post(
                f"/wallet/v1/devices/bench-device/registrations/{PASS_TYPE}/{serial}",
                json={"pushToken": "ab" * 32},
                headers=headers,
            )
            member_id = 1
            fresh: list[float] = []
            cached: list[float] = []
            changes: list[float] = []
            baseline: list[float] = []
            for n in range(count):
                started = time.perf_counter()
                async with db.unit_of_work() as unit:
                    await ledger.post(
                        unit,
                        member_id=member_id,
                        kind=EntryKind.EARN,
                        delta=1 + n % 7,
                        now=clock.now(),
                    )
                changes.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await client.get("/readyz")  # the floor: ASGI, middleware, one SELECT 1
                baseline.append((time.perf_counter() - started) * 1000)
                for bucket in (fresh, cached):
                    started = time.perf_counter()
                    response = await client.get(
                        f"/wallet/v1/passes/{PASS_TYPE}/{serial}", headers=headers
                    )
                    bucket.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.status_code
        await db.dispose()
    print(f"{platform.machine()} {platform.processor() or ''} Python {platform.python_version()}")
    _report("change", changes)
    _report("readyz", baseline)
    _report("fresh", fresh)
    _report("cached", cached)
    # The median: p95 on a shared machine measures the neighbours (see bench/RESULTS.md).
    ok = statistics.median(fresh) <= TARGET_MS
    print(f"target: served fresh pass p50 <= {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(run(int(sys.argv[1]) if len(sys.argv) > 1 else 200)))
