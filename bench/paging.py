"""What paging costs (goals: a level of 20 people on two channels paged within 2 s of the
escalation on loopback; the console's 2-second pager pass over a 2,000-event timeline with
nothing new < 5 ms).

Loopback PagerDuty-shaped receiver and a real SMTP server (aiosmtpd, from the tests'
fixtures); a TinyDB incident in a temp dir. Prints: the escalation-to-last-page time, the
per-page cost, and the cost of Pager.sync() + the outbox's pending scan when nothing is due.
Run: `.venv/bin/python bench/paging.py`.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.paging_receivers import PD_KEY, PagerDutyReceiver, SMTPServer  # noqa: E402
from warroom.actions.paging import Pager, outbox_for  # noqa: E402
from warroom.escalation import escalate_to_level  # noqa: E402
from warroom.room import WarRoom  # noqa: E402
from warroom.settings import load_settings  # noqa: E402
from warroom.store.tinydb import TinyDBRepository  # noqa: E402

PEOPLE = 20


def config(tmp: Path, pd: PagerDutyReceiver, smtp: SMTPServer) -> Path:
    key = tmp / "pd"
    key.write_text(PD_KEY)
    lines = [
        "[kube]\nenabled = false",
        f'[channels.pagerduty]\nurl = "{pd.url("")}"',
        f'[channels.smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "none"',
    ]
    for i in range(PEOPLE):
        lines.append(
            f'[contacts.p{i}]\nname = "Person {i}"\nemail = "p{i}@example.com"\n'
            f'pagerduty_key_file = "{key}"'
        )
    targets = ", ".join(f'"p{i}"' for i in range(PEOPLE))
    lines.append(f"[escalation.levels.L2]\ntargets = [{targets}]")
    cfg = tmp / "w.toml"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


async def main() -> None:
    pd, smtp = PagerDutyReceiver(), SMTPServer()
    pd.start()
    smtp.start()
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            s = load_settings(config(tmp, pd, smtp), env={"USER": "bench"}, data_dir=tmp / "data")
            room = WarRoom.declare(TinyDBRepository(s.data_dir), s, title="bench", severity="P1")
            for i in range(2000):
                room.add_note(f"note {i}")
            outbox = outbox_for(room)
            assert outbox is not None
            pager = Pager(room, outbox)
            pager.sync()
            start = time.perf_counter()
            escalate_to_level(room, "L2")
            queued = pager.sync()
            results = await outbox.deliver_due()
            took = time.perf_counter() - start
            ok = sum(r.ok for r in results)
            print(f"escalation to {queued} pages ({PEOPLE} people x pagerduty+email) delivered "
                  f"{ok}/{len(results)} in {took:.2f} s ({took / max(ok, 1) * 1000:.1f} ms a "
                  f"page, channels in parallel); PagerDuty paged {len(pd.pages)} alert(s) "
                  f"(one service, one dedup_key), {len(smtp.messages)} e-mails")  # fmt: skip
            idle = []
            for _ in range(50):
                t = time.perf_counter()
                pager.sync()
                await outbox.deliver_due()
                idle.append((time.perf_counter() - t) * 1000)
            print(
                f"idle pager pass over {len(room.events)} events, {len(outbox.items())} "
                f"outbox docs: p50 {statistics.median(idle):.2f} ms, max {max(idle):.2f} ms"
            )
    finally:
        pd.stop()
        smtp.stop()


if __name__ == "__main__":
    asyncio.run(main())
