"""SSH signatures the way git signs commits: `ssh-keygen -Y sign` and `-Y verify`.

The key is a private key file, a public key file whose private half ssh-agent holds, or (with
neither named) the first key ssh-agent holds. ssh-keygen never prompts: it runs without a
controlling terminal and without askpass, so an encrypted key outside the agent is one line,
not a passphrase prompt in the middle of the console. Every problem is a SigningError whose
text is the one line the responder sees.

The agent's keys are listed over its socket (the agent protocol's REQUEST_IDENTITIES), and a
signature's key is read from the signature itself (the SSHSIG blob), so only signing and
verifying need a process.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

NAMESPACE = "warroom-checkpoint"
_AGENT_REQUEST_IDENTITIES, _AGENT_IDENTITIES_ANSWER = 11, 12
_KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)


class SigningError(Exception):
    """Signing or verifying could not be done; str() is one line for the responder."""


@dataclass(frozen=True)
class SshTool:
    """How ssh-keygen is run: which binary, which agent, how long it may take."""

    ssh_keygen: str = "ssh-keygen"
    agent_socket: str | None = None
    timeout: float = 10.0

    def run(self, args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "SSH_ASKPASS_REQUIRE": "never"}
        if os.environ.get("HOME"):
            env["HOME"] = os.environ["HOME"]
        if self.agent_socket:
            env["SSH_AUTH_SOCK"] = self.agent_socket
        try:
            return subprocess.run(
                [self.ssh_keygen, *args],
                input=stdin,
                capture_output=True,
                timeout=self.timeout,
                env=env,
                start_new_session=True,  # no controlling terminal: never a passphrase prompt
                check=False,
            )
        except FileNotFoundError:
            raise SigningError(
                f"{self.ssh_keygen} not found: install openssh-client (or set signing.ssh_keygen)"
            ) from None
        except subprocess.TimeoutExpired:
            raise SigningError(f"{self.ssh_keygen} took over {self.timeout:g}s") from None
        except OSError as exc:
            raise SigningError(f"cannot run {self.ssh_keygen}: {exc.strerror or exc}") from None


@dataclass(frozen=True)
class SigningKey:
    public: str  # "ssh-ed25519 AAAA... comment"
    fingerprint: str  # "SHA256:..."
    path: Path | None  # a key file; None: the agent's key, passed to ssh-keygen as a .pub
    source: str  # what the responder is told: "key file ~/.ssh/id_ed25519", "ssh-agent"


def fingerprint(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint of a public key blob."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def public_blob(line: str) -> bytes | None:
    """The key blob of an OpenSSH public key line (options and comments allowed)."""
    words = line.split()
    for i, word in enumerate(words[:-1]):
        if word in _KEY_TYPES:
            try:
                return base64.b64decode(words[i + 1], validate=True)
            except ValueError:
                return None
    return None


def agent_keys(sock_path: str | None, timeout: float = 5.0) -> list[str]:
    """The public keys ssh-agent holds, as OpenSSH lines; SigningError when there is no agent
    or it does not answer (an agent that was stopped, or whose socket went with a session)."""
    if not sock_path:
        raise SigningError("no ssh-agent (SSH_AUTH_SOCK is not set)")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(sock_path)
            s.sendall(struct.pack(">IB", 1, _AGENT_REQUEST_IDENTITIES))
            (length,) = struct.unpack(">I", _recv(s, 4))
            body = _recv(s, length)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise SigningError(f"ssh-agent at {sock_path} does not answer ({reason})") from None
    if not body or body[0] != _AGENT_IDENTITIES_ANSWER:
        raise SigningError(f"ssh-agent at {sock_path} refused to list its keys")
    (count,) = struct.unpack(">I", body[1:5])
    pos, keys = 5, []
    for _ in range(count):
        blob, pos = _string(body, pos)
        comment, pos = _string(body, pos)
        key_type, _ = _string(blob, 0)
        line = f"{key_type.decode()} {base64.b64encode(blob).decode()}"
        keys.append(f"{line} {comment.decode(errors='replace')}".strip())
    return keys


def _recv(s: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ValueError("the agent closed the connection")
        out += chunk
    return out


def _string(buf: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 4 > len(buf):
        raise ValueError("truncated")
    (n,) = struct.unpack(">I", buf[pos : pos + 4])
    end = pos + 4 + n
    if end > len(buf):
        raise ValueError("truncated")
    return buf[pos + 4 : end], end


def find_key(tool: SshTool, key_path: Path | None) -> SigningKey:
    """The configured key (a file), else the agent's first key."""
    if key_path is not None:
        path = key_path.expanduser()
        if not path.is_file():
            raise SigningError(f"signing key {path} does not exist")
        pub = path if path.suffix == ".pub" else path.with_name(path.name + ".pub")
        if pub.is_file():
            line = pub.read_text(encoding="utf-8", errors="replace").strip()
        else:  # a private key alone: ssh-keygen derives its public half (no prompt)
            done = tool.run(["-y", "-f", str(path)])
            if done.returncode != 0:
                raise SigningError(f"cannot read signing key {path}: {_reason(done)}")
            line = done.stdout.decode(errors="replace").strip()
        blob = public_blob(line)
        if blob is None:
            raise SigningError(f"{pub if pub.is_file() else path} is not an SSH public key")
        return SigningKey(line, fingerprint(blob), path, f"key file {path}")
    keys = agent_keys(tool.agent_socket)
    if not keys:
        raise SigningError("ssh-agent holds no keys (expired, or never added: ssh-add)")
    blob = public_blob(keys[0])
    assert blob is not None  # built from the agent's own blob above
    return SigningKey(keys[0], fingerprint(blob), None, "ssh-agent")


