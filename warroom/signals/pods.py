"""Pod transitions worth a timeline event, from successive pod maps: a pod entering a bad
state, restarting, recovering or going away; the watch itself lost and restored. Pure: times
come in with the maps.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.model import format_duration
from warroom.pods import PodRow, PodsSnapshot, sort_key

# --- transitions -----------------------------------------------------------------------------

# status (without "Init:") -> kind of a transition worth a timeline event
NOTABLE = {
    "CrashLoopBackOff": "crashloop",
    "OOMKilled": "oomkilled",
    "Error": "error",
    "ContainerCannotRun": "error",
    "CreateContainerError": "error",
    "CreateContainerConfigError": "error",
    "RunContainerError": "error",
    "StartError": "error",
    "ImagePullBackOff": "imagepull",
    "ErrImagePull": "imagepull",
    "ErrImageNeverPull": "imagepull",
    "InvalidImageName": "imagepull",
    "Unknown": "unknown",
    "Evicted": "evicted",
}
# A crashing container cycles Error -> CrashLoopBackOff -> Running -> Error: one family, so
# moving inside it is not news; its restarts are (coalesced).
FAMILY = {"crashloop": "crash", "oomkilled": "crash", "error": "crash"}


def notable_kind(status: str) -> str | None:
    s = status.removeprefix("Init:")
    if s.startswith(("ExitCode:", "Signal:")):
        return "error"
    return NOTABLE.get(s)


def _family(kind: str | None) -> str | None:
    return FAMILY.get(kind, kind) if kind else None


@dataclass(frozen=True, slots=True)
class PodTransition:
    uid: str  # "" for a summary over several pods
    namespace: str
    name: str
    # crashloop | oomkilled | error | imagepull | unknown | evicted (entered that state),
    # restarts | recovered | gone, or initial | summary | watch_lost | watch_restored (uid "")
    kind: str
    text: str  # one line for the timeline (raw pod names: the UI sanitises)
    at: datetime
    status: str = ""
    restarts: int = 0


@dataclass(slots=True)
class _PodState:
    namespace: str
    name: str
    reported: str | None  # family last reported as entered; None = nothing bad reported
    restarts_base: int  # restart count already accounted for
    since: datetime  # start of the current reporting window
    last_report: datetime | None = None
    healthy_since: datetime | None = None
    last_restarts: int = 0
    reported_status: str = ""  # STATUS at the last report of a bad state
    held: bool = False  # the last look was within min_interval of a report


class PodTransitionTracker:
    """Turns successive pod maps (by uid) into transitions worth a timeline event.

    Reported: a pod entering CrashLoopBackOff / OOMKilled / Error / ImagePullBackOff / Unknown /
    Evicted (Error, OOMKilled and CrashLoopBackOff are one "crash" family: cycling inside it is
    not a new entry), restarts since the last report (a crash-looping pod becomes "x
    crash-looping: 5 restarts in the last minute"), recovery (healthy again for
    `recover_after` with no restart, after a reported bad state) and a reported pod going away.

    Rate limit: at most one report per pod per `min_interval`; what happens in between is held
    and coalesced into the next report, so a flapping pod cannot flood the timeline. At most
    `max_per_feed` transitions come out of one feed; the rest collapse into one "summary".
    Across pods, at most `max_per_window` lines per `window`: in a restart storm (hundreds of
    pods restarting once each, which no per-pod limit stops) the rest are counted and told as
    one "summary" line at most every `summary_every`, so the timeline stays readable and the
    console is not busy writing 40 events a second.

    The first map is a baseline: pods already in a bad state give ONE "initial" transition
    listing them (the state at the start of the watch is news to the timeline; one line per pod
    would not be); they count as reported, so only later changes follow. A healthy start
    reports nothing.
    """

    def __init__(
        self,
        min_interval: timedelta = timedelta(minutes=1),
        *,
        recover_after: timedelta = timedelta(seconds=30),
        max_per_feed: int = 10,
        max_per_window: int = 30,
        window: timedelta = timedelta(minutes=1),
        summary_every: timedelta = timedelta(seconds=15),
        show_namespace: bool = False,
    ) -> None:
        self.min_interval = min_interval
        self.recover_after = recover_after
        self.max_per_feed = max(2, max_per_feed)
        self.max_per_window = max(self.max_per_feed, max_per_window)
        self.window = window
        self.summary_every = summary_every
        self._sent: deque[datetime] = deque()  # when each recent individual line went out
        self._folded: list[PodTransition] = []  # over the budget, not told yet
        self._last_summary: datetime | None = None
        self.show_namespace = show_namespace
        self._pods: dict[str, _PodState] | None = None
        self._pending: set[str] = set()  # uids time alone may still turn into a report
        self._lost_at: datetime | None = None  # a reported loss of the watch
        self._last_lost_report: datetime | None = None
        self._ever_ok = False

    def feed_snapshot(self, snap: PodsSnapshot) -> list[PodTransition]:
        """feed() for a whole snapshot, plus the watch itself: "watch_lost" once when it
        fails (not again within min_interval of the last one, so a flapping connection stays
        one line a minute) and "watch_restored" when a reported loss ends. A failed snapshot
        carries the last known rows: there is nothing new in them to diff."""
        at = snap.fetched_at
        if not snap.ok:
            recent = self._last_lost_report and at - self._last_lost_report < self.min_interval
            if self._lost_at is not None or recent:
                return []
            self._lost_at = self._last_lost_report = snap.stale_since or at
            what = "pods watch lost" if self._ever_ok else "pods unavailable"
            text = f"{what}: {snap.error}" if snap.error else what
            return [PodTransition("", "", "", "watch_lost", text, at)]
        out = []
        if self._lost_at is not None:
            what = "pods watch restored" if self._ever_ok else "pods available"
            text = f"{what} after {format_duration(at - self._lost_at)}"
            out.append(PodTransition("", "", "", "watch_restored", text, at))
            self._lost_at = None
        self._ever_ok = True
        return out + self.feed(snap.rows_by_uid, at)

    def _label(self, namespace: str, name: str) -> str:
        return f"{namespace}/{name}" if self.show_namespace else name

    def feed(
        self,
        rows: Mapping[str, PodRow],
        at: datetime,
        *,
        changed: Iterable[str] | None = None,
        removed: Iterable[str] = (),
    ) -> list[PodTransition]:
        """The transitions since the last feed. With `changed` (and `removed`), the uids that
        differ from the previous map, only those pods are examined, plus the few that time
        alone can still turn into a report (reported bad ones, held by the rate limit): an
        unchanged pod outside those gives nothing, and 10k pods are not walked per snapshot."""
        if self._pods is None:
            return self._baseline(rows, at)
        out: list[PodTransition] = []
        if changed is None:
            gone = [u for u in self._pods if u not in rows]
            examine: Iterable[str] = rows
        else:
            gone = [u for u in removed if u in self._pods]
            examine = {*changed, *(u for u in self._pending if u in rows)}
        for uid in gone:
            st = self._pods.pop(uid)
            self._pending.discard(uid)
            if st.reported is not None:  # terminal: reported at once, never rate-limited
                text = f"{self._label(st.namespace, st.name)} gone (was {st.reported_status})"
                out.append(PodTransition(uid, st.namespace, st.name, "gone", text, at, "", 0))
        for uid in examine:
            row = rows[uid]
            st = self._pods.get(uid)
            if st is None:  # a new pod: its restarts so far are news
                st = self._pods[uid] = _PodState(row.namespace, row.name, None, 0, at)
            self._track_health(st, row, at)
            t = self._decide(st, row, at)
            if t is not None:
                out.append(t)
            st.last_restarts = row.restarts
            if st.reported is not None or st.held:
                self._pending.add(uid)
            else:
                self._pending.discard(uid)
        return self._cap(out, at)

    def _baseline(self, rows: Mapping[str, PodRow], at: datetime) -> list[PodTransition]:
        self._pods = {}
        bad: dict[str, list[PodRow]] = {}
        for uid, row in rows.items():
            kind = notable_kind(row.status)
            st = _PodState(row.namespace, row.name, _family(kind), row.restarts, at)
            st.last_report = at if kind else None
            st.last_restarts, st.reported_status = row.restarts, row.status if kind else ""
            st.healthy_since = at if row.healthy else None
            self._pods[uid] = st
            if st.reported is not None:
                self._pending.add(uid)
            if kind:
                bad.setdefault(row.status, []).append(row)
        if not bad:
            return []
        n = sum(len(v) for v in bad.values())
        parts = []
        for status, group in sorted(bad.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            names = [self._label(r.namespace, r.name) for r in sorted(group, key=sort_key)]
            shown = ", ".join(names[:3]) + (f" +{len(names) - 3} more" if len(names) > 3 else "")
            parts.append(f"{len(group)} {status} ({shown})")
        text = f"{n} of {len(rows)} pods already unhealthy: " + "; ".join(parts)
        return [PodTransition("", "", "", "initial", text, at)]

    def _track_health(self, st: _PodState, row: PodRow, at: datetime) -> None:
        if not row.healthy or row.restarts > st.last_restarts:
            st.healthy_since = None
        elif st.healthy_since is None:
            st.healthy_since = at

    def _decide(self, st: _PodState, row: PodRow, at: datetime) -> PodTransition | None:
        st.held = False
        if st.last_report is not None and at - st.last_report < self.min_interval:
            st.held = True
            return None  # held: coalesced into the next report
        kind = notable_kind(row.status)
        fam = _family(kind)
        jumped = row.restarts - st.restarts_base
        pod = self._label(row.namespace, row.name)
        window = at - st.since
        within = f"in the last {format_duration(window)}"
        if window <= timedelta(seconds=90):
            within = "in the last minute"
        if kind and fam != st.reported:
            text = f"{pod} entered {row.status}"
            extra = []
            if row.restarts:
                extra.append(f"{row.restarts} restart{'s' if row.restarts != 1 else ''}")
            if row.last_exit_reason and fam == "crash" and row.last_exit_reason != row.status:
                extra.append(f"last exit: {row.last_exit_reason}")
            if extra:
                text += f" ({', '.join(extra)})"
            if kind in ("evicted", "imagepull", "unknown") and row.reason_detail:
                text += f": {row.reason_detail[:160]}"
            new_reported: str | None = fam
        elif jumped > 0 and "crash" in (fam, st.reported):
            kind = "restarts"
            text = f"{pod} crash-looping: {jumped} restart{'s' if jumped != 1 else ''} {within}"
            new_reported = "crash"
        elif jumped > 0:
            kind = "oomkilled" if row.last_exit_reason == "OOMKilled" else "restarts"
            text = f"{pod} restarted {jumped} time{'s' if jumped != 1 else ''} {within}"
            if row.last_exit_reason:
                text += f" (last exit: {row.last_exit_reason})"
            new_reported = st.reported
        elif (
            st.reported is not None
            and st.healthy_since is not None
            and at - st.healthy_since >= self.recover_after
        ):
            kind = "recovered"
            text = f"{pod} recovered: {row.status} {row.ready} (was {st.reported_status})"
            new_reported = None
        else:
            return None
        st.reported, st.last_report, st.since, st.restarts_base = new_reported, at, at, row.restarts
        if kind not in ("recovered", "restarts", "oomkilled") or notable_kind(row.status):
            st.reported_status = row.status
        return PodTransition(
            row.uid, row.namespace, row.name, kind, text, at, row.status, row.restarts
        )

    def _cap(self, out: list[PodTransition], at: datetime) -> list[PodTransition]:
        out.sort(key=lambda t: (t.kind != "gone", t.namespace, t.name))
        while self._sent and at - self._sent[0] >= self.window:
            self._sent.popleft()
        budget = self.max_per_window - len(self._sent)
        if len(out) <= min(self.max_per_feed, budget) and not self._folded:
            self._sent.extend(at for _ in out)
            return out
        n = max(0, min(self.max_per_feed - 1, budget, len(out)))
        keep, self._folded = out[:n], [*self._folded, *out[n:]]
        self._sent.extend(at for _ in keep)
        due = self._last_summary is None or at - self._last_summary >= self.summary_every
        if not (self._folded and due):
            return keep  # the storm goes on: told in the next summary
        rest, self._folded, self._last_summary = self._folded, [], at
        counts = Counter(t.kind for t in rest)
        what = ", ".join(f"{n} {k}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))
        lead = "and " if keep else ""
        text = f"{lead}{len(rest)} more pod transitions: {what}"
        if not keep:
            span = format_duration(at - min(t.at for t in rest))
            text += f" (in the last {span})" if span != "0s" else ""
        return [*keep, PodTransition("", "", "", "summary", text, at)]
