"""Every key of the console in one table: the bindings, the help screen, the footer and the
command palette are all generated from it, and a keymap in settings rebinds by id.

An entry's `scope` says what it acts on: "app" entries are the incident actions (bound on the
main screen, any pane focused); the others are bound on the widget of that name and act on the
row under its cursor. Widgets take their BINDINGS from `bindings_for(scope)`; the console
builds help and palette from `KEYS`, so a key cannot be bound without being documented.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass

from textual.binding import Binding

# Key names as Textual spells them -> as a person reads them.
_SHOWN = {
    "question_mark": "?",
    "ctrl+k": "ctrl+k",
    "colon": ":",
    "slash": "/",
    "full_stop": ".",
    "space": "space",
    "enter": "enter",
}


@dataclass(frozen=True)
class KeySpec:
    id: str  # binding id: "note", "pods.logs" (the keymap's name for it)
    key: str  # default key(s), comma-separated as Textual binds them
    action: str  # app keys: the route the app runs; widget keys: the widget's action
    label: str  # short, for the footer
    help: str  # one line, for the help screen and the palette
    _: KW_ONLY
    scope: str = "app"  # "app", or the widget that binds it: "pods", "timeline", ...
    show: bool = True  # in the footer
    mutates: bool = False  # changes a system: never bound in read-only mode
    same_as: str = ""  # an app key this one stands for on its widget (pods' e is evidence too)

    @property
    def binding_action(self) -> str:
        """App keys all run the app's router (`app.run('note')`); widget keys their action."""
        return f"app.run({self.id!r})" if self.scope == "app" else self.action

    @property
    def binding_id(self) -> str:
        """The id Textual knows it by (and the keymap names): app keys are warroom.<id>."""
        return f"warroom.{self.id}" if self.scope == "app" else self.id


