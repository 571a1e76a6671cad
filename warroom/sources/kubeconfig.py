"""Which cluster, context and namespace kubectl would use: the kubeconfig read with PyYAML
(no client import), so the console knows its context at once.

Like kubectl: --kubeconfig, else $KUBECONFIG (a path list, first file wins per name), else
~/.kube/config, else the in-cluster service account.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class KubeConfigError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class KubeTarget:
    config_file: str | None  # a path or a KUBECONFIG path list; None when in-cluster
    context: str
    server: str
    namespace: str  # the context's namespace ("default" when it names none)
    in_cluster: bool = False


def _named(items: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for it in items or []:
        if isinstance(it, dict) and it.get("name") and it["name"] not in out:
            out[str(it["name"])] = it
    return out


def resolve_target(
    kubeconfig: str | None = None,
    context: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> KubeTarget:
    """Which cluster, context and namespace kubectl would use (KubeConfigError otherwise)."""
    env = os.environ if env is None else env
    if kubeconfig:
        if not Path(kubeconfig).expanduser().is_file():
            raise KubeConfigError(f"kubeconfig {kubeconfig} does not exist")
        paths, spec = [Path(kubeconfig).expanduser()], kubeconfig
    elif env.get("KUBECONFIG"):
        spec = env["KUBECONFIG"]
        paths = [Path(p).expanduser() for p in spec.split(os.pathsep) if p]
        paths = [p for p in paths if p.is_file()]
    else:
        default = (home or Path.home()) / ".kube" / "config"
        paths, spec = ([default] if default.is_file() else []), str(default)
    if not paths:
        if env.get("KUBERNETES_SERVICE_HOST") and env.get("KUBERNETES_SERVICE_PORT"):
            return _in_cluster(env)
        raise KubeConfigError(
            f"no kubeconfig found (looked at {spec}); set KUBECONFIG or use --kubeconfig"
        )
    clusters: dict[str, dict[str, Any]] = {}
    contexts: dict[str, dict[str, Any]] = {}
    current = ""
    for p in paths:  # kubectl's merge: the first file to define a name wins
        try:
            doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise KubeConfigError(f"kubeconfig {p}: {e}") from None
        if not isinstance(doc, dict):
            raise KubeConfigError(f"kubeconfig {p}: not a mapping")
        for k, v in _named(doc.get("clusters")).items():
            clusters.setdefault(k, v)
        for k, v in _named(doc.get("contexts")).items():
            contexts.setdefault(k, v)
        current = current or str(doc.get("current-context") or "")
    name = context or current
    if not name:
        raise KubeConfigError("current-context is not set in the kubeconfig; pass --context")
    if name not in contexts:
        raise KubeConfigError(f'context "{name}" not found in the kubeconfig')
    ctx = contexts[name].get("context") or {}
    cluster = (clusters.get(str(ctx.get("cluster") or "")) or {}).get("cluster") or {}
    if not cluster.get("server"):
        raise KubeConfigError(f'context "{name}": cluster "{ctx.get("cluster")}" has no server')
    return KubeTarget(spec, name, str(cluster["server"]), str(ctx.get("namespace") or "default"))


def _in_cluster(env: Mapping[str, str]) -> KubeTarget:
    host, port = env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        ns = (SA_DIR / "namespace").read_text().strip() or "default"
    except OSError:
        ns = "default"
    return KubeTarget(None, "in-cluster", f"https://{host}:{port}", ns, in_cluster=True)
