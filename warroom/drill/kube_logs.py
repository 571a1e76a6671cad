"""The pod `log` subresource: current or previous run, tail, since, timestamps, follow."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from warroom.drill.kube_http import ApiError, HandlerBase, Target, int_param, not_found, truthy
from warroom.drill.logs import format_lines, run_lines


class LogHandlers(HandlerBase):
    async def pod_log(self, request: web.Request, t: Target) -> web.StreamResponse:
        e = self._entry(t)
        sim = self.c.kubelet.pods.get((t.namespace or "", t.name or ""))
        if sim is None:
            raise not_found(t)
        q = request.query
        names = [c["name"] for c in e.obj["spec"]["containers"]]
        cname = q.get("container")
        if not cname:
            default = (e.obj["metadata"].get("annotations") or {}).get(
                "kubectl.kubernetes.io/default-container"
            )
            if len(names) == 1 or default in names:
                cname = default if default in names else names[0]
            else:
                raise ApiError(
                    400,
                    "BadRequest",
                    f"a container name must be specified for pod {t.name}, "
                    f"choose one of: [{' '.join(names)}]",
                )
        c = next((x for x in sim.containers if x.name == cname), None)
        if c is None:
            raise ApiError(400, "BadRequest", f"container {cname} is not valid for pod {t.name}")
        previous = truthy(q.get("previous"))
        if previous:
            run = c.last
            if run is None:
                raise ApiError(
                    400,
                    "BadRequest",
                    f'previous terminated container "{cname}" in pod "{t.name}" not found',
                )
        elif c.state in ("running", "terminated"):
            run = c.run
        elif c.last is not None:
            run = c.last
        else:
            raise ApiError(
                400,
                "BadRequest",
                f'container "{cname}" in pod "{t.name}" is waiting to start: {c.waiting_reason}',
            )
        assert run is not None
        tail = int_param(q, "tailLines")
        since = int_param(q, "sinceSeconds")
        limit = int_param(q, "limitBytes")
        timestamps = truthy(q.get("timestamps"))
        follow = truthy(q.get("follow")) and run.finished is None and not previous
        clock = self.c.clock
        base = {
            "pod": sim.name,
            "container": c.name,
            "node": sim.node or "",
            "namespace": sim.namespace,
            "image": c.image,
            "version": c.image.rsplit(":", 1)[-1] if ":" in c.image else "latest",
        }
        profile = self.c.logs.get(c.profile or "")

        def lines_until(end: float) -> list[tuple[float, str]]:
            finished = run.finished is not None
            return run_lines(
                profile,
                seed=f"{sim.uid}/{c.name}/{run.id}",
                start=run.started,
                end=run.finished if finished else end,
                crashed=finished and run.reason not in ("Completed", ""),
                base=base,
                at=clock.at,
            )

        now = clock.elapsed()
        lines = lines_until(now)
        if since is not None:
            lines = [x for x in lines if x[0] >= now - since]
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        body = format_lines(lines, clock.at, timestamps=timestamps)
        if limit is not None:
            body = body[:limit]
        if not follow:
            return web.Response(body=body, content_type="text/plain")
        resp = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        sent = len(body)
        last_t = lines[-1][0] if lines else now
        try:
            await resp.write(body)
            while not self.stopping.is_set() and (limit is None or sent < limit):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), 0.25)
                if self.stopping.is_set() or sim.gone:
                    break
                new = [x for x in lines_until(clock.elapsed()) if x[0] > last_t]
                if new:
                    chunk = format_lines(new, clock.at, timestamps=timestamps)
                    if limit is not None:
                        chunk = chunk[: limit - sent]
                    await resp.write(chunk)
                    sent += len(chunk)
                    last_t = new[-1][0]
                if run.finished is not None:
                    break
            await resp.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return resp
