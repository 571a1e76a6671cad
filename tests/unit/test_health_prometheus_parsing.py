"""Pure helpers of the Prometheus adapter: error parsing, worst value, sparkline merge."""

from __future__ import annotations

import math

from warroom.sources.prometheus import (
    _api_error,
    _reason,
    _worst_series,
    _worst_value,
    step_for,
)


def test_api_error_from_library_message() -> None:
    body = b'{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected"}'
    e = _api_error(f"HTTP Status Code 400 ({body!r})")
    assert str(e) == "bad_data: 1:5: parse error: unexpected"
    assert not e.fatal


def test_api_error_execution_timeout_are_row_errors() -> None:
    for etype in ("execution", "timeout", "canceled"):
        body = f'{{"status":"error","errorType":"{etype}","error":"x"}}'.encode()
        assert not _api_error(f"HTTP Status Code 422 ({body!r})").fatal


def test_api_error_without_prometheus_body_is_fatal() -> None:
    e = _api_error("HTTP Status Code 502 (b'<html>Bad Gateway</html>')")
    assert e.fatal and str(e) == "HTTP 502 from Prometheus"
    body = b'{"status":"error","errorType":"unavailable","error":"not ready"}'
    assert _api_error(f"HTTP Status Code 503 ({body!r})").fatal
    assert _api_error("something else entirely").fatal


def test_reason_picks_errno() -> None:
    msg = (
        "HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded "
        "(Caused by NewConnectionError('<obj>: Failed to establish a new connection: "
        "[Errno 111] Connection refused'))"
    )
    assert _reason(Exception(msg)) == "Connection refused"  # the reason, not the wrapper
    assert _reason(Exception("weird")) == "connection failed"


def test_worst_value_by_direction() -> None:
    rows = [({"pod": "a"}, 0.2), ({"pod": "b"}, 0.9), ({"pod": "c"}, math.nan)]
    assert _worst_value(rows, "above") == (0.9, {"pod": "b"})
    assert _worst_value(rows, "below") == (0.2, {"pod": "a"})
    assert _worst_value([], "above") == (None, {})
    v, _ = _worst_value([({}, math.nan)], "above")
    assert v is not None and math.isnan(v)


def test_worst_series_merges_and_drops_nan() -> None:
    rows = [
        {"metric": {"pod": "a"}, "values": [[1, "0.1"], [2, "0.5"], [3, "NaN"]]},
        {"metric": {"pod": "b"}, "values": [[1, "0.3"], [2, "0.2"]]},
    ]
    assert _worst_series(rows, "above") == [(1.0, 0.3), (2.0, 0.5)]
    assert _worst_series(rows, "below") == [(1.0, 0.1), (2.0, 0.2)]


def test_step_for() -> None:
    assert step_for(30) == 30
    assert step_for(1) == 1
    assert step_for(0.1) == 1
    assert step_for(360, points=120) == 180
