"""What a drill script's `kubectl` step may run: the drill cluster only, and reads only in
read-only mode.

The step runs the real kubectl with the drill's own `--kubeconfig`. A flag that picks another
cluster or identity (`--kubeconfig`, `--context`, `--server`, `--token`, `--as`...) would send the
step to a real cluster, so it is refused when the script is read, naming the file and line;
KUBECONFIG and every other KUBE* variable are cleared from kubectl's environment. In read-only
mode only the verbs that read are allowed (a whitelist: a verb we do not know is refused).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["kubectl_env", "kubectl_problem", "read_only_problem"]

# Long flags that choose the cluster, the user or the credentials (kubectl's global flags).
FORBIDDEN = frozenset(
    {
        "--kubeconfig",
        "--context",
        "--cluster",
        "--server",
        "--token",
        "--user",
        "--as",
        "--as-group",
        "--as-uid",
        "--username",
        "--password",
        "--certificate-authority",
        "--insecure-skip-tls-verify",
        "--tls-server-name",
        "--cache-dir",  # discovery cached from another cluster
    }
)
FORBIDDEN_PREFIXES = ("--client-",)  # --client-certificate, --client-key
# Shorthands that take a value: a cluster of shorthands ends at the first of them (-nshop).
_SHORT_VALUE = frozenset("noflcpkLvs")
# Flags whose value is the next word (so that word is not taken for the verb).
_VALUE_FLAGS = frozenset(
    {"-n", "--namespace", "--request-timeout", "-v", "--v", "--vmodule", "--log-file", "--profile"}
)
# In read-only mode: verbs (and for some, subcommands) that only read.
READ_VERBS: dict[str, frozenset[str] | None] = {
    "get": None,
    "describe": None,
    "logs": None,
    "top": None,
    "explain": None,
    "events": None,
    "api-resources": None,
    "api-versions": None,
    "version": None,
    "cluster-info": None,
    "wait": None,
    "diff": None,
    "help": None,
    "auth": frozenset({"can-i", "whoami"}),
    "rollout": frozenset({"status", "history"}),
    "config": frozenset({"view", "current-context", "get-contexts", "get-clusters"}),
}


def _flag_problem(arg: str) -> str | None:
    if arg.startswith("--"):
        name = arg.split("=", 1)[0]
        if name in FORBIDDEN or name.startswith(FORBIDDEN_PREFIXES):
            return f"{name} is not allowed: a drill step runs only against the drill cluster"
        return None
    for c in arg[1:].split("=", 1)[0]:  # -s, -sURL, -is: pflag reads shorthands in a row
        if c == "s":
            return "-s (--server) is not allowed: a drill step runs only against the drill cluster"
        if c in _SHORT_VALUE:
            break
    return None


def kubectl_problem(argv: Sequence[str]) -> str | None:
    """Why these kubectl arguments may not run in a drill, or None."""
    for arg in argv:
        if arg == "--":  # the rest is the command `kubectl exec` runs in the pod
            break
        if arg.startswith("-") and len(arg) > 1:
            problem = _flag_problem(arg)
            if problem:
                return problem
    return None


def _words(argv: Sequence[str]) -> list[str]:
    """The positional words before `--` (verb, subcommand, names), flags and their values out."""
    words: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--":
            break
        elif arg.startswith("-") and len(arg) > 1:
            skip = "=" not in arg and arg in _VALUE_FLAGS
        else:
            words.append(arg)
    return words


def read_only_problem(argv: Sequence[str]) -> str | None:
    """Why these arguments may not run in read-only mode (they change the cluster), or None."""
    words = _words(argv)
    if not words:
        return None  # plain `kubectl`: prints its help
    verb = words[0]
    if verb not in READ_VERBS:
        return f"kubectl {verb} may change the cluster: refused in read-only mode"
    subs = READ_VERBS[verb]
    if subs is not None and (len(words) < 2 or words[1] not in subs):
        what = f"kubectl {verb} {words[1] if len(words) > 1 else ''}".rstrip()
        return f"{what} may change the cluster: refused in read-only mode"
    return None


def kubectl_env(environ: Mapping[str, str]) -> dict[str, str]:
    """kubectl's environment: ours without KUBECONFIG and the other KUBE* variables."""
    return {k: v for k, v in environ.items() if not k.upper().startswith("KUBE")}
