"""A real OpenSSH server on 127.0.0.1 for tests: its own host key, one authorised client key, SFTP.

Nothing of the machine's SSH setup is touched: keys, config, authorized_keys, pid file and log all
live in a temporary folder; only /run/sshd (the privilege separation folder sshd insists on) is
created if missing. `.ci/run` installs openssh-server; without it the tests skip.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
NOT_INSTALLED = "openssh-server not installed (.ci/run installs it)"


def unavailable_reason() -> str | None:
    """Why a real sshd cannot run here, or None."""
    if not SSHD.is_file() or shutil.which("ssh-keygen") is None:
        return NOT_INSTALLED
    if os.geteuid() != 0:
        return "sshd tests run as root (sshd needs root to start sessions for the test user)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path, kind: str = "ed25519", comment: str = "contactqa-test", passphrase: str = "") -> Path:
    """A key pair at `path` and `path`.pub (no passphrase unless given)."""
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C", comment, "-f", str(path)],
                   check=True, stdin=subprocess.DEVNULL, capture_output=True)
    return path


class SshServer:
    """`with SshServer(folder) as server:` runs sshd -D until the block ends."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.user = getpass.getuser()
        self.host_key = keygen(self.folder / "ssh_host_ed25519_key", comment="host")
        self.client_key = keygen(self.folder / "client_key", comment="authorised")
        self.authorized_keys = self.folder / "authorized_keys"
        self.authorized_keys.write_text(Path(f"{self.client_key}.pub").read_text())
        self.config = self.folder / "sshd_config"
        self.log = self.folder / "sshd.log"
        self.process: subprocess.Popen | None = None

    def write_config(self) -> None:
        self.config.write_text("\n".join([
            f"Port {self.port}",
            "ListenAddress 127.0.0.1",
            f"HostKey {self.host_key}",
            f"PidFile {self.folder / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password",
            f"AllowUsers {self.user}",
            "UsePAM no",
            "StrictModes no",
            "X11Forwarding no",
            "AllowTcpForwarding no",
            "PrintMotd no",
            "Subsystem sftp internal-sftp",
            "LogLevel VERBOSE",
            "",
        ]))

    def start(self, timeout: float = 10.0) -> "SshServer":
        Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
        self.write_config()
        check = subprocess.run([str(SSHD), "-t", "-f", str(self.config)], capture_output=True, text=True)
        if check.returncode:
            raise RuntimeError(f"sshd rejected its test config: {check.stderr.strip()}")
        log = self.log.open("wb")
        self.process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(self.config)],
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.settimeout(2)
                    if s.recv(64).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"sshd did not accept connections on 127.0.0.1:{self.port} within {timeout} s:\n"
                           f"{self.log_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def url(self, path: Path | str) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{path}"

    def __enter__(self) -> "SshServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