def sign(tool: SshTool, key: SigningKey, message: bytes, namespace: str = NAMESPACE) -> str:
    """The armored SSH signature of `message`."""
    with tempfile.TemporaryDirectory(prefix="warroom-sign-") as tmp:
        path = key.path
        if path is None or path.suffix == ".pub":
            # The agent signs: ssh-keygen takes its public half from a file.
            path = Path(tmp) / "key.pub"
            path.write_text(key.public + "\n", encoding="utf-8")
        done = tool.run(["-Y", "sign", "-f", str(path), "-n", namespace], message)
    if done.returncode != 0 or b"BEGIN SSH SIGNATURE" not in done.stdout:
        raise SigningError(f"ssh-keygen could not sign with {key.source}: {_reason(done)}")
    return done.stdout.decode("ascii", errors="replace").strip()


def signature_blob(armored: str) -> tuple[str, bytes]:
    """(namespace, public key blob) of an armored SSH signature; ValueError if malformed."""
    lines = [ln.strip() for ln in armored.strip().splitlines()]
    if len(lines) < 3 or lines[0] != "-----BEGIN SSH SIGNATURE-----":
        raise ValueError("not an SSH signature")
    if lines[-1] != "-----END SSH SIGNATURE-----":
        raise ValueError("not an SSH signature")
    raw = base64.b64decode("".join(lines[1:-1]), validate=True)
    if raw[:6] != b"SSHSIG":
        raise ValueError("not an SSH signature")
    blob, pos = _string(raw, 10)  # after the magic and the version
    namespace, _ = _string(raw, pos)
    return namespace.decode(errors="replace"), blob


def principals_for(allowed_signers: str, blob: bytes) -> list[str]:
    """Principals an allowed_signers text lists for this key (plain key lines)."""
    out = []
    for line in allowed_signers.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if public_blob(line) == blob:
            out.extend(p for p in line.split(None, 1)[0].split(",") if p)
    return out


@dataclass(frozen=True)
class Verdict:
    ok: bool
    principal: str | None  # who allowed_signers says signed, if anyone
    fingerprint: str  # of the key in the signature ("" when unreadable)
    problem: str = ""  # why not ok: "unknown key", "signature does not verify", ...


def verify(
    tool: SshTool,
    allowed_signers: Path,
    signature: str,
    message: bytes,
    namespace: str = NAMESPACE,
) -> Verdict:
    """Whether `signature` is a good signature of `message` by a key allowed_signers lists."""
    try:
        sig_ns, blob = signature_blob(signature)
    except ValueError as exc:
        return Verdict(False, None, "", f"malformed signature ({exc})")
    fp = fingerprint(blob)
    if sig_ns != namespace:
        return Verdict(False, None, fp, f"signed for {sig_ns!r}, not {namespace!r}")
    try:
        text = allowed_signers.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise SigningError(f"cannot read {allowed_signers}: {exc.strerror or exc}") from None
    with tempfile.TemporaryDirectory(prefix="warroom-verify-") as tmp:
        sig = Path(tmp) / "sig"
        sig.write_text(signature + "\n", encoding="ascii", errors="replace")
        principals = principals_for(text, blob)
        if not principals:  # certificate authorities and the like: ssh-keygen knows
            found = tool.run(["-Y", "find-principals", "-s", str(sig), "-f", str(allowed_signers)])
            if found.returncode == 0:
                principals = found.stdout.decode(errors="replace").split()
        if not principals:
            return Verdict(False, None, fp, f"key {fp} is not in {allowed_signers}")
        problem = ""
        for principal in principals:
            args = ["-Y", "verify", "-f", str(allowed_signers), "-I", principal]
            done = tool.run([*args, "-n", namespace, "-s", str(sig)], message)
            if done.returncode == 0:
                return Verdict(True, principal, fp)
            problem = _reason(done)
    return Verdict(False, principals[0], fp, f"signature does not verify ({problem})")


def _reason(done: subprocess.CompletedProcess[bytes]) -> str:
    """The last meaningful line ssh-keygen wrote (its stderr chatter first line is noise)."""
    lines = [
        ln.strip()
        for ln in (done.stderr or b"").decode(errors="replace").splitlines()
        if ln.strip() and not ln.startswith("Signing data on standard input")
    ]
    return lines[-1][:200] if lines else f"exit status {done.returncode}"
