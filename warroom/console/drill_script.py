"""The drill script player.

`play_script` replays a drill script (warroom/drill/script.py) through a Textual Pilot: the
same keys and dialogs a person would use (k, s + choose, u + ctrl+s, 2 + r + confirm, ...),
so a scripted run exercises the real console, never a shortcut into the store.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shlex
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, OptionList
from textual.worker import WorkerState

from warroom.console.incident import TYPE_NAME
from warroom.console.work import BUSY_GROUPS
from warroom.drill.kubectl_guard import kubectl_env, kubectl_problem, read_only_problem
from warroom.drill.scoring import workload_of
from warroom.drill.script import STEP_TIMEOUT, Script, Step, node_of
from warroom.model import Kind, format_duration
from warroom.sanitize import strip_control
from warroom.widgets.escalation import OTHER
from warroom.widgets.keys import first_key, spec
from warroom.widgets.messages import ToggleRequested
from warroom.widgets.pods_pane import PodsTable

log = logging.getLogger("warroom")
KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


class ScriptFailed(RuntimeError):
    """A script step could not be carried out (what it waited for never came)."""


@dataclass
class ScriptRun:
    """What a played script did, for the terminal and for tests."""

    lines: list[str] = field(default_factory=list)
    failed: str | None = None


async def play_script(
    app: Any, pilot: Pilot, script: Script, scenario_now: Callable[[], float]
) -> ScriptRun:
    """Run every step at its scenario time, then close the console. Never raises for a step
    that fails: the run stops there, says why, and the console closes (the report follows)."""
    run = ScriptRun()
    player = _Player(app, pilot)
    where = "start"
    try:
        await player.until(
            lambda: app.room is not None and app.screen is app.main, "the main screen"
        )
        for step in script.steps:
            where = step.where
            while scenario_now() < step.at:
                await pilot.pause(min(0.1, max(0.01, (step.at - scenario_now()) / app.world.speed)))
            detail = await player.perform(step)
            run.lines.append(f"t+{format_duration(scenario_now())} {step.describe()}{detail}")
            if step.action == "quit":
                return run
        await player.settle()
    except ScriptFailed as e:
        run.failed = f"{where}: {e}"
        run.lines.append(f"t+{format_duration(scenario_now())} FAILED {run.failed}")
    except Exception as e:  # a bug must not leave a headless console running forever
        log.exception("drill script crashed")
        run.failed = f"{where}: {type(e).__name__}: {e}"
        run.lines.append(f"FAILED {run.failed}")
    if app.is_running:
        app.exit(0 if run.failed is None else 1)
    return run


class _Player:
    def __init__(self, app: Any, pilot: Pilot) -> None:
        self.app, self.pilot = app, pilot

    # ----- waiting ---------------------------------------------------------------------------
    async def until(
        self, predicate: Callable[[], Any], what: str, timeout: float = STEP_TIMEOUT
    ) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = predicate()
            if got:
                return got
            await self.pilot.pause(0.05)
        raise ScriptFailed(f"gave up waiting for {what} after {timeout:g}s")

    async def settle(self) -> None:
        """Until the use cases and cluster actions started so far have finished."""

        def idle() -> bool:
            return not any(
                w.group in BUSY_GROUPS and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                for w in self.app.workers
            )

        await self.pilot.pause()
        await self.until(idle, "running actions to finish", 90)
        await self.pilot.pause()

    async def main_screen(self) -> None:
        await self.until(
            lambda: self.app.screen is self.app.main, "the main screen (a dialog is open)"
        )

    async def dialog(self, name: str) -> Any:
        return await self.until(
            lambda: type(self.app.screen).__name__ == name and self.app.screen, name
        )

    def key(self, action_id: str) -> str:
        return first_key(spec(action_id), self.app.session.settings.keymap)

    def count(self, kind: str) -> int:
        room = self.app.room
        return sum(1 for e in room.events if e.kind == kind) if room else 0

    # ----- steps -----------------------------------------------------------------------------
    async def perform(self, step: Step) -> str:
        if step.action == "key":
            await self.pilot.press(*step.keys)
            await self.settle()
            return ""
        if step.action == "wait" and not step.args:
            return ""
        if step.action == "kubectl":
            return await self.kubectl(step.args)
        await self.main_screen()
        handler = getattr(self, f"do_{step.action.replace('-', '_')}")
        result = await handler(step.args)
        if step.action != "quit":
            await self.settle()
        return result or ""

    async def do_ack(self, _: str) -> None:
        await self.pilot.press(self.key("ack"))

    async def _choose(self, key: str, option: str) -> Any:
        await self.pilot.press(key)
        screen = await self.dialog("ChoiceScreen")
        options = screen.query_one(OptionList)
        try:
            options.highlighted = options.get_option_index(option)
        except Exception:
            await self.pilot.press("escape")
            raise ScriptFailed(f"no choice {option!r} in the dialog") from None
        await self.pilot.press("enter")
        return screen

    async def do_severity(self, args: str) -> None:
        """`severity P1 [why]`: the picker, the level, then the reason it asks for."""
        level, _, why = args.partition(" ")
        await self.pilot.press(self.key("severity"))
        screen = await self.dialog("SeverityScreen")
        levels = screen.query_one(OptionList)
        try:
            levels.highlighted = levels.get_option_index(level.upper())
        except Exception:
            await self.pilot.press("escape")
            raise ScriptFailed(f"no severity {level!r} in the picker") from None
        await self.pilot.press("enter")
        await self.pilot.pause()
        screen.query_one(Input).value = why.strip() or "set by the drill script"
        await self.pilot.press("enter")

    async def do_status(self, args: str) -> None:
        await self._choose(self.key("status"), args.lower())

    async def _prompt(self, text: str) -> None:
        screen = await self.dialog("PromptScreen")
        screen.query_one(Input).value = text
        await self.pilot.press("enter")

    async def do_note(self, args: str) -> None:
        await self.pilot.press(self.key("note"))
        await self._prompt(args)

    async def do_resolve(self, args: str) -> None:
        await self._choose(self.key("status"), "resolved")
        await self._prompt(args)

    async def do_role(self, args: str) -> None:
        """`role tech_lead bo`: o, the role, the name (picked from the contacts when they
        are configured and list it, else typed)."""
        role, _, name = args.partition(" ")
        roles = await self._choose(self.key("role"), role.lower())
        await self._pick_or_type(name.strip(), "ChoiceScreen", TYPE_NAME, stale=roles)

    async def do_escalate(self, who: str) -> None:
        """`escalate L3` (a level, with contacts configured) or `escalate NAME`."""
        await self.pilot.press(self.key("escalate"))
        await self._pick_or_type(who.strip(), "EscalateScreen", OTHER)

    async def _pick_or_type(self, value: str, picker: str, other: str, stale: Any = None) -> None:
        """The picker's option `value`, or its "type a name" option and the prompt; just the
        prompt when no picker comes up (nobody configured). `stale`: the dialog just left."""

        def shown() -> Any:
            screen = self.app.screen
            fits = type(screen).__name__ in (picker, "PromptScreen") and screen is not stale
            return fits and screen

        screen = await self.until(shown, f"{picker} or PromptScreen")
        if type(screen).__name__ == picker:
            options = screen.query_one(OptionList)
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            choice = value.upper() if value.upper() in ids else value
            options.highlighted = ids.index(choice if choice in ids else other)
            await self.pilot.press("enter")
            if choice in ids:
                return
        await self._prompt(value)

    async def do_wait(self, item: str) -> str:
        """`wait ITEM`: until the event that does the checklist item has ticked it, as a
        commander watches the checklist (mitigation verified, alerts cleared)."""
        if not item:
            return ""
        room = self.app.room
        if room is None or item not in room.state.checklist:
            raise ScriptFailed(f"no checklist item {item!r}")
        done = await self.until(
            lambda: room.state.checklist[item].done and room.state.checklist[item],
            f"checklist item {item} to be done",
            120,
        )
        return f": done by {done.by}"

    async def do_update(self, _: str) -> None:
        before = self.count(Kind.UPDATE)
        await self.pilot.press(self.key("update"))
        await self.dialog("ComposerScreen")
        await self.pilot.press("ctrl+s")
        await self.until(
            lambda: self.count(Kind.UPDATE) > before, "the status update on the timeline"
        )

    async def do_toggle(self, args: str) -> str:
        room = self.app.room
        items = list(room.state.checklist.values()) if room else []
        if args != "all":
            items = [i for i in items if args in (i.phase, i.id)]
            if not items:
                raise ScriptFailed(f"no checklist phase or item {args!r}")
        todo = [i.id for i in items if not i.done]
        for item_id in todo:
            self.app.post_message(ToggleRequested(item_id))  # what space on the checklist posts
        await self.settle()
        return f": {len(todo)} item(s)"

    async def do_quit(self, _: str) -> None:
        await self.settle()  # let the last use cases land before the console closes
        await self.pilot.press(self.key("quit"))
        await self.pilot.pause(0.1)
        if type(self.app.screen).__name__ == "ConfirmScreen":  # work in flight: quit anyway
            await self.pilot.press("tab", "enter")

    async def do_evidence(self, pod: str) -> str:
        """`e` on the pod's row collects that pod; `e` on the timeline, incident-wide."""
        before = self.count(Kind.EVIDENCE)
        if pod:
            await self._select_pod(lambda r: r.name == pod, pod)
        else:
            await self.pilot.press("3")
        await self.pilot.press(self.key("evidence"))
        await self.until(lambda: self.count(Kind.EVIDENCE) > before, "the evidence bundle", 120)
        return ""

    async def _select_pod(self, match: Callable[[Any], bool], what: str) -> Any:
        app = self.app
        await self.pilot.press("2")

        def pick() -> Any:
            # An unhealthy pod first, as a person would pick it.
            rows = sorted(
                (r for r in app.pods.rows.values() if match(r)), key=lambda r: (r.healthy, r.name)
            )
            return rows[0] if rows else None

        row = await self.until(pick, f"a pod of {what} in the pods pane")
        table = app.main.query_one(PodsTable)
        await self.until(
            lambda: row.uid in app.pods.rows and _has_row(table, row.uid),
            f"pod {row.name} in the table",
        )
        table.move_cursor(row=table.get_row_index(row.uid))
        await self.pilot.pause()
        return row

    def _of(self, ref: str) -> Callable[[Any], bool]:
        ns = self.app.world.scenario.namespace
        ref = ref.lower()
        return lambda r: r.name == ref or workload_of(f"pods/{ns}/{r.name}", [ref]) == ref

    async def _mutate(self, key: str, target: str, *, typed: bool = False) -> str:
        before = self.count(Kind.ACTION)
        dialog = "TypedConfirmScreen" if typed else "ConfirmScreen"
        for _ in range(5):
            row = await self._select_pod(self._of(target), target)
            await self.pilot.press(key)
            screen = await self.dialog(dialog)
            # The table may re-sort between moving the cursor and the key: the dialog names
            # the pod it will act on, so check it as a person would, and try again if wrong.
            if f"pod:       {row.name}\n" in screen.body:
                break
            await self.pilot.press("escape")
            await self.main_screen()
        else:
            raise ScriptFailed(f"could not put the cursor on a pod of {target}")
        if typed:  # the stronger confirmation: the pod's name typed, then enter
            field = screen.query_one(Input)
            field.focus()
            field.value = row.name
            await self.pilot.pause()
            await self.pilot.press("enter")
        else:
            await self.pilot.press("tab", "enter")  # Cancel is focused: tab to it, enter
        await self.until(lambda: self.count(Kind.ACTION) > before, "the action on the timeline", 60)
        last = [e for e in self.app.room.events if e.kind == Kind.ACTION][-1]
        return f": {row.name}: {last.text}"

    async def do_restart(self, target: str) -> str:
        return await self._mutate(self.key("pods.restart"), target)

    async def do_delete(self, target: str) -> str:
        return await self._mutate(self.key("pods.delete"), target)

    async def do_force_delete(self, target: str) -> str:
        """ctrl+k on the pod, then its name typed in the stronger confirmation."""
        return await self._mutate(self.key("pods.force_delete"), target, typed=True)

    # ----- the deployments and nodes views -------------------------------------------------
    async def _view(self, view: str, pick: Callable[[Any], bool], what: str) -> Any:
        """`2`, `:` + the view's name, then the cursor on the row `pick` chooses."""
        app = self.app
        await self.pilot.press("2")
        if app.views.current != view:
            await self.pilot.press(self.key("kube.view"))
            await self._prompt({"workloads": "deploy", "nodes": "nodes"}[view])
            await self.main_screen()
        feature = app.workloads if view == "workloads" else app.nodes
        row = await self.until(
            lambda: next((r for r in feature.rows.values() if pick(r)), None), what
        )
        table = app.views.tables[view]
        await self.until(lambda: table.select(row.uid), f"{what} in the table")
        await self.pilot.pause()
        return row

    async def _act(self, key: str, title: str) -> Any:
        """Press the action's key and wait for its confirmation (or the dialog before it)."""
        before = self.count(Kind.ACTION)
        await self.pilot.press(key)
        return before, await self.until(
            lambda: self.app.screen is not self.app.main and self.app.screen, title
        )

    async def _confirm(self, before: int, what: str, wait: float = 60) -> str:
        screen = await self.dialog("ConfirmScreen")
        if what not in screen.body:
            await self.pilot.press("escape")
            raise ScriptFailed(f"the confirmation does not name {what!r}")
        await self.pilot.press("tab", "enter")  # Cancel is focused: tab to the action, enter
        await self.until(
            lambda: self.count(Kind.ACTION) > before, "the action on the timeline", wait
        )
        last = [e for e in self.app.room.events if e.kind == Kind.ACTION][-1]
        return f": {last.text}"

    def _workload(self, ref: str) -> Callable[[Any], bool]:
        ref = ref.lower()
        return lambda r: r.ref == ref or f"{r.kind.lower()}/{r.name}" == ref

    async def do_scale(self, args: str) -> str:
        ref, _, replicas = args.partition(" ")
        await self._view("workloads", self._workload(ref), ref)
        before, _ = await self._act(self.key("workloads.scale"), "the replicas prompt")
        await self._prompt(replicas.strip())
        return await self._confirm(before, f"-> {replicas.strip()}")

    async def do_rollback(self, args: str) -> str:
        ref, _, revision = args.partition(" ")
        await self._view("workloads", self._workload(ref), ref)
        before, _ = await self._act(self.key("workloads.rollback"), "the revisions")
        screen = await self.dialog("ChoiceScreen")
        if revision.strip():  # else the previous revision, highlighted already
            options = screen.query_one(OptionList)
            try:
                options.highlighted = options.get_option_index(revision.strip())
            except Exception:
                await self.pilot.press("escape")
                raise ScriptFailed(f"no revision {revision.strip()} of {ref}") from None
        await self.pilot.press("enter")
        return await self._confirm(before, "revision:")

    def _node(self, name: str) -> Callable[[Any], bool]:
        full = node_of(self.app.world.scenario, name)
        return lambda r: r.name == full

    async def _node_action(self, name: str, key: str, wait: float = 60) -> str:
        row = await self._view("nodes", self._node(name), f"node {name}")
        before, _ = await self._act(key, "the confirmation")
        return await self._confirm(before, f"node:      {row.name}", wait)

    async def do_cordon(self, name: str) -> str:
        return await self._node_action(name, self.key("nodes.cordon"))

    async def do_uncordon(self, name: str) -> str:
        return await self._node_action(name, self.key("nodes.cordon"))

    async def do_drain(self, name: str) -> str:
        timeout = self.app.session.settings.kube.drain_timeout.total_seconds()
        return await self._node_action(name, self.key("nodes.drain"), timeout + 60)

    async def do_quarantine(self, target: str) -> str:
        """Q on the pod's row: the evidence comes first, then the three recorded steps."""
        return await self._mutate(self.key("pods.quarantine"), target)

    async def kubectl(self, args: str) -> str:
        if not shutil.which(KUBECTL):
            raise ScriptFailed(f"kubectl is not installed ({KUBECTL})")
        argv = shlex.split(args)
        # Checked when the script was read; again here, the last gate before a real kubectl.
        problem = kubectl_problem(argv) or (
            read_only_problem(argv) if self.app.session.read_only else None
        )
        if problem:
            raise ScriptFailed(f"kubectl {args}: {problem}")
        cmd = [KUBECTL, "--kubeconfig", str(self.app.world.kubeconfig_path), *argv]
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env=kubectl_env(os.environ),  # no KUBECONFIG or other KUBE* pointing elsewhere
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
        except TimeoutError:
            proc.kill()
            raise ScriptFailed(f"kubectl {args}: timed out") from None
        # kubectl prints what the server says: keep it one inert line on the terminal
        text = strip_control(out.decode(errors="replace").strip().replace("\n", " | "))[:300]
        if proc.returncode != 0:
            raise ScriptFailed(f"kubectl {args}: exit {proc.returncode}: {text}")
        await self.pilot.pause(0.5)  # the drill recorder writes its ACTION from the world thread
        return f": {text}"


def _has_row(table: PodsTable, uid: str) -> bool:
    try:
        table.get_row_index(uid)
    except Exception:
        return False
    return True
