"""DrillWorld: the simulated cluster, its Kubernetes API, Prometheus and Alertmanager, all on
127.0.0.1 random ports, driven by one scenario. Run it in-process (`async with DrillWorld(...)`)
or in a background thread with its own loop (`run_in_thread(...)`), e.g. beside a Textual app.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import secrets
import shutil
import ssl
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from warroom.drill.am_api import AlertmanagerServer
from warroom.drill.clock import Scheduler, WorldClock
from warroom.drill.cluster import Cluster
from warroom.drill.engine import Engine, Happening
from warroom.drill.kube_server import KubeServer, User
from warroom.drill.kubeconfig import kubeconfig_dict, write_kubeconfig
from warroom.drill.prom_api import PromServer
from warroom.drill.prom_real import RealFront, RealStack, exporter_app
from warroom.drill.scenario import (
    RunOptionError,
    Scenario,
    check_extra_pods,
    check_speed,
    load_scenario,
)
from warroom.drill.tls import ServerCert, TLSUnavailable, make_server_cert

log = logging.getLogger(__name__)
HOST = "127.0.0.1"  # never anything else: the drill is for this machine only
SHUTDOWN_TIMEOUT = 1.0
START_TIMEOUT = 60.0  # an upper bound for drills; big benchmark worlds pass their own
T = TypeVar("T")
PROMETHEUS_MODES = ("builtin", "real")


class DrillStartError(RuntimeError):
    """The drill world could not start: a port, a file (the kubeconfig), its thread. One line;
    bad input (a scenario, a speed) is a ScenarioError instead."""


class DrillWorld:
    def __init__(
        self,
        scenario: str | Path | Scenario = "crashloop-after-deploy",
        *,
        speed: float = 1.0,
        token: str | None = None,
        read_only_token: str | None = None,
        read_only_user: str = "ro",
        admin_user: str = "drill-admin",
        extra_pods: int = 0,
        history_size: int = 1000,
        bookmark_interval: float = 60.0,
        kubeconfig_path: str | Path | None = None,
        start_time: datetime | None = None,
        tls: bool = True,
        wall_timestamps: bool = False,
        prometheus: str = "builtin",
    ) -> None:
        # Bad input fails here, in the caller's thread, before any server or thread exists.
        if prometheus not in PROMETHEUS_MODES:
            raise RunOptionError(f"prometheus: must be one of {', '.join(PROMETHEUS_MODES)}")
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.speed = check_speed(speed)
        self.token = token or secrets.token_urlsafe(24)
        self.read_only_token = read_only_token
        self.read_only_user = read_only_user
        self.admin_user = admin_user
        self.extra_pods = check_extra_pods(extra_pods)
        self.history_size = history_size
        self.bookmark_interval = bookmark_interval
        self._kubeconfig_arg = Path(kubeconfig_path) if kubeconfig_path else None
        self._start_time = start_time
        self.tls = tls
        self.wall_timestamps = wall_timestamps
        # "builtin": the drill's own Prometheus/Alertmanager APIs; "real": the Debian binaries
        # scraping the drill (prom_real), real PromQL everywhere.
        self.prometheus = prometheus
        self.real: RealStack | None = None
        self.real_prometheus_url = ""
        self.cert: ServerCert | None = None
        self._tmpdir: str | None = None
        self._runners: list[web.AppRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.kube_url = self.prom_url = self.alertmanager_url = ""
        self.kubeconfig_path: Path | None = None
        self.addresses: list[tuple[str, int]] = []

    @property
    def namespace(self) -> str:
        return self.scenario.namespace

    @property
    def happenings(self) -> list[Happening]:
        """Responder actions, scripted steps and reactions, in order."""
        return list(self.engine.log)

    async def start(self) -> None:
        try:
            await self._start()
        except OSError as e:  # a port, the temp dir, the kubeconfig path
            await self.stop()
            raise DrillStartError(f"the drill world did not start: {e}") from e
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        self.clock = WorldClock(self.speed, self._start_time, self.wall_timestamps)
        self.scheduler = Scheduler(self.clock)
        self.cluster = Cluster(
            self.scenario,
            self.clock,
            self.scheduler,
            history_size=self.history_size,
            extra_pods=self.extra_pods,
        )
        self.cluster.populate()
        self.engine = Engine(self.scenario, self.cluster, self.clock, self.scheduler)
        self.stopping = asyncio.Event()
        tokens = {self.token: User(self.admin_user, False)}
        if self.read_only_token:
            tokens[self.read_only_token] = User(self.read_only_user, True)
        self.kube = KubeServer(
            self.cluster, tokens, bookmark_interval=self.bookmark_interval, stopping=self.stopping
        )
        self.prom = PromServer(self.engine, self.clock)
        self.am = AlertmanagerServer(self.engine, self.clock, self.prom)
        self._tmpdir = tempfile.mkdtemp(prefix="warroom-drill-")
        if self.tls:
            try:
                self.cert = make_server_cert(Path(self._tmpdir) / "tls")
            except TLSUnavailable as e:  # the Python clients still work over plain HTTP
                log.warning("drill API server without TLS (kubectl will not send tokens): %s", e)
        ctx = self.cert.server_context() if self.cert else None
        self.kube_url = self.kube.url = await self._serve(self.kube.app(), ctx)
        # the `kubernetes` Service's endpoint is this API server, as on a real cluster
        self.cluster.endpoints.set_apiserver(*self.addresses[-1])
        if self.prometheus == "real":
            await self._serve_real_prometheus()
        else:
            self.prom_url = self.prom.url = await self._serve(self.prom.app())
            self.alertmanager_url = self.am.url = await self._serve(self.am.app())
            self.prom.alertmanager_url = self.alertmanager_url
        self.kubeconfig_path = self._write_kubeconfig()
        self.engine.start()
        self._tasks.append(asyncio.create_task(self.scheduler.run(), name="drill-scheduler"))

    async def _serve_real_prometheus(self) -> None:
        assert self._tmpdir is not None
        exporter = await self._serve(exporter_app(self.prom.catalog, self.engine))
        self.real = RealStack(self.prom.catalog, self.engine, Path(self._tmpdir) / "real")
        await self.real.start(exporter.removeprefix("http://"))
        front = RealFront(self.prom.catalog, self.real.prometheus_url)
        self.prom_url = front.url = await self._serve(front.app())
        self.alertmanager_url = self.real.alertmanager_url
        self.real_prometheus_url = self.real.prometheus_url

    async def _serve(self, app: web.Application, ssl_context: ssl.SSLContext | None = None) -> str:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        await runner.setup()
        self._runners.append(runner)
        site = web.TCPSite(runner, HOST, 0, ssl_context=ssl_context)
        await site.start()
        host, port = runner.addresses[-1][:2]
        self.addresses.append((host, port))
        return f"{'https' if ssl_context else 'http'}://{HOST}:{port}"

    def _write_kubeconfig(self) -> Path:
        assert self._tmpdir is not None
        path = self._kubeconfig_arg or Path(self._tmpdir) / "kubeconfig"
        cfg = kubeconfig_dict(
            self.kube_url,
            self.token,
            self.namespace,
            self.read_only_token,
            self.read_only_user,
            ca_pem=self.cert.ca.read_bytes() if self.cert else None,
        )
        return write_kubeconfig(path, cfg)

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client context trusting the drill's CA (None without TLS)."""
        return self.cert.client_context() if self.cert else None

    async def stop(self) -> None:
        if hasattr(self, "stopping"):
            self.stopping.set()
        if hasattr(self, "cluster"):
            self.cluster.store.close_watches()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.real is not None:
            await asyncio.to_thread(self.real.stop)
            self.real = None
        await asyncio.gather(*(r.cleanup() for r in self._runners), return_exceptions=True)
        self._runners.clear()
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    async def __aenter__(self) -> DrillWorld:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class DrillHandle:
    """A DrillWorld running on its own loop in a daemon thread."""

    def __init__(
        self,
        world: DrillWorld,
        loop: asyncio.AbstractEventLoop,
        thread: threading.Thread,
        done: asyncio.Event,
    ) -> None:
        self.world, self._loop, self._thread, self._done = world, loop, thread, done

    def __getattr__(self, name: str) -> Any:
        # kube_url, prom_url, alertmanager_url, kubeconfig_path, token, scenario, ...
        return getattr(self.world, name)

    def call(self, fn: Callable[..., T], *args: Any, timeout: float = 10.0) -> T:
        """Run a plain function on the world's loop (the only thread that may touch it)."""

        async def run() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._done.set)
            self._thread.join(timeout)

    def __enter__(self) -> DrillHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_in_thread(
    scenario: str | Path | Scenario = "crashloop-after-deploy",
    speed: float = 1.0,
    *,
    start_timeout: float = START_TIMEOUT,
    **kwargs: Any,
) -> DrillHandle:
    """Start a DrillWorld in a background thread; returns once its servers listen.

    Bad input raises ScenarioError at once, from this thread; a world that fails to start
    raises its error (DrillStartError for ports and files) as soon as it fails."""
    world = DrillWorld(scenario, speed=speed, **kwargs)
    started: concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, asyncio.Event]]
    started = concurrent.futures.Future()

    async def main() -> None:
        done = asyncio.Event()
        try:
            await world.start()
        except BaseException as e:
            started.set_exception(e)
            return
        started.set_result((asyncio.get_running_loop(), done))
        try:
            await done.wait()
        finally:
            await world.stop()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as e:
            if started.done():
                raise  # a failure while running or stopping: the thread reports it
            started.set_exception(e)
        finally:
            if not started.done():  # never leave the caller waiting for a world that is gone
                started.set_exception(DrillStartError("the drill world's thread ended early"))

    thread = threading.Thread(target=run, name="warroom-drill", daemon=True)
    thread.start()
    try:
        loop, done = started.result(timeout=start_timeout)
    except concurrent.futures.TimeoutError:
        raise DrillStartError(f"the drill world did not start within {start_timeout:g} s") from None
    return DrillHandle(world, loop, thread, done)
