"""Pod STATUS like kubectl's printPod, ordering, summary, and the pod transition tracker."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from warroom.pods import PodRow, pod_row, sort_key, sorted_rows, summarize
from warroom.signals.pods import PodTransitionTracker, notable_kind

T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


def running(name: str = "app", ready: bool = True, restarts: int = 0, **extra: Any) -> dict:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": "2026-11-22T09:00:00Z"}},
        **extra,
    }


def waiting(reason: str, name: str = "app", restarts: int = 0, message: str = "", **extra) -> dict:
    w = {"reason": reason, **({"message": message} if message else {})}
    return {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": w},
        **extra,
    }


def terminated(name: str = "app", restarts: int = 0, **term: Any) -> dict:
    return {"name": name, "ready": False, "restartCount": restarts, "state": {"terminated": term}}


def last_exit(reason: str, finished: str, code: int = 1) -> dict:
    return {
        "lastState": {"terminated": {"reason": reason, "exitCode": code, "finishedAt": finished}}
    }


def pod(
    statuses: list[dict] | None = None,
    *,
    name: str = "web-7d9f-abcde",
    namespace: str = "shop",
    phase: str = "Running",
    containers: list[str] | None = None,
    init: list[dict] | None = None,
    init_statuses: list[dict] | None = None,
    conditions: list[dict] | None = None,
    owner: tuple[str, str] | None = ("ReplicaSet", "web-7d9f"),
    **status_extra: Any,
) -> dict:
    statuses = statuses if statuses is not None else [running()]
    names = containers or [s["name"] for s in statuses] or ["app"]
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{namespace}-{name}",
        "creationTimestamp": "2026-11-20T08:00:00Z",
        "labels": {"app": "web"},
    }
    if owner:
        meta["ownerReferences"] = [
            {"kind": "Node", "name": "n1"},
            {"kind": owner[0], "name": owner[1], "controller": True},
        ]
    spec: dict[str, Any] = {"containers": [{"name": n} for n in names], "nodeName": "node-1"}
    if init is not None:
        spec["initContainers"] = init
    status: dict[str, Any] = {"phase": phase, "containerStatuses": statuses, **status_extra}
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    if conditions is not None:
        status["conditions"] = conditions
    return {"metadata": meta, "spec": spec, "status": status}


# --- STATUS ----------------------------------------------------------------------------------


def test_running_ready_is_healthy_with_fields():
    r = pod_row(pod())
    assert (r.status, r.ready, r.restarts, r.healthy, r.phase) == (
        "Running",
        "1/1",
        0,
        True,
        "Running",
    )
    assert (r.namespace, r.name, r.uid, r.node) == (
        "shop",
        "web-7d9f-abcde",
        "uid-shop-web-7d9f-abcde",
        "node-1",
    )
    assert (r.owner_kind, r.owner_name) == ("ReplicaSet", "web-7d9f")  # the controller ref
    assert r.created_at == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert r.labels == {"app": "web"} and r.last_restart_at is None


def test_running_not_ready_is_unhealthy():
    r = pod_row(pod([running(ready=False)]))
    assert (r.status, r.ready, r.healthy) == ("Running", "0/1", False)


def test_crashloop_with_last_exit_and_restart_time():
    cs = waiting(
        "CrashLoopBackOff",
        restarts=5,
        message="back-off 40s",
        **last_exit("Error", "2026-11-22T09:58:00Z", 2),
    )
    r = pod_row(pod([cs]))
    assert (r.status, r.restarts, r.healthy) == ("CrashLoopBackOff", 5, False)
    assert r.last_restart_at == datetime(2026, 11, 22, 9, 58, tzinfo=UTC)
    assert r.last_exit_reason == "Error"
    assert r.reason_detail == "last exit: Error; back-off 40s"


@pytest.mark.parametrize(
    ("term", "status"),
    [
        ({"reason": "OOMKilled", "exitCode": 137}, "OOMKilled"),
        ({"reason": "Error", "exitCode": 1}, "Error"),
        ({"exitCode": 137, "signal": 9}, "Signal:9"),
        ({"exitCode": 3}, "ExitCode:3"),
    ],
)
def test_terminated_reasons(term, status):
    r = pod_row(pod([terminated(**term)]))
    assert r.status == status and not r.healthy
    assert f"exit code {term['exitCode']}" in r.reason_detail


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "ErrImagePull", "ContainerCreating"])
def test_waiting_reasons(reason):
    assert pod_row(pod([waiting(reason, message="m")])).status == reason


def test_first_container_reason_wins():
    # printPod walks containers last to first, so the first one's reason is what remains
    r = pod_row(pod([waiting("CrashLoopBackOff", "a"), waiting("ImagePullBackOff", "b")]))
    assert r.status == "CrashLoopBackOff" and r.ready == "0/2"


def test_restarts_sum_and_partial_ready():
    r = pod_row(pod([running("a", restarts=2), running("b", ready=False, restarts=1)]))
    assert (r.ready, r.restarts, r.status, r.healthy) == ("1/2", 3, "Running", False)


@pytest.mark.parametrize(
    ("init_statuses", "status"),
    [
        (
            [terminated("i1", exitCode=0, reason="Completed"), running("i2", ready=False)],
            "Init:1/2",
        ),
        (
            [waiting("CrashLoopBackOff", "i1"), waiting("PodInitializing", "i2")],
            "Init:CrashLoopBackOff",
        ),
        (
            [terminated("i1", exitCode=1, reason="Error"), waiting("PodInitializing", "i2")],
            "Init:Error",
        ),
        ([terminated("i1", exitCode=1), waiting("PodInitializing", "i2")], "Init:ExitCode:1"),
        (
            [terminated("i1", exitCode=143, signal=15), waiting("PodInitializing", "i2")],
            "Init:Signal:15",
        ),
        ([waiting("PodInitializing", "i1"), waiting("PodInitializing", "i2")], "Init:0/2"),
    ],
)
def test_init_containers(init_statuses, status):
    p = pod(
        [waiting("PodInitializing")],
        phase="Pending",
        init=[{"name": "i1"}, {"name": "i2"}],
        init_statuses=init_statuses,
    )
    r = pod_row(p)
    assert r.status == status and r.ready == "0/1" and not r.healthy


def test_init_restarts_count_while_initializing():
    p = pod(
        [waiting("PodInitializing")],
        phase="Pending",
        init=[{"name": "i1"}],
        init_statuses=[waiting("CrashLoopBackOff", "i1", restarts=4)],
    )
    assert pod_row(p).restarts == 4


def test_native_sidecar_counts_as_container():
    p = pod(
        [running("app")],
        init=[{"name": "proxy", "restartPolicy": "Always"}],
        init_statuses=[running("proxy", started=True, restarts=1)],
        conditions=[{"type": "Initialized", "status": "True"}],
    )
    r = pod_row(p)
    assert (r.ready, r.status, r.restarts, r.healthy) == ("2/2", "Running", 1, True)


def test_completed_with_a_running_container_becomes_running_or_notready():
    cs = [running("a"), terminated("b", exitCode=0, reason="Completed")]
    ready = pod(cs, conditions=[{"type": "Ready", "status": "True"}])
    not_ready = pod(cs, conditions=[{"type": "Ready", "status": "False"}])
    assert pod_row(ready).status == "Running"
    assert pod_row(not_ready).status == "NotReady"


def test_terminating_and_unknown():
    p = pod()
    p["metadata"]["deletionTimestamp"] = "2026-11-22T10:00:00Z"
    assert pod_row(p).status == "Terminating" and not pod_row(p).healthy
    p["status"]["reason"] = "NodeLost"
    assert pod_row(p).status == "Unknown"
    done = pod([terminated(exitCode=0, reason="Completed")], phase="Succeeded")
    done["metadata"]["deletionTimestamp"] = "2026-11-22T10:00:00Z"
    assert pod_row(done).status == "Completed"  # a terminal pod is not "Terminating"


def test_evicted_and_succeeded_and_pending():
    ev = pod([], phase="Failed", reason="Evicted", message="The node was low on resource: memory.")
    r = pod_row(ev)
    assert r.status == "Evicted" and not r.healthy
    assert r.reason_detail == "The node was low on resource: memory."
    ok = pod_row(pod([terminated(exitCode=0, reason="Completed")], phase="Succeeded"))
    assert ok.status == "Completed" and ok.healthy
    pending = pod_row(pod([], phase="Pending", containers=["app"]))
    assert (pending.status, pending.ready, pending.healthy) == ("Pending", "0/1", False)


def test_scheduling_gated():
    p = pod([], phase="Pending", containers=["app"])
    p["status"]["conditions"] = [{"type": "PodScheduled", "reason": "SchedulingGated"}]
    assert pod_row(p).status == "SchedulingGated"


def test_bare_pod_and_sparse_json():
    r = pod_row(pod(owner=None))
    assert (r.owner_kind, r.owner_name) == ("", "")
    empty = pod_row({"metadata": {"name": "x", "namespace": "ns"}})
    assert (empty.status, empty.ready, empty.uid, empty.healthy) == (
        "Unknown",
        "0/0",
        "ns/x",
        False,
    )


def test_sort_and_summary():
    a = pod_row(pod(name="b-ok"))
    b = pod_row(pod([waiting("CrashLoopBackOff")], name="z-bad"))
    c = pod_row(pod(name="a-ok", namespace="default"))
    assert [r.name for r in sorted_rows([a, b, c])] == ["z-bad", "a-ok", "b-ok"]
    assert sort_key(b) < sort_key(c)
    assert summarize([a, b, c], ["shop", "default"]) == "1/3 unhealthy in 2 namespaces"
    assert summarize([a], ["shop"]) == "0/1 unhealthy in 1 namespace"
    assert summarize([a, b, c], ["*"]) == "1/3 unhealthy in all namespaces"
    assert summarize([], []) == "0/0 unhealthy in 0 namespaces"


def test_notable_kinds():
    assert notable_kind("Init:CrashLoopBackOff") == "crashloop"
    assert notable_kind("ExitCode:3") == "error"
    assert notable_kind("ErrImagePull") == "imagepull"
    assert notable_kind("Running") is None and notable_kind("Terminating") is None


# --- tracker ---------------------------------------------------------------------------------


def row(name: str = "checkout-7d9f", status: str = "Running", restarts: int = 0, **kw) -> PodRow:
    healthy = kw.pop("healthy", status == "Running")
    return PodRow(
        uid=kw.pop("uid", f"u-{name}"),
        namespace=kw.pop("namespace", "shop"),
        name=name,
        ready="1/1" if healthy else "0/1",
        status=status,
        restarts=restarts,
        last_restart_at=None,
        created_at=None,
        node="n1",
        owner_kind="ReplicaSet",
        owner_name="checkout",
        labels={},
        healthy=healthy,
        phase="Running",
        reason_detail=kw.pop("detail", ""),
        last_exit_reason=kw.pop("last_exit", ""),
    )


def by_uid(*rows: PodRow) -> dict[str, PodRow]:
    return {r.uid: r for r in rows}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_healthy_start_is_quiet_and_bad_start_is_one_summary():
    t = PodTransitionTracker()
    assert t.feed(by_uid(row("a"), row("b")), at(0)) == []
    t2 = PodTransitionTracker()
    out = t2.feed(
        by_uid(
            row("a", "CrashLoopBackOff", 3),
            row("b", "CrashLoopBackOff", 2),
            row("c"),
            row("d", "ImagePullBackOff"),
        ),
        at(0),
    )
    assert [x.kind for x in out] == ["initial"]
    assert out[0].text == (
        "3 of 4 pods already unhealthy: 2 CrashLoopBackOff (a, b); 1 ImagePullBackOff (d)"
    )
    assert out[0].uid == ""
    # already reported: the same state later is not news
    later = by_uid(
        row("a", "CrashLoopBackOff", 3),
        row("b", "Error", 2),  # the same crash family
        row("c"),
        row("d", "ImagePullBackOff"),
    )
    assert t2.feed(later, at(70)) == []


def test_entering_crashloop_then_coalesced_restarts():
    t = PodTransitionTracker()
    t.feed(by_uid(row()), at(0))
    out = t.feed(by_uid(row(status="Error", restarts=1, last_exit="Error")), at(5))
    assert [(x.kind, x.text) for x in out] == [("error", "checkout-7d9f entered Error (1 restart)")]
    # flapping inside the crash family for a minute: nothing, whatever the states
    quiet = []
    for i, st in enumerate(["CrashLoopBackOff", "Running", "Error", "CrashLoopBackOff"] * 3):
        healthy = False
        quiet += t.feed(
            by_uid(row(status=st, restarts=2 + i // 2, healthy=healthy)), at(10 + i * 4)
        )
    assert quiet == []
    out = t.feed(by_uid(row(status="CrashLoopBackOff", restarts=7, healthy=False)), at(66))
    assert [(x.kind, x.text) for x in out] == [
        ("restarts", "checkout-7d9f crash-looping: 6 restarts in the last minute")
    ]
    assert (out[0].status, out[0].restarts, out[0].at) == ("CrashLoopBackOff", 7, at(66))


def test_flapping_pod_reports_at_most_once_per_minute():
    t = PodTransitionTracker()
    t.feed(by_uid(row()), at(0))
    events = []
    for i in range(1, 121):  # 10 minutes, a snapshot every 5 s, a restart every 10 s
        st = "CrashLoopBackOff" if i % 2 else "Error"
        events += t.feed(by_uid(row(status=st, restarts=i // 2, healthy=False)), at(i * 5))
    assert 1 <= len(events) <= 11
    times = [e.at for e in events]
    assert all(b - a >= timedelta(minutes=1) for a, b in itertools.pairwise(times))
    assert all(e.kind == "restarts" for e in events[1:])


def test_recovery_needs_a_steady_healthy_spell():
    t = PodTransitionTracker(recover_after=timedelta(seconds=30))
    t.feed(by_uid(row()), at(0))
    assert [x.kind for x in t.feed(by_uid(row(status="CrashLoopBackOff", restarts=2)), at(5))] == [
        "crashloop"
    ]
    assert t.feed(by_uid(row(restarts=2)), at(70)) == []  # healthy only just now
    out = t.feed(by_uid(row(restarts=3)), at(80))  # it restarted again: still crash-looping
    assert [x.text for x in out] == ["checkout-7d9f crash-looping: 1 restart in the last minute"]
    assert t.feed(by_uid(row(restarts=3)), at(95)) == []  # healthy since 95
    assert t.feed(by_uid(row(restarts=3)), at(130)) == []  # held: reported at 80
    out = t.feed(by_uid(row(restarts=3)), at(145))
    assert [(x.kind, x.text) for x in out] == [
        ("recovered", "checkout-7d9f recovered: Running 1/1 (was CrashLoopBackOff)")
    ]
    assert t.feed(by_uid(row(restarts=3)), at(300)) == []


def test_restart_of_a_running_pod_and_oomkilled():
    t = PodTransitionTracker()
    t.feed(by_uid(row(restarts=1)), at(0))
    out = t.feed(by_uid(row(restarts=2, last_exit="OOMKilled")), at(10))
    assert [(x.kind, x.text) for x in out] == [
        ("oomkilled", "checkout-7d9f restarted 1 time in the last minute (last exit: OOMKilled)")
    ]
    out = t.feed(by_uid(row(restarts=4, last_exit="Error")), at(400))
    assert [(x.kind, x.text) for x in out] == [
        ("restarts", "checkout-7d9f restarted 2 times in the last 6m30s (last exit: Error)")
    ]


def test_other_entries_and_gone():
    t = PodTransitionTracker()
    t.feed(by_uid(row("a"), row("b"), row("c")), at(0))
    out = t.feed(
        by_uid(
            row("a", "ImagePullBackOff", detail='Back-off pulling image "x:1"'),
            row("b", "Evicted", healthy=False, detail="low on memory"),
            row("c", "Unknown", healthy=False),
        ),
        at(5),
    )
    assert [(x.kind, x.text) for x in out] == [
        ("imagepull", 'a entered ImagePullBackOff: Back-off pulling image "x:1"'),
        ("evicted", "b entered Evicted: low on memory"),
        ("unknown", "c entered Unknown"),
    ]
    out = t.feed(by_uid(row("c", "Unknown", healthy=False)), at(6))
    assert [(x.kind, x.text) for x in out] == [
        ("gone", "a gone (was ImagePullBackOff)"),
        ("gone", "b gone (was Evicted)"),
    ]


def test_unhealthy_but_ordinary_states_are_not_news():
    t = PodTransitionTracker()
    t.feed(by_uid(row("a")), at(0))
    for i, st in enumerate(["Terminating", "Pending", "ContainerCreating", "NotReady"]):
        assert (
            t.feed(by_uid(row("a", st, healthy=False), row("new", st, healthy=False)), at(i)) == []
        )
    assert t.feed(by_uid(row("a"), row("new")), at(100)) == []  # never reported: no recovery


def test_new_pod_in_crashloop_is_reported_and_namespaces_shown():
    t = PodTransitionTracker(show_namespace=True)
    t.feed({}, at(0))
    out = t.feed(by_uid(row("x", "CrashLoopBackOff", 2, last_exit="Error")), at(1))
    assert [x.text for x in out] == [
        "shop/x entered CrashLoopBackOff (2 restarts, last exit: Error)"
    ]


def test_a_burst_collapses_into_a_summary():
    t = PodTransitionTracker(max_per_feed=10)
    t.feed(by_uid(*(row(f"p{i:02d}") for i in range(30))), at(0))
    out = t.feed(by_uid(*(row(f"p{i:02d}", "Unknown", healthy=False) for i in range(30))), at(5))
    assert len(out) == 10
    assert [x.kind for x in out[:9]] == ["unknown"] * 9
    assert (out[-1].kind, out[-1].text) == ("summary", "and 21 more pod transitions: 21 unknown")


def test_a_restart_storm_is_told_in_summaries_not_line_by_line():
    """100 different pods restarting each second: no per-pod limit applies (each restarts
    once), so the window budget does. 30 lines a minute at most, the rest counted into one
    summary every 15 s; nothing is lost from the counts."""
    pods = [row(f"p{i:04d}") for i in range(6000)]
    t = PodTransitionTracker()
    t.feed(by_uid(*pods), at(0))
    lines, told = [], 0
    for second in range(1, 61):  # 25 pods per feed, 4 feeds a second
        for quarter in range(4):
            start = ((second - 1) * 4 + quarter) * 25
            restarted = [row(p.name, restarts=1) for p in pods[start : start + 25]]
            changed = [r.uid for r in restarted]
            lines += t.feed(by_uid(*restarted), at(second + quarter / 4), changed=changed)
    lines += t.feed({}, at(80), changed=[])  # the storm is over: the last count goes out
    single = [x for x in lines if x.kind != "summary"]
    summaries = [x for x in lines if x.kind == "summary"]
    assert 30 <= len(single) <= 30 + 9  # the minute's budget (+ one feed's worth at 60 s)
    assert 4 <= len(summaries) <= 6  # once every 15 s
    for s in summaries:
        told += int(s.text.split(" more pod transitions")[0].removeprefix("and "))
    assert told + len(single) == 6000  # every restart is in a line or in a count
    assert all("restarts" in s.text for s in summaries)
    assert len(lines) < 50  # instead of 6000 timeline events in a minute


# --- kubeconfig resolution (kube.py reads it without kubernetes.aio) --------------------------


def write_config(
    path, contexts: dict[str, str], current: str = "", server: str = "https://a"
) -> str:
    import yaml

    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [
            {
                "name": n,
                "context": {"cluster": "c", "user": "u", **({"namespace": ns} if ns else {})},
            }
            for n, ns in contexts.items()
        ],
    }
    if current:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc))
    return str(path)


def test_resolve_target_like_kubectl(tmp_path):
    from warroom.sources.kube import KubeConfigError, resolve_target

    a = write_config(tmp_path / "a", {"prod": "shop", "dev": ""}, "prod", "https://prod:6443")
    b = write_config(tmp_path / "b", {"prod": "other", "stage": "web"}, "stage", "https://b")
    t = resolve_target(a, None, env={})
    assert (t.context, t.server, t.namespace, t.in_cluster) == (
        "prod",
        "https://prod:6443",
        "shop",
        False,
    )
    assert resolve_target(a, "dev", env={}).namespace == "default"
    # KUBECONFIG: missing entries skipped, the first file to name a context wins, and so does
    # the first current-context
    env = {"KUBECONFIG": f"{tmp_path / 'nope'}:{a}:{b}"}
    t = resolve_target(None, None, env=env)
    assert (t.context, t.namespace, t.config_file) == ("prod", "shop", env["KUBECONFIG"])
    assert resolve_target(None, "stage", env=env).namespace == "web"
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    write_config(home / ".kube" / "config", {"x": "y"}, "x")
    assert resolve_target(None, None, env={}, home=home).context == "x"
    with pytest.raises(KubeConfigError, match='context "nope" not found'):
        resolve_target(a, "nope", env={})
    with pytest.raises(KubeConfigError, match="does not exist"):
        resolve_target(str(tmp_path / "missing"), None, env={})
    with pytest.raises(KubeConfigError, match="current-context is not set"):
        resolve_target(write_config(tmp_path / "c", {"q": ""}), None, env={})
    with pytest.raises(KubeConfigError, match="no kubeconfig found"):
        resolve_target(None, None, env={}, home=tmp_path / "empty")


def test_in_cluster_when_no_kubeconfig(tmp_path):
    from warroom.sources.kube import KubeSource, resolve_target

    env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    t = resolve_target(None, None, env=env, home=tmp_path)
    assert (t.in_cluster, t.server, t.context, t.config_file) == (
        True,
        "https://10.0.0.1:443",
        "in-cluster",
        None,
    )
    src = KubeSource(t, ["shop", "shop", "web"])
    assert src.namespaces == ["shop", "web"] and not src.all_namespaces
    assert KubeSource(t, ["shop", "*"]).namespaces == ["*"]


def test_backoff_grows_with_jitter_and_caps():
    from warroom.sources.kube import Backoff

    b = Backoff(first=0.5, cap=10.0)
    delays = [b.next() for _ in range(10)]
    assert 0.25 <= delays[0] <= 0.5 and 0.5 <= delays[1] <= 1.0
    assert all(5.0 <= d <= 10.0 for d in delays[6:])
    b.reset()
    assert b.next() <= 0.5


def snap(
    ok: bool, at_s: float, *rows: PodRow, error: str | None = None, stale: float | None = None
):
    from warroom.pods import PodsSnapshot

    stale_since = at(stale) if stale is not None else None
    return PodsSnapshot(ok, by_uid(*rows), "1", error, stale_since, at(at_s))


def test_watch_lost_and_restored_once_per_loss():
    t = PodTransitionTracker()
    assert t.feed_snapshot(snap(True, 0, row("a"))) == []
    out = t.feed_snapshot(snap(False, 10, row("a"), error="connection refused", stale=9))
    assert [(x.kind, x.text) for x in out] == [
        ("watch_lost", "pods watch lost: connection refused")
    ]
    assert t.feed_snapshot(snap(False, 20, row("a"), error="connection refused", stale=9)) == []
    out = t.feed_snapshot(snap(True, 40, row("a", "CrashLoopBackOff", 1)))
    assert [(x.kind, x.text) for x in out] == [
        ("watch_restored", "pods watch restored after 31s"),
        ("crashloop", "a entered CrashLoopBackOff (1 restart)"),
    ]
    # flapping connection: the next loss within a minute of the last report stays quiet
    assert t.feed_snapshot(snap(False, 45, error="reset", stale=44)) == []
    assert t.feed_snapshot(snap(True, 46, row("a", "CrashLoopBackOff", 1))) == []


def test_unavailable_from_the_start():
    t = PodTransitionTracker()
    out = t.feed_snapshot(snap(False, 0, error="403 Forbidden: pods is forbidden"))
    assert [x.text for x in out] == ["pods unavailable: 403 Forbidden: pods is forbidden"]
    out = t.feed_snapshot(snap(True, 90, row("a")))
    assert [x.text for x in out] == ["pods available after 1m30s"]


def test_tracker_fed_deltas_reports_what_full_maps_report():
    """feed(changed=, removed=) looks only at changed pods and those time may still turn into
    a report (held by the rate limit, reported bad, recovering): same transitions as maps."""
    import random

    rng = random.Random(5)
    states = ["Running", "Running", "Running", "CrashLoopBackOff", "OOMKilled", "NotReady"]
    pods = {f"p{i}": row(f"p{i}") for i in range(40)}
    pods["bad"] = row("bad", "CrashLoopBackOff", 3)  # bad at the start: reported at once
    full, delta = PodTransitionTracker(), PodTransitionTracker()
    prev: dict[str, PodRow] = {}
    got_full: list[tuple[str, str]] = []
    got_delta: list[tuple[str, str]] = []
    for step in range(240):  # 20 minutes, a feed every 5 s
        t = at(step * 5)
        for _ in range(rng.randint(0, 3)):  # a few pods change; most stay as they were
            name = rng.choice(sorted(pods))
            old = pods[name]
            status = rng.choice(states)
            pods[name] = row(name, status, old.restarts + rng.randint(0, 2))
        if step == 100:
            del pods["p3"]
        if step == 150:
            pods["bad"] = row("bad", "Running", pods["bad"].restarts)  # recovers, then quiet
        rows = by_uid(*pods.values())
        changed = {u for u, r in rows.items() if prev.get(u) != r}
        removed = set(prev) - set(rows)
        got_full += [(x.kind, x.text) for x in full.feed(rows, t)]
        got_delta += [
            (x.kind, x.text) for x in delta.feed(rows, t, changed=changed, removed=removed)
        ]
        prev = rows
    assert got_delta == got_full
    kinds = {k for k, _ in got_full}
    assert {"initial", "crashloop", "restarts", "recovered"} <= kinds  # the sequence covers them


def test_merge_deltas_of_a_skipped_snapshot():
    from warroom.pods import merge_deltas

    f = frozenset
    assert merge_deltas((f({"a", "b"}), f({"c"})), (f({"c"}), f({"a"}))) == (
        f({"b", "c"}),
        f({"a"}),
    )
    assert merge_deltas((None, f()), (f({"a"}), f())) == (None, f())
    assert merge_deltas((f({"a"}), f()), (None, f())) == (None, f())