KEYS: tuple[KeySpec, ...] = (
    KeySpec(
        "note",
        "n",
        "note",
        "Note",
        "Add a note ('TODO:', 'Root cause:', 'Impact:' file it under that post-mortem section)",
    ),
    KeySpec("severity", "s", "severity", "Severity", "Change severity"),
    KeySpec("status", "t", "status", "Status", "Change status (resolve from here)"),
    KeySpec("role", "o", "role", "Roles", "Assign or unassign a role"),
    KeySpec("ack", "k", "ack", "Ack", "Acknowledge the incident (stops the ack clock)"),
    KeySpec("update", "u", "update", "Update", "Write and send a status update"),
    KeySpec(
        "evidence",
        "e",
        "evidence",
        "Evidence",
        "Collect a sealed evidence bundle, incident-wide (on a pod row: that pod); again to stop",
    ),
    KeySpec(
        "action_item",
        "A",
        "action_item",
        "Action item",
        "Add an action item: what, owner and due date (the post-mortem tracks it)",
        show=False,
    ),
    KeySpec(
        "escalate",
        "E",
        "escalate",
        "Escalate",
        "Escalate to the next level and page it (criteria shown), or to someone by name",
        show=False,
    ),
    KeySpec(
        "accept",
        "S",
        "accept_suggestion",
        "Accept suggestion",
        "Accept the severity a detection rule suggests",
        show=False,
    ),
    KeySpec(
        "alert",
        "a",
        "alert",
        "Alert",
        "Attach the selected alert, or declare a new incident from it",
        show=False,
    ),
    KeySpec("promql", "colon", "promql", "PromQL", "Run an ad-hoc PromQL query", show=False),
    KeySpec(
        "export",
        "x",
        "export",
        "Export",
        "Write the post-mortem (Markdown) to the data dir",
        show=False,
    ),
    KeySpec("help", "question_mark", "help", "Keys", "Show every key"),
    KeySpec("zoom", "z", "zoom", "Zoom", "Maximise the focused pane, or restore it (escape)"),
    KeySpec(
        "focus_health", "1", "focus_pane('health')", "Health", "Focus the health pane", show=False
    ),
    KeySpec(
        "focus_pods",
        "2",
        "focus_pane('pods')",
        "Kubernetes",
        "Focus the Kubernetes pane (pods, deployments, nodes)",
        show=False,
    ),
    KeySpec(
        "focus_timeline",
        "3",
        "focus_pane('timeline')",
        "Timeline",
        "Focus the timeline",
        show=False,
    ),
    KeySpec(
        "focus_checklist",
        "4",
        "focus_pane('checklist')",
        "Checklist",
        "Focus the checklist",
        show=False,
    ),
    KeySpec("quit", "q", "quit_room", "Quit", "Quit (asks while work is in flight)"),
    # ----- the health pane ---------------------------------------------------------------------
    KeySpec(
        "health.series",
        "enter",
        "select_cursor",
        "Series",
        "On a check: its last 30 minutes as a chart",
        scope="health",
    ),
    # ----- the pods pane -----------------------------------------------------------------------
    KeySpec("pods.logs", "l", "pod('logs')", "Logs", "On a pod: its logs", scope="pods"),
    KeySpec(
        "pods.describe",
        "d",
        "pod('describe')",
        "Describe",
        "On a pod: conditions, containers and events",
        scope="pods",
    ),
    KeySpec(
        "pods.evidence",
        "e",
        "pod('evidence')",
        "Evidence",
        "On a pod: collect evidence of that pod",
        scope="pods",
        same_as="evidence",
    ),
    KeySpec(
        "pods.filter",
        "slash",
        "filter",
        "Filter",
        "Filter pods by text, or -l app=checkout",
        scope="pods",
    ),
    KeySpec(
        "pods.sort",
        "full_stop",
        "cycle_sort",
        "Sort",
        "Sort pods by the next column",
        scope="pods",
    ),
    KeySpec(
        "pods.restart",
        "r",
        "pod('restart')",
        "Restart owner",
        "On a pod: rollout restart of its Deployment, StatefulSet or DaemonSet",
        scope="pods",
        mutates=True,
    ),
    KeySpec(
        "pods.quarantine",
        "Q",
        "pod('quarantine')",
        "Quarantine",
        "On a pod: quarantine it (evidence, deny-all NetworkPolicy, out of its ReplicaSet and "
        "Service, still running); on a quarantined pod: release it",
        scope="pods",
        mutates=True,
    ),
    KeySpec(
        "pods.delete",
        "ctrl+d",
        "pod('delete')",
        "Delete pod",
        "On a pod: delete it (its owner makes a replacement)",
        scope="pods",
        mutates=True,
    ),
    KeySpec(
        "pods.force_delete",
        "ctrl+k",
        "pod('force_delete')",
        "Force delete",
        "On a pod: delete it now (grace period 0): for a pod stuck on a lost node; asks twice",
        scope="pods",
        mutates=True,
    ),
    # ----- the Kubernetes pane, whichever view it shows (k9s's `:`) -----------------------------
    KeySpec(
        "kube.view",
        "colon",
        "ask_view",
        "View",
        "On the Kubernetes pane: :pods, :deploy or :nodes switches what it shows",
        scope="kube",
    ),
    KeySpec(
        "kube.next",
        "v",
        "next_view",
        "Next view",
        "On the Kubernetes pane: pods, deployments, nodes in turn",
        scope="kube",
    ),
    # ----- the deployments view -----------------------------------------------------------------
    KeySpec(
        "workloads.pods",
        "enter",
        "act('pods')",
        "Pods",
        "On a workload: its pods in the pods view",
        scope="workloads",
    ),
    KeySpec(
        "workloads.filter",
        "slash",
        "filter",
        "Filter",
        "Filter workloads by text, or -l app=checkout",
        scope="workloads",
    ),
    KeySpec(
        "workloads.scale",
        "c",
        "act('scale')",
        "Scale",
        "On a Deployment or StatefulSet: set its replicas (shows current and new)",
        scope="workloads",
        mutates=True,
    ),
    KeySpec(
        "workloads.rollback",
        "b",
        "act('rollback')",
        "Rollback",
        "On a workload: rollout undo to the previous revision or a chosen one (shows the diff)",
        scope="workloads",
        mutates=True,
    ),
    KeySpec(
        "workloads.restart",
        "r",
        "act('restart')",
        "Restart",
        "On a workload: rollout restart",
        scope="workloads",
        mutates=True,
    ),
    KeySpec(
        "workloads.pause",
        "p",
        "act('pause')",
        "Pause/resume",
        "On a Deployment: pause its rollout, or resume a paused one",
        scope="workloads",
        mutates=True,
    ),
    # ----- the nodes view -----------------------------------------------------------------------
    KeySpec(
        "nodes.pods",
        "enter",
        "act('pods')",
        "Pods",
        "On a node: the incident's pods on it, in the pods view",
        scope="nodes",
    ),
    KeySpec("nodes.filter", "slash", "filter", "Filter", "Filter nodes by text", scope="nodes"),
    KeySpec(
        "nodes.cordon",
        "c",
        "act('cordon')",
        "Cordon/uncordon",
        "On a node: mark it unschedulable, or schedulable again",
        scope="nodes",
        mutates=True,
    ),
    KeySpec(
        "nodes.drain",
        "D",
        "act('drain')",
        "Drain",
        "On a node: cordon, then evict its pods through the Eviction API (budgets respected)",
        scope="nodes",
        mutates=True,
    ),
    # ----- the alerts table ---------------------------------------------------------------------
    KeySpec(
        "alerts.silence",
        "m",
        "silence",
        "Silence/expire",
        "On an alert: silence it in Alertmanager (duration, comment); on a silenced one, expire",
        scope="alerts",
        mutates=True,
    ),
    # ----- the timeline ------------------------------------------------------------------------
    KeySpec(
        "timeline.details",
        "enter",
        "open",
        "Details",
        "On an event: full text, data and hash",
        scope="timeline",
    ),
    KeySpec("timeline.pin", "p", "pin", "Pin", "Pin or unpin the event", scope="timeline"),
    KeySpec(
        "timeline.follow",
        "end,G",
        "last",
        "Follow",
        "Jump to the newest event and follow new ones again",
        scope="timeline",
    ),
    # ----- the checklist -----------------------------------------------------------------------
    KeySpec(
        "checklist.toggle",
        "space",
        "toggle",
        "Toggle item",
        "Tick or untick the item (who and when are recorded)",
        scope="checklist",
    ),
)

