"""Apple pass build + sign throughput: ``python bench/bench_pkpass.py [N]``.

Makes a development certificate chain in a temporary folder, then builds and signs N store
cards (default 200) whose balance changes every time, as after a stream of receipts. The QR
image of each card is requested too (cached after the first time, as in the app). Prints
mean / p50 / p95 milliseconds per pass; the target is at most 20 ms per pass.
"""

from __future__ import annotations

import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from wallet_passes.apple import PassContent, PassSigner, build_pkpass
from wallet_passes.dev_certs import make_dev_chain
from wallet_passes.qr import qr_png

PASS_TYPE_ID = "pass.al.happy.card"
TEAM_ID = "HAPPYDEV00"
TARGET_MS = 20.0


def main(count: int = 200) -> int:
    with tempfile.TemporaryDirectory() as folder:
        chain = make_dev_chain(Path(folder), PASS_TYPE_ID, TEAM_ID)
        signer = PassSigner.from_pem(
            chain.pass_cert.read_bytes(), chain.pass_key.read_bytes(), chain.wwdr_cert.read_bytes()
        )
    cards = [f"29000000{n:05d}" for n in range(20)]
    timings: list[float] = []
    size = 0
    for n in range(count):
        card = cards[n % len(cards)]
        started = time.perf_counter()
        qr_png(card)
        data = build_pkpass(
            PassContent(
                serial_number=f"m-{n % len(cards)}",
                authentication_token="tok_0123456789abcdef",
                member_name="Arbër Hoxha",
                card_number=card,
                balance=1000 + 37 * n,
                tier="Gold",
                web_service_url="https://happy.example/wallet",
            ),
            signer,
            pass_type_id=PASS_TYPE_ID,
            team_id=TEAM_ID,
            organization_name="Happy",
        )
        timings.append((time.perf_counter() - started) * 1000)
        size = len(data)
    ordered = sorted(timings)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * len(ordered)) - 1)]
    mean = statistics.fmean(ordered)
    print(
        f"python {platform.python_version()} on {platform.machine()}, {count} passes, {size} B each"
    )
    print(f"mean {mean:.2f} ms  p50 {p50:.2f} ms  p95 {p95:.2f} ms  max {ordered[-1]:.2f} ms")
    ok = p95 <= TARGET_MS
    print(f"target p95 <= {TARGET_MS:.0f} ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
