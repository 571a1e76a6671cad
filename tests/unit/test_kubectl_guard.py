"""Drill-script kubectl steps are sandboxed (issue #23): flags that reach another cluster or
identity are refused when the script is read, naming file and line; in read-only mode only
reading verbs pass; KUBECONFIG and other KUBE* variables never reach kubectl."""

from __future__ import annotations

import pytest

from warroom.drill.kubectl_guard import kubectl_env, kubectl_problem, read_only_problem
from warroom.drill.script import ScriptError, check_read_only, parse_script

SOURCE = "f.yaml"

FORBIDDEN = [
    "--kubeconfig OTHER.yaml -n shop delete pod x",
    "--kubeconfig=OTHER.yaml get pods",
    "get pods --context prod",
    "get pods --context=prod",
    "get pods --cluster prod",
    "get pods --server https://10.0.0.1:6443",
    "get pods --server=https://10.0.0.1:6443",
    "get pods -s https://10.0.0.1:6443",
    "get pods -s=https://10.0.0.1:6443",
    "get pods -shttps://10.0.0.1:6443",
    "get pods --token abc",
    "get pods --token=abc",
    "get pods --user admin",
    "get pods --as system:admin",
    "get pods --as=system:admin",
    "get pods --as-group system:masters",
    "get pods --username admin --password pw",
    "get pods --password=pw",
    "get pods --certificate-authority /etc/ca.pem",
    "get pods --client-certificate c.pem",
    "get pods --client-key=k.pem",
    "get pods --insecure-skip-tls-verify",
    "get pods --insecure-skip-tls-verify=true",
]


def script(args: str) -> str:
    return f'steps:\n  - {{at: 1s, do: ack}}\n  - {{at: 2s, do: "kubectl {args}"}}\n'


@pytest.mark.parametrize("args", FORBIDDEN)
def test_flags_that_leave_the_drill_cluster_are_refused_with_file_and_line(args: str) -> None:
    with pytest.raises(ScriptError) as e:
        parse_script(script(args), SOURCE)
    msg = str(e.value)
    assert msg.startswith(f"{SOURCE}:3: steps[1].do: ") and "not allowed" in msg, msg
    assert "\n" not in msg


@pytest.mark.parametrize(
    "args",
    [
        "get pods -n shop",
        "-n shop get pods -o wide",
        "scale deployment/inventory --replicas=4",
        "delete pod redis-cart-0 --grace-period=0 --force",
        "exec -it web-1 -- sh -c 'curl -s --server x'",  # after --: the pod's command
        "logs -p web-1 -c app --since=5m",
        "get pods -l app=web --sort-by=.metadata.name",
    ],
)
def test_drill_cluster_arguments_pass(args: str) -> None:
    parse_script(script(args), SOURCE)
    assert kubectl_problem(args.split()) is None


MUTATING = [
    "delete pod x",
    "-n shop delete pod x",
    "scale deployment/web --replicas=0",
    "rollout restart deployment/web",
    "rollout undo deployment/web",
    "edit deployment/web",
    "patch deployment web -p {}",
    "apply -f x.yaml",
    "create namespace x",
    "replace -f x.yaml",
    "label pod x a=b",
    "annotate pod x a=b",
    "cordon node-1",
    "uncordon node-1",
    "drain node-1",
    "taint nodes node-1 k=v:NoSchedule",
    "exec web-1 -- ls",
    "cp web-1:/etc/passwd /tmp/p",
    "set image deployment/web app=x:2",
    "run shell --image=busybox",
    "expose deployment web --port=80",
    "autoscale deployment web --max=5",
    "auth reconcile -f rbac.yaml",
    "config use-context other",
    "some-plugin do-things",
]


@pytest.mark.parametrize("args", MUTATING)
def test_read_only_refuses_verbs_that_change_the_cluster(args: str) -> None:
    parsed = parse_script(script(args), SOURCE)
    with pytest.raises(ScriptError) as e:
        check_read_only(parsed)
    msg = str(e.value)
    assert msg.startswith(f"{SOURCE}:3: steps[1].do: kubectl ") and "read-only" in msg, msg


@pytest.mark.parametrize(
    "args",
    [
        "get pods -A",
        "-n shop describe pod web-1",
        "logs web-1 --previous",
        "top pods",
        "rollout status deployment/web",
        "rollout history deployment/web",
        "auth can-i delete pods",
        "events -n shop",
        "version",
    ],
)
def test_read_only_lets_reads_through(args: str) -> None:
    check_read_only(parse_script(script(args), SOURCE))
    assert read_only_problem(args.split()) is None


def test_environment_loses_kubeconfig_and_every_kube_variable() -> None:
    env = {
        "PATH": "/usr/bin",
        "HOME": "/home/ann",
        "KUBECONFIG": "/home/ann/.kube/prod",
        "KUBE_EDITOR": "vim",
        "KUBECTL_EXTERNAL_DIFF": "diff",
        "kubeconfig": "x",
    }
    assert kubectl_env(env) == {"PATH": "/usr/bin", "HOME": "/home/ann"}
