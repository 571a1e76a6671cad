"""Health checks from Prometheus through prometheus-api-client (blocking; run it in a thread).

Polling: `refresh()` blocks until every check is back and never overlaps itself (a second caller
waits for the first). The app calls it from a thread worker and re-arms its timer only when the
call returned, so a slow Prometheus stretches the cadence instead of piling up requests.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect
from urllib3.util.retry import Retry

from warroom.checks import CheckSpec
from warroom.health import CheckResult, HealthSnapshot, evaluate
from warroom.model import utcnow
from warroom.sources.http_errors import reason_of

SPARK_MINUTES = 30
SPARK_POINTS = 60

# Query-specific API errors: the row fails, the source is fine. Anything else (connection
# refused, timeouts, 401/403/404, 5xx from a proxy, non-JSON) counts as a source failure when
# every check of a refresh hit one.
_ROW_ERROR_TYPES = {"bad_data", "execution", "timeout", "canceled"}


class PrometheusError(Exception):
    """A query failed. `fatal`: the source is unreachable or broken, not just this query."""

    def __init__(self, message: str, *, fatal: bool) -> None:
        super().__init__(message)
        self.fatal = fatal


@dataclass(frozen=True, slots=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]  # (unix ts, value); NaN samples dropped


def step_for(minutes: float, points: int = SPARK_POINTS) -> int:
    """Range-query step in whole seconds giving about `points` points."""
    return max(1, round(minutes * 60 / points))


class PrometheusSource:
    def __init__(
        self,
        url: str,
        *,
        bearer_token: str | None = None,
        basic_auth: tuple[str, str] | None = None,
        verify_tls: bool = True,
        timeout: float = 5.0,
        max_workers: int = 8,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.max_workers = max_workers
        self._headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else None
        self._auth = tuple(basic_auth) if basic_auth else None
        self._verify = verify_tls
        self._pool = ThreadPoolExecutor(max_workers, thread_name_prefix="prometheus")
        # requests.Session is not documented as thread-safe: one client per worker thread
        self._local = threading.local()
        self._clients: list[PrometheusConnect] = []
        self._clients_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._last_ok_at: datetime | None = None
        self._cost: dict[tuple[str, str], float] = {}  # last duration per (kind, expr)

    # --- lifecycle ---

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._clients_lock:
            for c in self._clients:
                c.close()
            self._clients.clear()

    def __enter__(self) -> PrometheusSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _client(self) -> PrometheusConnect:
        client = getattr(self._local, "client", None)
        if client is None:
            session = requests.Session()
            # The environment is read once here instead of on every request (proxies, CA
            # bundle, ~/.netrc): that was a quarter of the client's CPU per query.
            session.trust_env = False
            session.proxies = requests.utils.get_environ_proxies(self.url)
            ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            session.verify = (ca_bundle or True) if self._verify else False
            # No retries: the library's default retries a refused connection with backoff
            # (~6 s), which would hide an outage behind a slow refresh. read=False keeps a
            # read timeout a Timeout (with 0 retries urllib3 would wrap it as a connect error).
            client = PrometheusConnect(
                self.url,
                headers=self._headers,
                auth=self._auth,
                session=session,
                retry=Retry(total=0, read=False, raise_on_status=False),
            )
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    # --- queries (public ones run on the pool: HTTP only ever happens on its threads, so
    # callers from short-lived threads do not each leave a session behind) ---

    def query(self, expr: str, at: datetime | None = None) -> list[dict[str, Any]]:
        """Ad-hoc instant query: rows {"labels": {...}, "value": float}. Raises PrometheusError."""
        rows = self._pool.submit(self._instant, expr, at).result()
        return [{"labels": labels, "value": v} for labels, v in rows]

    def range_query(
        self, expr: str, start: datetime, end: datetime, step: int
    ) -> list[dict[str, Any]]:
        """Raw matrix rows {"metric": {...}, "values": [[ts, "v"], ...]}. Raises PrometheusError.

        `end` is moved up to the next whole second (start with it): the library rounds to
        whole seconds, and rounding down could leave out the newest sample."""
        return self._pool.submit(self._range, expr, start, end, step).result()

    def range_many(
        self, exprs: Sequence[str], start: datetime, end: datetime, step: int
    ) -> list[list[dict[str, Any]] | PrometheusError]:
        """`range_query` for each expr in parallel; a failure is returned in its place."""
        futures = [self._pool.submit(self._range, e, start, end, step) for e in exprs]
        out: list[list[dict[str, Any]] | PrometheusError] = []
        for f in futures:
            try:
                out.append(f.result())
            except PrometheusError as e:
                out.append(e)
        return out

    def range_series(
        self, expr: str, minutes: float = SPARK_MINUTES, *, end: datetime | None = None
    ) -> list[Series]:
        """The larger view: every series of `expr` over `minutes`, about 60 points each."""
        end = end or utcnow()
        rows = self.range_query(expr, end - timedelta(minutes=minutes), end, step_for(minutes))
        return [Series(dict(r.get("metric", {})), _points(r.get("values", []))) for r in rows]

    def _range(self, expr: str, start: datetime, end: datetime, step: int) -> list[dict[str, Any]]:
        params = {"timeout": str(self.timeout)}
        lift = timedelta(seconds=math.ceil(end.timestamp()) - end.timestamp())
        start, end = start + lift, end + lift
        result = self._call(
            lambda c: c.custom_query_range(
                expr, start, end, str(step), params=params, timeout=self.timeout
            )
        )
        if not isinstance(result, list) or any(not isinstance(r, dict) for r in result):
            raise PrometheusError("unexpected range result", fatal=False)
        return result

    def _instant(self, expr: str, at: datetime | None) -> list[tuple[dict[str, str], float]]:
        params = {"timeout": str(self.timeout)}
        if at is not None:
            params["time"] = f"{at.timestamp():.3f}"
        result = self._call(lambda c: c.custom_query(expr, params=params, timeout=self.timeout))
        if isinstance(result, list) and len(result) == 2 and not isinstance(result[0], dict):
            result = [{"metric": {}, "value": result}]  # scalar
        try:
            return [(dict(r.get("metric", {})), float(r["value"][1])) for r in result]
        except (TypeError, KeyError, ValueError, IndexError):
            raise PrometheusError("result is not a number or vector", fatal=False) from None

    def _call(self, fn: Any) -> Any:
        try:
            return fn(self._client())
        except requests.Timeout:
            raise PrometheusError(
                f"timed out after {self.timeout:g}s ({self.url})", fatal=True
            ) from None
        except requests.ConnectionError as e:
            raise PrometheusError(f"{_reason(e)} ({self.url})", fatal=True) from None
        except PrometheusApiClientException as e:
            raise _api_error(str(e)) from None
        except requests.JSONDecodeError:
            raise PrometheusError(
                f"{self.url} did not answer like Prometheus", fatal=True
            ) from None
        except requests.RequestException as e:  # bad URL, redirect loop, ...
            raise PrometheusError(f"request failed: {e}"[:300], fatal=True) from None
        except (ValueError, KeyError, TypeError):  # 200 but not the Prometheus API's JSON
            raise PrometheusError(
                f"{self.url} did not answer like Prometheus", fatal=True
            ) from None

    # --- refresh ---

    def refresh(self, specs: Sequence[CheckSpec], now: datetime | None = None) -> HealthSnapshot:
        """Run every check (instant value + 30 min sparkline) in parallel. Thread-safe; calls
        never overlap. Per-check failures land on their row; ok=False only when every check
        failed on the source itself (unreachable, auth, not Prometheus)."""
        with self._refresh_lock:
            t0 = time.perf_counter()
            at = now or utcnow()
            start, step = at - timedelta(minutes=SPARK_MINUTES), step_for(SPARK_MINUTES)
            # one call per distinct (kind, expr): checks sharing a query share its answer
            calls: dict[tuple[str, str], tuple[Any, tuple[Any, ...]]] = {}
            for s in specs:
                calls.setdefault(("i", s.expr), (self._instant, (s.expr, at)))
            for s in specs:
                calls.setdefault(("r", s.expr), (self._range, (s.expr, start, at, step)))
            # Slowest first (as timed last refresh; unknown ones first, instants before ranges):
            # a slow query submitted last would add its whole time to the cycle.
            order = sorted(calls, key=lambda k: -self._cost.get(k, math.inf))
            futures = {
                k: self._pool.submit(self._timed, k, calls[k][0], *calls[k][1]) for k in order
            }
            instants = [futures["i", s.expr] for s in specs]
            ranges = [futures["r", s.expr] for s in specs]
            results, fatal = [], []
            for spec, fi, fr in zip(specs, instants, ranges, strict=True):
                result, err = self._result(spec, fi, fr)
                results.append(result)
                if err is not None and err.fatal:
                    fatal.append(err)
            duration = time.perf_counter() - t0
            if specs and len(fatal) == len(specs):
                return HealthSnapshot(
                    ok=False,
                    fetched_at=at,
                    error=str(fatal[0]),
                    last_ok_at=self._last_ok_at,
                    duration_s=duration,
                )
            self._last_ok_at = at
            return HealthSnapshot(
                ok=True, fetched_at=at, results=results, last_ok_at=at, duration_s=duration
            )

    def _timed(self, key: tuple[str, str], fn: Any, *args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self._cost[key] = time.perf_counter() - t0

    def _result(
        self, spec: CheckSpec, fi: Future, fr: Future
    ) -> tuple[CheckResult, PrometheusError | None]:
        series: list[tuple[float, float]] = []
        series_error = None
        try:
            series = _worst_series(fr.result(), spec.direction)
        except PrometheusError as e:
            series_error = str(e)
        except (ValueError, TypeError):
            series_error = "unexpected range result"
        try:
            value, labels = _worst_value(fi.result(), spec.direction)
        except PrometheusError as e:
            state = evaluate(spec, None, str(e))
            return CheckResult(spec, None, state, str(e), series, series_error), e
        state = evaluate(spec, value, None)
        return CheckResult(spec, value, state, None, series, series_error, labels), None


# --- helpers -------------------------------------------------------------------------------

_STATUS = re.compile(r"HTTP Status Code (\d+) \((.*)\)\s*$", re.DOTALL)


def _api_error(text: str) -> PrometheusError:
    """The library only gives us "HTTP Status Code 400 (b'{...json...}')": dig the API error out."""
    m = _STATUS.match(text)
    if not m:
        return PrometheusError(text[:300], fatal=True)
    status = int(m.group(1))
    try:
        body = json.loads(ast.literal_eval(m.group(2)))
        etype, msg = str(body["errorType"]), str(body["error"])
    except (ValueError, SyntaxError, TypeError, KeyError):
        return PrometheusError(f"HTTP {status} from Prometheus", fatal=True)
    return PrometheusError(f"{etype}: {msg}", fatal=etype not in _ROW_ERROR_TYPES)


def _reason(e: Exception) -> str:
    """'connection refused', 'name or service not known', ...: the reason, not the wrapper."""
    found = reason_of(str(e))
    if found:
        return found
    return "connection failed" if "SSL" not in str(e) else "TLS error"


def _points(values: list[Any]) -> list[tuple[float, float]]:
    out = []
    for ts, v in values:
        f = float(v)
        if not math.isnan(f):
            out.append((float(ts), f))
    return out


def _worse(a: float, b: float, direction: str) -> bool:
    return a > b if direction == "above" else a < b


def _worst_value(
    rows: list[tuple[dict[str, str], float]], direction: str
) -> tuple[float | None, dict[str, str]]:
    """Several series (e.g. one per pod): the worst one counts. Empty: no data."""
    best: tuple[float | None, dict[str, str]] = (None, {})
    for labels, v in rows:
        cur = best[0]
        if cur is None or math.isnan(cur) or (not math.isnan(v) and _worse(v, cur, direction)):
            best = (v, labels)
    return best


def _worst_series(rows: list[dict[str, Any]], direction: str) -> list[tuple[float, float]]:
    merged: dict[float, float] = {}
    for r in rows:
        for ts, v in _points(r.get("values", [])):
            if ts not in merged or _worse(v, merged[ts], direction):
                merged[ts] = v
    return sorted(merged.items())
