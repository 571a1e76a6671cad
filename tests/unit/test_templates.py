"""Status-update templates: prefill per kind, drill marker, overrides, safe substitution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warroom.templates import (
    DRILL_MARKER,
    EMPTY,
    EMPTY_LIST,
    KINDS,
    TemplateContext,
    choose_template,
    load_template,
    render,
)

T0 = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)


def ctx(**over: object) -> TemplateContext:
    base: dict[str, object] = dict(
        incident_id="INC-20240101-100000",
        title="Checkout returns 502",
        severity="P1",
        severity_name="high",
        status="identified",
        declared_at=T0,
        detected_at=T0 - timedelta(minutes=4),
        impact="Card payments fail for about 30% of users",
        update_number=2,
        actions_since_last_update=["Rolled back checkout to v41", "Scaled payments to 6 pods"],
        next_steps=["Watch the error rate for 15 minutes"],
        next_update_at=T0 + timedelta(hours=1),
        written_at=T0 + timedelta(minutes=30),
        commander="alice",
    )
    base.update(over)
    return TemplateContext(**base)  # type: ignore[arg-type]


def test_every_kind_is_shipped() -> None:
    for kind in KINDS:
        assert "${incident_id}" in load_template(kind)


def test_notification_prefill() -> None:
    text = render("notification", ctx())
    assert text.startswith("INCIDENT NOTIFICATION: INC-20240101-100000 Checkout returns 502")
    assert "Severity: P1 (high)" in text
    assert "Status: identified" in text
    assert "Detected: 2024-01-01 09:56 UTC" in text
    assert "Card payments fail for about 30% of users" in text
    assert "Next update: 2024-01-01 11:00 UTC" in text
    assert "Incident commander: alice" in text
    assert "${" not in text


def test_update_prefill_lists_actions_as_items() -> None:
    text = render("update", ctx(actions_since_last_update=["one", "two\nlines", "  "]))
    assert text.startswith("STATUS UPDATE #2: INC-20240101-100000")
    assert "Time: 2024-01-01 10:30 UTC" in text
    assert "- one\n- two\n  lines\n" in text  # blank items dropped, continuation indented
    assert "- Watch the error rate for 15 minutes" in text
    assert f"Expected resolution: {EMPTY}" in text


def test_empty_fields_are_visible_blanks() -> None:
    text = render("update", ctx(actions_since_last_update=[], next_steps="", impact="  "))
    assert EMPTY_LIST in text
    assert f"Impact:\n{EMPTY}\n" in text


def test_resolution_prefill() -> None:
    text = render(
        "resolution",
        ctx(
            status="resolved",
            resolved_at=T0 + timedelta(hours=2, minutes=5),
            duration=timedelta(hours=2, minutes=5),
            root_cause="A bad config push",
            resolution="Rolled back",
            prevention=["Validate config in CI", "Canary config pushes"],
        ),
    )
    assert text.startswith("INCIDENT RESOLVED: INC-20240101-100000")
    assert "Resolved: 2024-01-01 12:05 UTC" in text
    assert "Duration: 2h05m" in text
    assert "Root cause:\nA bad config push" in text
    assert "- Validate config in CI\n- Canary config pushes" in text


@pytest.mark.parametrize(
    ("first_sent", "resolved", "kind"),
    [
        (False, False, "notification"),
        (True, False, "update"),
        (True, True, "resolution"),
        (False, True, "resolution"),
    ],
)
def test_choose_template(first_sent: bool, resolved: bool, kind: str) -> None:
    assert choose_template(first_sent, resolved) == kind


@pytest.mark.parametrize("kind", KINDS)
def test_drill_marker_leads_every_kind(kind: str) -> None:
    assert render(kind, ctx(is_drill=True)).startswith(DRILL_MARKER)
    assert DRILL_MARKER not in render(kind, ctx(is_drill=False))


def test_templates_dir_overrides_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "update.txt").write_text("Custom #${update_number} for ${incident_id}\r\n")
    assert render("update", ctx(), templates_dir=tmp_path) == "Custom #2 for INC-20240101-100000"
    # No notification.txt there: the shipped one is used.
    assert render("notification", ctx(), templates_dir=tmp_path).startswith("INCIDENT NOTIFICATION")


def test_unknown_and_odd_placeholders_stay_visible(tmp_path: Path) -> None:
    (tmp_path / "update.txt").write_text(
        "${nope} $nope ${title.__class__} {title} $5 $$ 100% ${incident_id}"
    )
    text = render("update", ctx(), templates_dir=tmp_path)
    assert text == "${nope} $nope ${title.__class__} {title} $5 $ 100% INC-20240101-100000"


def test_hostile_text_is_data_not_code() -> None:
    hostile = "\x1b[31mred\x1b]0;owned\x07 ${incident_id} {__import__('os').getcwd()} {0}"
    text = render("update", ctx(impact=hostile, title="$commander"))
    assert hostile in text  # passed through verbatim: not substituted, not evaluated
    assert "Checkout" not in text.splitlines()[0]
    assert "$commander" in text.splitlines()[0]


def test_unknown_kind_rejected() -> None:
    with pytest.raises(ValueError, match="unknown template"):
        render("postmortem", ctx())
