"""The health and alerts tables fit their pane: states, values, thresholds, alert names,
severities and ages are never cut; the sparkline and the summary give way first."""

from datetime import UTC, datetime, timedelta

import pytest
from textual.app import App, ComposeResult

from warroom.widgets.health_pane import AlertRow, AlertsTable, HealthRow, HealthTable

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CHECKS = [
    HealthRow("Checkout error ratio", "crit", "15.2%", "≥1% / ≥5%", [0.1] * 20 + [9.0]),
    HealthRow("Checkout p99 latency", "warn", "1.41s", "≥500ms / ≥1s", [0.2] * 30),
    HealthRow("Orders per minute", "ok", "136 /min", "≤120 / ≤60 /min", [1.0, 2.0] * 15),
    HealthRow(
        "Payments p99 latency",
        "error",
        "-",
        "≥800ms / ≥1.5s",
        [],
        detail="bad_data: parse error at char 7",
    ),
]
ALERTS = [
    AlertRow(
        "fp1",
        "CheckoutHighErrorRate",
        "critical",
        NOW - timedelta(minutes=4),
        "checkout-api is failing more than 5% of requests",
    ),
]


class Tables(App):
    CSS = "HealthTable, AlertsTable { height: 8; }"

    def compose(self) -> ComposeResult:
        yield HealthTable(id="h")
        yield AlertsTable(id="a", clock=lambda: NOW)


def lines(table) -> list[str]:
    return ["".join(s.text for s in table.render_line(y)) for y in range(table.size.height)]


@pytest.mark.parametrize("width", [46, 60, 78, 98])
async def test_values_thresholds_and_states_are_never_cut(width: int) -> None:
    app = Tables()
    async with app.run_test(size=(width, 20)) as pilot:
        health, alerts = app.query_one(HealthTable), app.query_one(AlertsTable)
        health.set_rows(CHECKS)
        alerts.set_rows(ALERTS)
        await pilot.pause()
        shown = lines(health)
        for r in CHECKS:
            row = next(line for line in shown if r.threshold in line)
            assert r.state.upper().replace("ERROR", "ERROR") in row
            if not r.detail:
                assert r.value in row
            assert len(row.rstrip()) <= width
        alert = next(line for line in lines(alerts) if "critical" in line)
        assert "CheckoutHighErrorRate" in alert and "4m00s" in alert
        assert health.horizontal_scrollbar.display is False or health.max_scroll_x == 0


async def test_the_sparkline_shrinks_then_goes_and_the_names_come_back_in_full() -> None:
    app = Tables()
    async with app.run_test(size=(130, 20)) as pilot:
        health = app.query_one(HealthTable)
        health.set_rows(CHECKS)
        await pilot.pause()
        assert health._widths["trend"] == 24  # wide: the last 24 points
        assert any("Checkout error ratio" in line for line in lines(health))
        await pilot.resize_terminal(100, 20)
        await pilot.pause()
        assert 8 <= health._widths["trend"] < 24  # narrower: fewer points, names whole
        assert any("Checkout error ratio" in line for line in lines(health))
        await pilot.resize_terminal(70, 20)
        await pilot.pause()
        assert "trend" not in health._widths  # under 8 points: it goes; names, error stay
        assert any("Checkout error ratio" in line for line in lines(health))
        health.move_cursor(row=2)
        await pilot.resize_terminal(130, 20)
        await pilot.pause()
        assert health.selected_name() == "Orders per minute"  # a rebuild keeps the cursor
        assert "bad_data: parse error at char 7" in "".join(lines(health))


def test_a_threshold_says_its_unit_once_and_names_are_cut_in_the_middle() -> None:
    from warroom.checks import CheckSpec
    from warroom.console.health import threshold_text
    from warroom.widgets.columns import middle_ellipsis

    orders = CheckSpec("Orders", "x", warn=120, crit=60, direction="below", unit="/min")
    assert threshold_text(orders) == "≤120 / ≤60 /min"
    ratio = CheckSpec("Errors", "x", warn=0.01, crit=0.05, unit="ratio")
    assert threshold_text(ratio) == "≥1% / ≥5%"
    assert threshold_text(CheckSpec("p99", "x", crit=1.0, unit="s")) == "- / ≥1s"
    a = middle_ellipsis("Checkout error ratio", 12)
    b = middle_ellipsis("Checkout p99 latency", 12)
    assert a != b and len(a) == len(b) == 12 and a.endswith("ratio") and "…" in a
