"""Fuzz both GraphQL doors of a running server with Schemathesis (GraphQL mode).

Usage (``.ci/run`` does this against ``happy serve`` on a fresh SQLite database with the
demo coalition)::

    python .ci/fuzz.py http://127.0.0.1:PORT --partner-key KEY --sms-outbox PATH \
        [--examples 15] [--seed 1234]

It signs a member up through the member door (reading the code from the SMS outbox), then
runs every query and mutation of each door with generated arguments, with real
credentials: the member's access token on ``/graphql``, the store key on
``/partner/graphql``. Custom scalars get valid values (``DateTime`` near now with a time
zone, ``Date``, ``Decimal`` quantities, money as minor units is a plain Int), so the
generator reaches ``submitReceipt`` and ``importReceipts`` past argument coercion.

Each operation runs twice: with a fixed seed (reproducible) and a random one (printed).
A case fails on any HTTP 5xx or any error with ``extensions.code`` INTERNAL_SERVER_ERROR;
every failing case is printed with its query, and the script exits 1.

Not fuzzed with the member's token: ``deleteAccount`` and ``logout`` would end the session
every later case needs.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

FIXED_SEED = 20_160_016
PHONE = "+355691230016"
SKIPPED_FOR_MEMBER = {"deleteAccount", "logout"}


def register_scalars() -> None:
    """Valid values for the doors' custom scalars (see graphql_schema/*.graphql)."""
    now = time.time()
    moments = st.integers(min_value=int(now) - 30 * 86400, max_value=int(now) + 300).map(
        lambda s: time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(s))
    )
    schemathesis.graphql.scalar("DateTime", moments.map(nodes.String))
    schemathesis.graphql.scalar(
        "Date",
        st.dates().map(lambda d: nodes.String(d.isoformat())),
    )
    schemathesis.graphql.scalar(
        "Decimal",
        st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False).map(
            lambda d: nodes.String(str(d))
        ),
    )
    schemathesis.graphql.scalar(
        "JSON", st.from_type(str).map(lambda s: nodes.String(json.dumps(s)))
    )


def member_token(base: str, outbox: Path) -> str:
    def gql(query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = requests.post(
            f"{base}/graphql", json={"query": query, "variables": variables}, timeout=30
        )
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    sent = gql("mutation($p: String!) { requestOtp(phone: $p) { __typename } }", {"p": PHONE})
    assert sent["data"]["requestOtp"]["__typename"] == "OtpRequested", sent
    last = [json.loads(line) for line in outbox.read_text().splitlines() if PHONE in line][-1]
    match = re.search(r"\b(\d{6})\b", last["text"])
    assert match, last
    session = gql(
        "mutation($p: String!, $c: String!) { verifyOtp(phone: $p, code: $c) { "
        "__typename ... on Session { accessToken } } }",
        {"p": PHONE, "c": match.group(1)},
    )
    token: str = session["data"]["verifyOtp"]["accessToken"]
    return token


@dataclass
class Findings:
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)

    def record(self, response: Any) -> None:
        """Tally what came back (data, or the first error's code) to show the reach."""
        try:
            body = response.json()
        except ValueError:
            self.outcomes[f"HTTP {response.status_code}"] += 1
            return
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            self.outcomes[str((errors[0].get("extensions") or {}).get("code", "VALIDATION"))] += 1
        else:
            data = body.get("data") or {}
            typenames = {
                value.get("__typename", "data") if isinstance(value, dict) else "data"
                for value in data.values()
            }
            for name in typenames:
                self.outcomes[name] += 1


def problem(response: Any) -> str | None:
    """Why a response is a server failure (None when it is not)."""
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    for error in errors or []:
        code = (error.get("extensions") or {}).get("code")
        if code == "INTERNAL_SERVER_ERROR":
            return f"INTERNAL_SERVER_ERROR: {error.get('message')}"
    return None


def fuzz_operation(
    operation: Any,
    seed: int,
    path: str,
    headers: dict[str, str],
    examples: int,
    findings: Findings,
) -> None:
    """``examples`` generated calls of one operation; failures are collected, not raised."""

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.seed(seed)
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        findings.cases += 1
        response = case.call(headers=headers, timeout=30)
        findings.record(response)
        why = problem(response)
        if why is not None:
            findings.failures.append(
                f"{path} {operation.label} (seed {seed}): {why}\n"
                f"    body: {json.dumps(case.body)[:2000]}"
            )

    run()


def fuzz_door(
    base: str, path: str, headers: dict[str, str], examples: int, seeds: list[int]
) -> Findings:
    url = f"{base}{path}"
    schema = schemathesis.graphql.from_url(url, headers=headers, timeout=30)
    findings = Findings()
    for result in schema.get_all_operations():
        operation = result.ok()
        name = operation.label.split(".")[-1].strip()
        if path == "/graphql" and name in SKIPPED_FOR_MEMBER:
            continue
        for seed in seeds:
            fuzz_operation(operation, seed, path, headers, examples, findings)
    return findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--partner-key", required=True, help="a store's API key")
    parser.add_argument("--sms-outbox", required=True, type=Path, help="HAPPY_SMS_OUTBOX")
    parser.add_argument("--examples", type=int, default=15, help="cases per operation and seed")
    parser.add_argument("--seed", type=int, default=None, help="the random seed (default: new)")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    random_seed = args.seed if args.seed is not None else random.randrange(2**32)  # noqa: S311 (a test seed)
    seeds = [FIXED_SEED, random_seed]
    print(f"fuzz: seeds {seeds} ({args.examples} cases per operation and seed)")
    register_scalars()
    token = member_token(base, args.sms_outbox)
    failed = False
    for path, headers in (
        ("/graphql", {"Authorization": f"Bearer {token}"}),
        ("/partner/graphql", {"Authorization": f"Bearer {args.partner_key}"}),
    ):
        started = time.monotonic()
        findings = fuzz_door(base, path, headers, args.examples, seeds)
        elapsed = time.monotonic() - started
        print(
            f"fuzz: {path}: {findings.cases} cases in {elapsed:.0f}s, "
            f"{len(findings.failures)} failures"
        )
        print("  outcomes: " + ", ".join(f"{k} {v}" for k, v in findings.outcomes.most_common()))
        for failure in findings.failures[:50]:
            print(f"  FAIL {failure}")
        failed = failed or bool(findings.failures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
