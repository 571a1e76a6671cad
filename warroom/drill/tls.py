"""A throwaway CA and server certificate for 127.0.0.1, made with the openssl CLI.

Why TLS on loopback: kubectl (clientcmd) sends a kubeconfig's bearer token only over TLS, so
the drill API server speaks HTTPS and the kubeconfig carries this CA.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

_EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
_SERVER_EXT = """\
subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth
keyUsage=critical,digitalSignature
basicConstraints=critical,CA:FALSE
authorityKeyIdentifier=keyid
subjectKeyIdentifier=hash
"""


class TLSUnavailable(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class ServerCert:
    ca: Path
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))


def _run(args: list[str], cwd: Path) -> None:
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=30, check=False)
    if r.returncode != 0:
        raise TLSUnavailable(f"openssl failed: {' '.join(args[:3])}: {r.stderr.strip()}")


def make_server_cert(directory: Path, days: int = 7) -> ServerCert:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise TLSUnavailable("the openssl command is needed to make the drill's certificate")
    d = directory
    d.mkdir(parents=True, exist_ok=True)
    (d / "server.ext").write_text(_SERVER_EXT)
    _run(
        [
            openssl,
            "req",
            "-x509",
            *_EC,
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            str(days),
            "-subj",
            "/CN=warroom-drill-ca",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
        d,
    )
    _run(
        [
            openssl,
            "req",
            "-new",
            *_EC,
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
        d,
    )
    _run(
        [
            openssl,
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            str(days),
            "-extfile",
            "server.ext",
        ],
        d,
    )
    for name in ("ca.key", "server.key"):
        (d / name).chmod(0o600)
    return ServerCert(d / "ca.crt", d / "server.crt", d / "server.key")
