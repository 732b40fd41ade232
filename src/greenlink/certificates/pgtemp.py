"""A throwaway PostgreSQL cluster for tests and benchmarks (``initdb`` + ``pg_ctl``).

The server binaries are looked up on ``PATH`` and in ``/usr/lib/postgresql/*/bin``. PostgreSQL
refuses to run as root; when the current user is root, the cluster runs as the ``postgres``
system user (``runuser -u postgres``), which must exist (it does wherever the Debian/Ubuntu
``postgresql`` package is installed). The cluster listens on 127.0.0.1 on a free port, with
``fsync=off`` (a test cluster: speed over durability) and trust authentication.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def available() -> bool:
    """Whether a cluster can be started here (binaries present; a non-root user if root)."""
    if not (find_bin("initdb") and find_bin("pg_ctl")):
        return False
    if os.geteuid() == 0:
        return shutil.which("runuser") is not None and _user_exists("postgres")
    return True


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def throwaway_cluster(*, max_connections: int = 100) -> Iterator[str]:
    """Start a cluster in a temporary folder; yield its SQLAlchemy URL; stop and delete it."""
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if not (initdb and pg_ctl):
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    root = Path(tempfile.mkdtemp(prefix="greenlink-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        import pwd

        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    try:
        subprocess.run([*prefix, initdb, "-D", str(data), "-U", "greenlink", "-A", "trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True, env=env)
        opts = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c synchronous_commit=off -c full_page_writes=off "
                f"-c max_connections={max_connections}")
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-o", opts, "-l",
                        str(root / "log"), "-w", "start"], check=True, capture_output=True,
                       env=env)
        try:
            yield f"postgresql+psycopg://greenlink@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True, env=env)
    finally:
        shutil.rmtree(root, ignore_errors=True)
