"""`warroom review` and `warroom action` as a user runs them: real processes, answers typed
on stdin, events on the hash-chained timeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from warroom.model import utcnow


def run(*args: str, data: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "WARROOM_DATA_DIR": str(data), "USER": "ann"}
    env.pop("WARROOM_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "warroom", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def _incident(data: Path) -> str:
    incident = run("declare", "--title", "Cart down", "--severity", "P1", data=data).stdout.strip()
    run("note", "Root cause: redis-cart-0 stuck on the lost node", data=data)
    run("resolve", "recreated", data=data)
    return incident


def test_review_walks_the_empty_parts_and_schedules_the_meeting(tmp_path: Path) -> None:
    data = tmp_path / "d"
    incident = _incident(data)
    answers = "\n".join(
        [
            "Carts failed for 12 minutes after a node stopped reporting",  # Summary
            "",
            "12% of carts failed",  # User impact
            "",
            "",  # business impact: skipped
            "",  # data
            "",  # financial
            "",  # regulatory
            "",  # reputation
            "no PodDisruptionBudget",  # Contributing
            "runbook silent on stuck pods",
            "",
            "",  # missed signals (noted); the resolution is the resolve summary: not asked
            "",  # prevention
            "evidence before the first change",  # went well
            "",
            "",  # improve
            "",  # lesson
            "document force delete",  # recommend now
            "",
            "",  # soon
            "",  # later
            "TODO(@bob, due 2026-12-08): alert on pods stuck Terminating",  # action items
            "TODO(bob): broken",
            "page the DBA faster",
            "",
            "2099-01-01 10:00",  # too late: asked again
            "",  # the proposal
        ]
    )
    out = run("review", incident, data=data, stdin=answers + "\n")
    assert out.returncode == 0, out.stderr
    assert "Executive Summary: Summary (Summary:)" in out.stdout
    assert "Root Cause: Primary cause" not in out.stdout  # already filled: not asked
    assert "Resolution: What resolved it" not in out.stdout  # `resolve recreated` said it
    assert "Action item A1: alert on pods stuck Terminating (@bob, due 2026-12-08)" in out.stdout
    assert "kept as a plain note: cannot read 'bob'" in out.stdout
    assert "Action item A2: page the DBA faster (no owner, no due date)" in out.stdout
    assert "P1 reviews are held within 3d00h of resolution" in out.stdout
    assert "2099-01-01 10:00" not in out.stdout.split("When")[-1] or "by " in out.stdout
    assert "Checklist: Review meeting" in out.stdout
    doc = json.loads(run("export", incident, "--format", "json", data=data).stdout)
    parts = {p["key"]: p for s in doc["postmortem"] for p in s["parts"]}
    assert [i["text"] for i in parts["contributing"]["items"]] == [
        "no PodDisruptionBudget",
        "runbook silent on stuck pods",
    ]
    assert parts["summary"]["recorded"] and not parts["business_impact"]["recorded"]
    assert parts["meeting"]["items"][0]["on_time"] is True
    review = next(i for i in doc["incident"]["checklist"] if i["id"] == "review-meeting")
    assert review["due_at"] and not review["done"]
    assert run("verify", incident, data=data).returncode == 0  # still one intact chain
    # Run again: nothing left but what was skipped, and the meeting is already scheduled.
    again = run("review", incident, data=data, stdin="")
    assert "Review meeting: scheduled for" in again.stdout


def test_review_schedule_flag_refuses_outside_the_window(tmp_path: Path) -> None:
    data = tmp_path / "d"
    incident = _incident(data)
    late = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%d %H:%M")
    out = run("review", incident, "--schedule", late, data=data)
    assert out.returncode == 1
    assert "P1 reviews are held within 3d00h of resolution: by" in out.stderr
    soon = (utcnow() + timedelta(hours=30)).strftime("%Y-%m-%d %H:%M")
    ok = run("review", incident, "--schedule", soon, data=data)
    assert ok.returncode == 0 and f"Review meeting {soon} UTC (P1: within 3d00h)" in ok.stdout


def test_action_verbs(tmp_path: Path) -> None:
    data = tmp_path / "d"
    first = _incident(data)
    run("action", "add", "--owner", "@bob", "--due", "2020-01-01", "old", "debt", data=data)
    second = run("declare", "--title", "Later", "--severity", "P3", data=data).stdout.strip()
    added = run("action", "add", "--due", "2099-01-01", "future", "work", data=data)
    assert added.stdout.startswith(f"{second} #")  # the newest incident by default
    bad = run("action", "add", "--due", "soon", "x", data=data)
    assert bad.returncode == 1 and "not a date: 'soon' (use YYYY-MM-DD)" in bad.stderr
    listed = run("action", "list", "--all-incidents", data=data).stdout
    assert f"{first}  OVERDUE  A1: old debt (@bob, due 2020-01-01)" in listed
    assert f"{second}  open     A1: future work (no owner, due 2099-01-01)" in listed
    overdue = run("action", "list", "--all-incidents", "--overdue", data=data).stdout
    assert "old debt" in overdue and "future work" not in overdue
    done = run("action", "done", "--incident", first, "a1", data=data)
    assert done.returncode == 0 and "Action item A1 done: old debt" in done.stdout
    assert "no overdue action items" in run("action", "list", "--all-incidents", "--overdue",
                                            data=data).stdout  # fmt: skip
    unknown = run("action", "done", "--incident", first, "A7", data=data)
    assert unknown.returncode == 1 and "no action item 'A7'" in unknown.stderr
    fp = run("resolve", "--incident", second, "--false-positive", "test alert", data=data)
    assert "Resolved after" in fp.stdout and "as not an incident: test alert" in fp.stdout


def test_communications_name_the_audience_and_the_delivery(tmp_path: Path) -> None:
    data = tmp_path / "d"
    cfg = tmp_path / "w.toml"
    log = tmp_path / "updates.log"
    cfg.write_text(
        f'[[notify.destinations]]\nname = "log"\ntype = "file"\npath = "{log}"\n'
        'audience = "responders"\n'
    )
    c = ["--config", str(cfg)]
    incident = run(
        *c, "declare", "--title", "Cart down", "--severity", "P1", data=data
    ).stdout.strip()
    assert (
        run(*c, "update", "--text", "Carts failing; next update 11:00", data=data).returncode == 0
    )
    md = run(*c, "export", incident, data=data).stdout
    comms = md.split("## Communications")[1].split("\n## ")[0]
    assert (
        "ann: notification: Carts failing; next update 11:00 -&gt; responders: delivered" in comms
    )
