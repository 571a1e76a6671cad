"""A kubeconfig for the drill API server: kubectl and the official clients read it as is."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml

CLUSTER = "warroom-drill"


def kubeconfig_dict(
    server: str,
    token: str,
    namespace: str,
    read_only_token: str | None = None,
    read_only_user: str = "ro",
    ca_pem: bytes | None = None,
) -> dict[str, Any]:
    cluster: dict[str, Any] = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    users = [{"name": f"{CLUSTER}-admin", "user": {"token": token}}]
    contexts = [
        {
            "name": CLUSTER,
            "context": {"cluster": CLUSTER, "user": f"{CLUSTER}-admin", "namespace": namespace},
        }
    ]
    if read_only_token:
        users.append({"name": f"{CLUSTER}-{read_only_user}", "user": {"token": read_only_token}})
        contexts.append(
            {
                "name": f"{CLUSTER}-readonly",
                "context": {
                    "cluster": CLUSTER,
                    "user": f"{CLUSTER}-{read_only_user}",
                    "namespace": namespace,
                },
            }
        )
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": CLUSTER, "cluster": cluster}],
        "users": users,
        "contexts": contexts,
        "current-context": CLUSTER,
    }


def write_kubeconfig(path: Path, config: dict[str, Any]) -> Path:
    """Write with mode 0600 (it holds tokens) through a temp file, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    os.replace(tmp, path)
    return path
