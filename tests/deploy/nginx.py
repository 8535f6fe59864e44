"""The production nginx.conf, run by Debian's nginx in a test: only what ties it to
Docker is rewritten (listen ports, certificate paths, the resolver, the upstreams'
ports), each rewrite checked to apply, so the config under test is the shipped one.

Upstream names stay names: a small DNS server (`Names`) answers them, so the test
sees nginx resolve them at request time, as Docker's DNS does in production.
"""

from __future__ import annotations

import datetime
import os
import signal
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.deploy.tools import DEPLOY, run, tool

CONFIG = DEPLOY / "nginx" / "nginx.conf"
UPSTREAMS = ("events", "content", "analytics")


def rewritten(text: str, replacements: Mapping[str, str]) -> str:
    for old, new in replacements.items():
        assert text.count(old) == 1, f"nginx.conf no longer has exactly one {old!r}"
        text = text.replace(old, new)
    return text


def temp_paths(directory: Path) -> str:
    """nginx's own scratch directories, inside the test's (Debian's are root's)."""
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    return "".join(f"    {kind}_temp_path {directory / kind};\n" for kind in kinds)


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path


def self_signed(directory: Path) -> Tls:
    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ugc.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    tls = Tls(directory / "cert.pem", directory / "key.pem")
    tls.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return tls


def with_tls(text: str, tls: Tls) -> str:
    return rewritten(
        text, {"/etc/nginx/tls/cert.pem": str(tls.cert), "/etc/nginx/tls/key.pem": str(tls.key)}
    )


def globals_for(directory: Path) -> str:
    """`-g` directives: where the pid and the startup log go; root workers when the
    tests run as root (so they can use the test's directories)."""
    user = "user root; " if os.geteuid() == 0 else ""
    return f"{user}pid {directory / 'nginx.pid'}; error_log {directory / 'error.log'};"


def check(text: str, directory: Path) -> str:
    """`nginx -t` of a config: what nginx printed."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "nginx.conf"
    path.write_text(text)
    return run(tool("nginx"), "-t", "-p", directory, "-c", path, "-g", globals_for(directory))


class Names:
    """A DNS server for A records on a UDP port of 127.0.0.1; `answers` (a name's
    address, or several joined by commas) may change."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers
        self.asked: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Names:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._socket.close()

    def _serve(self) -> None:
        while True:
            try:
                query, client = self._socket.recvfrom(512)
            except OSError:
                return
            self._socket.sendto(self._answer(query), client)

    def _answer(self, query: bytes) -> bytes:
        labels, at = [], 12
        while query[at]:
            labels.append(query[at + 1 : at + 1 + query[at]].decode())
            at += 1 + query[at]
        question = query[12 : at + 5]
        kind = struct.unpack("!H", query[at + 1 : at + 3])[0]
        name = ".".join(labels).lower()
        self.asked.append(name)
        # "a,b": a name with several A records, as Docker's DNS answers for replicas.
        addresses = [a for a in self.answers.get(name, "").split(",") if a]
        flags = 0x8180 if addresses else 0x8183  # an answer, or NXDOMAIN
        found = addresses if kind == 1 else []
        header = query[:2] + struct.pack("!HHHHH", flags, 1, len(found), 0, 0)
        records = b"".join(
            struct.pack("!HHHIH", 0xC00C, 1, 1, 1, 4) + socket.inet_aton(address)
            for address in found
        )
        return header + question + records


@dataclass(frozen=True)
class Edge:
    http: str
    https: str
    access_log: Path
    error_log: Path


def edge_config(
    directory: Path, tls: Tls, names: Names, ports: Mapping[str, int], http: int, https: int
) -> str:
    upstreams = {f"set ${u} {u}:8000;": f"set ${u} {u}:{ports[u]};" for u in UPSTREAMS}
    # Port 80's health check asks the events API too.
    upstreams["set $events_ready events:8000;"] = f"set $events_ready events:{ports['events']};"
    text = rewritten(
        CONFIG.read_text(),
        {
            "listen 80;": f"listen 127.0.0.1:{http};",
            "listen 443 ssl;": f"listen 127.0.0.1:{https} ssl;",
            # Docker's DNS there, the test's here; re-resolved each second, not ten.
            "resolver 127.0.0.11 valid=10s": f"resolver 127.0.0.1:{names.port} valid=1s",
            "access_log /dev/stdout ugc_json;": f"access_log {directory / 'access.log'} ugc_json;",
            "error_log /dev/stderr warn;": f"error_log {directory / 'error.log'} warn;",
            "http {\n": "http {\n" + temp_paths(directory),
            **upstreams,
        },
    )
    return with_tls(text, tls)


@contextmanager
def running_edge(
    directory: Path, names: Names, ports: Mapping[str, int], free_port: int, other_port: int
) -> Iterator[Edge]:
    """Debian's nginx with the production config in front of the test's servers."""
    directory.mkdir(parents=True, exist_ok=True)
    text = edge_config(directory, self_signed(directory), names, ports, free_port, other_port)
    path = directory / "nginx.conf"
    path.write_text(text)
    process = subprocess.Popen(
        [tool("nginx"), "-p", directory, "-c", path, "-g", f"daemon off; {globals_for(directory)}"],
        stdout=subprocess.DEVNULL,
        stderr=(directory / "stderr.log").open("wb"),
    )
    try:
        deadline = time.monotonic() + 10
        while not all(_listening(p) for p in (free_port, other_port)):
            assert process.poll() is None, (directory / "error.log").read_text()
            assert time.monotonic() < deadline, "nginx did not start listening"
            time.sleep(0.05)
        yield Edge(
            f"http://127.0.0.1:{free_port}",
            f"https://127.0.0.1:{other_port}",
            directory / "access.log",
            directory / "error.log",
        )
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0