# Keys that move, not act: listed in help, bound by the widgets themselves.
MOVES: tuple[tuple[str, str], ...] = (
    ("↑ ↓ pgup pgdn home", "Move; the timeline follows new events while on its last row"),
    ("tab / shift+tab", "Next / previous pane"),
    ("ctrl+p", "Command palette: every action by name"),
)


# Section titles of the help screen and `warroom keys`, in the order they are listed.
SCOPE_TITLES = {
    "app": "The incident (any pane)",
    "health": "Health pane",
    "alerts": "Alerts (on the alert under the cursor)",
    "kube": "Kubernetes pane (any view)",
    "pods": "Pods view (on the pod under the cursor)",
    "workloads": "Deployments view (on the workload under the cursor)",
    "nodes": "Nodes view (on the node under the cursor)",
    "timeline": "Timeline (on the event under the cursor)",
    "checklist": "Checklist",
}


def key_rows(keymap: Mapping[str, str]) -> list[tuple[str, str, str, str]]:
    """(section, key as bound now, binding id, help) for every key, section by section, then
    the moves: what the help screen, the footer's `?` and `warroom keys` show."""
    order = list(SCOPE_TITLES)
    ranked = sorted(KEYS, key=lambda k: order.index(k.scope) if k.scope in order else len(order))
    rows = [
        (SCOPE_TITLES.get(k.scope, k.scope), shown_key(k, keymap), k.binding_id, k.help)
        for k in ranked
    ]
    return rows + [("Moving around", keys, "-", what) for keys, what in MOVES]


def bindings_for(scope: str, *, mutating: bool | None = None) -> list[Binding]:
    """The Textual bindings of one scope: all of them, or only the keys that change a system
    (`mutating=True`), or only those that do not (`mutating=False`, what read-only binds)."""
    return [
        Binding(k.key, k.binding_action, k.label, show=k.show, id=k.binding_id)
        for k in KEYS
        if k.scope == scope and (mutating is None or k.mutates == mutating)
    ]


def spec(key_id: str) -> KeySpec:
    return next(k for k in KEYS if k.id == key_id)


def shown_key(k: KeySpec, keymap: Mapping[str, str]) -> str:
    """The key as bound now (a keymap rebind wins), as a person reads it."""
    keys = keymap.get(k.binding_id) or keymap.get(k.id) or k.key
    return ",".join(_SHOWN.get(part.strip(), part.strip()) for part in keys.split(","))


def first_key(k: KeySpec, keymap: Mapping[str, str]) -> str:
    """The first key bound now, as Textual spells it (for pressing it in a script)."""
    keys = keymap.get(k.binding_id) or keymap.get(k.id) or k.key
    return keys.split(",")[0].strip()


def keymap_problems(keymap: Mapping[str, str]) -> list[tuple[str, str]]:
    """(keymap id, problem) for every rebind that names no binding, or takes a key another
    action needs where both are active (`note = "q"` would hijack quit): a keymap must not
    quietly do nothing, nor take a key away."""
    import difflib

    ids = {k.id: k for k in KEYS}
    problems = []
    for name in keymap:
        key_id = name.removeprefix("warroom.")
        if key_id not in ids:
            near = difflib.get_close_matches(key_id, list(ids), n=1, cutoff=0.6)
            hint = f" (did you mean {near[0]}?)" if near else ""
            problems.append((name, f"no key named {key_id!r}{hint}"))
    bound = {k.id: [part.strip() for part in first_keys(k, keymap)] for k in KEYS}
    for scope in sorted({k.scope for k in KEYS}):
        active = [k for k in KEYS if k.scope in ("app", scope)]
        owner: dict[str, KeySpec] = {}
        for k in active:
            for key in bound[k.id]:
                other = owner.get(key)
                if other is None:
                    owner[key] = k
                elif other.id != k.same_as and k.id != other.same_as and _rebound(keymap, k, other):
                    who = k if _is_rebound(keymap, k) else other
                    taken = other if who is k else k
                    problem = (
                        who.id,
                        f"key {key!r} is already bound to {taken.id} ({taken.label})",
                    )
                    if problem not in problems:
                        problems.append(problem)
    return problems


def first_keys(k: KeySpec, keymap: Mapping[str, str]) -> list[str]:
    keys = keymap.get(k.binding_id) or keymap.get(k.id) or k.key
    return keys.split(",")


def _is_rebound(keymap: Mapping[str, str], k: KeySpec) -> bool:
    return k.binding_id in keymap or k.id in keymap


def _rebound(keymap: Mapping[str, str], a: KeySpec, b: KeySpec) -> bool:
    """Only rebinds can clash: the shipped table is checked by a test."""
    return _is_rebound(keymap, a) or _is_rebound(keymap, b)
