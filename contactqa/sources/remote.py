"""Pull a source's export files from where they are: SFTP, S3, HTTP(S) or any other fsspec URL.

A source's `location` is either a local folder (ingest reads it in place) or a URL; `pull` copies the
URL's files matching the source's glob into a cache folder, and ingest reads the copies:

    sftp://user@host:port/absolute/path   fsspec's SFTP (paramiko); the path is absolute on the server
    s3://bucket/prefix                    s3fs (not installed by default: pip install s3fs)
    https://host/exports/                 an HTTP directory listing (the page's links), or
    https://host/exports/cdr.csv          a single file (the glob is not applied to a single-file URL)
    file:///data/exports, memory://, gs://, ...   any other fsspec filesystem that is installed

Credentials come from the environment, never from contactqa.yml (a location holding a password is
refused). Per-source variables, CONTACTQA_<SOURCE>_... with the source name upper-cased and `-`
turned into `_`, replace the protocol-wide ones as a set when any of them is set:

    SFTP   CONTACTQA_<SOURCE>_PASSWORD | CONTACTQA_SFTP_PASSWORD
           CONTACTQA_<SOURCE>_KEY_FILE | CONTACTQA_SFTP_KEY_FILE      (a private key file)
           CONTACTQA_<SOURCE>_KEY_PASSPHRASE | CONTACTQA_SFTP_KEY_PASSPHRASE
           CONTACTQA_<SOURCE>_USER | CONTACTQA_SFTP_USER               (when the URL has no user@)
           none set: the SSH agent and ~/.ssh/id_* are tried, as `ssh` would
    HTTP   CONTACTQA_<SOURCE>_TOKEN | CONTACTQA_HTTP_TOKEN              (Authorization: Bearer)
           CONTACTQA_<SOURCE>_USER + _PASSWORD | CONTACTQA_HTTP_USER + CONTACTQA_HTTP_PASSWORD (basic)
    S3     AWS's own: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, ...

SSH host keys are trusted on first use, like `ssh -o StrictHostKeyChecking=accept-new`: a host seen
for the first time has its key recorded in `<cache_dir>/known_hosts` (or the file named by
CONTACTQA_SFTP_KNOWN_HOSTS); afterwards a different key is refused as a possible man in the middle.
Keys already in ~/.ssh/known_hosts are honoured too (read only). CONTACTQA_SFTP_HOST_KEYS=strict (or
`host_keys="strict"`) refuses hosts not already known: put their key in one of those files first,
e.g. `ssh-keyscan -p PORT HOST >> <cache_dir>/known_hosts` after checking the fingerprint.

Copies land in `<cache_dir>/<source name>/<path below the location>`, written to a hidden `.part`
file, flushed and renamed, so a killed pull never leaves a half file under the real name. A copy
carries the remote file's mtime, and a file whose remote size and mtime equal its copy's is not
fetched again. A file that changes while it is fetched (an export still being written) is left for
the next pull.
"""

from __future__ import annotations

import base64
import email.utils
import errno
import getpass
import hashlib
import html
import importlib.util
import logging
import os
import posixpath
import re
import shutil
import socket
import ssl
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any, Callable

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 20.0
HOST_KEY_MODES = ("accept-new", "strict")
# fsspec protocols whose implementation lives in a separate package.
PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs",
            "abfss": "adlfs", "adl": "adlfs", "oci": "ocifs", "webdav": "webdav4", "hdfs": "pyarrow",
            "smb": "smbprotocol", "dropbox": "dropboxdrivefs", "gdrive": "gdrivefs"}

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+)://")
_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.IGNORECASE)
_MAX_LISTING_BYTES = 32 << 20
_MAX_DEPTH = 32
_STALE_PART_S = 24 * 3600


class RemoteSourceError(RuntimeError):
    """A source's location could not be read: the message names the source, the location and the fix."""


@dataclass(frozen=True)
class PulledFile:
    """One remote file and its copy in the cache."""

    local_path: Path  # the copy, under <cache_dir>/<source name>/
    remote_uri: str  # where it came from, for people and the ingest ledger: never holds a secret
    size: int
    mtime: datetime | None = None  # the remote modification time (UTC), when the server tells it
    downloaded: bool = False  # fetched by this pull (False: the cached copy was already current)


def is_remote(location: str) -> bool:
    """True for a URL (`scheme://...`, file:// included): such a location is read through `pull`.

    Anything else is a local folder. Windows drive letters (`C:\\exports`) are not schemes.
    """
    return bool(_URL.match(location.strip()))


def pull(source_name: str, location: str, glob: str, cache_dir: Path, *,
         known: Callable[[str], bool] | None = None, host_keys: str | None = None,
         known_hosts: Path | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> list[PulledFile]:
    """Copy the location's files matching `glob` into the cache; return them sorted by path.

    `glob` is matched against the path below the location, as pathlib does: `*.csv` (top level
    only), `2026-*/*.csv`, `**/*.jsonl` (any depth, top level included). `known(remote_uri)` returning
    True skips a file (already ingested) without fetching it; skipped files are not returned.
    `host_keys` ("accept-new" | "strict") and `known_hosts` override CONTACTQA_SFTP_HOST_KEYS and
    CONTACTQA_SFTP_KNOWN_HOSTS. Raises RemoteSourceError for anything a user must fix.
    """
    location = os.path.expandvars(location.strip())
    if not is_remote(location):
        raise RemoteSourceError(f"source {source_name!r}: {location!r} is not a URL; local folders are read in place")
    cache_dir = Path(cache_dir)
    root = cache_dir / _cache_name(source_name)
    pattern = _pattern(source_name, glob)
    remote = _open(source_name, location, cache_dir, host_keys=host_keys, known_hosts=known_hosts,
                   timeout=timeout)
    try:
        entries = remote.list(pattern)
        _sweep_partials(root)
        pulled: list[PulledFile] = []
        skipped = 0
        for entry in sorted(entries, key=lambda e: e.rel):
            uri = remote.display(entry.rel)
            if known is not None and known(uri):
                skipped += 1
                continue
            dest = _destination(source_name, remote, root, entry.rel)
            if _is_current(dest, entry):
                pulled.append(PulledFile(dest, uri, dest.stat().st_size, entry.mtime, downloaded=False))
                continue
            got = _download(remote, entry, dest)
            if got is not None:
                pulled.append(PulledFile(dest, uri, got.size if got.size is not None else dest.stat().st_size,
                                         got.mtime, downloaded=True))
        log.info("source %s: %d file(s) match %s in %s; %d fetched, %d cached, %d already ingested",
                 source_name, len(entries), glob, remote.display(""),
                 sum(p.downloaded for p in pulled), sum(not p.downloaded for p in pulled), skipped)
        return pulled
    finally:
        remote.close()


# --- matching --------------------------------------------------------------------------------------

def _pattern(source_name: str, glob: str) -> tuple[str, ...]:
    parts = tuple(p for p in glob.strip().strip("/").split("/") if p not in ("", "."))
    if not parts or ".." in parts:
        raise RemoteSourceError(f"source {source_name!r}: glob {glob!r} must name files below the location "
                                f"(e.g. *.csv or **/*.jsonl)")
    return parts


def _matches(parts: tuple[str, ...], pats: tuple[str, ...]) -> bool:
    """pathlib's rules: `*` stays within a folder, `**` spans zero or more folders."""
    if not pats:
        return not parts
    if pats[0] == "**":
        return any(_matches(parts[i:], pats[1:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatchcase(parts[0], pats[0]) and _matches(parts[1:], pats[1:])


def _may_hold_matches(parts: tuple[str, ...], pats: tuple[str, ...]) -> bool:
    """Whether a folder at `parts` can contain a match (so it is worth listing)."""
    if not parts:
        return bool(pats)
    if not pats:
        return False
    if pats[0] == "**":
        return True
    return fnmatchcase(parts[0], pats[0]) and _may_hold_matches(parts[1:], pats[1:])


# --- the cache ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Entry:
    rel: str  # path below the location, "/"-separated
    ref: str  # what the backend needs to fetch it (a path or a URL)
    size: int | None
    mtime: datetime | None


def _cache_name(source_name: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*", source_name) or source_name in (".", ".."):
        raise RemoteSourceError(f"source name {source_name!r} cannot name a cache folder")
    return source_name


def _destination(source_name: str, remote: "_Remote", root: Path, rel: str) -> Path:
    parts = PurePosixPath(rel).parts
    if not parts or rel.startswith("/") or any(p in ("", ".", "..") or "\\" in p for p in parts):
        raise RemoteSourceError(f"source {source_name!r} ({remote.display('')}): refusing the remote name {rel!r}")
    return root.joinpath(*parts)


def _is_current(dest: Path, entry: _Entry) -> bool:
    if entry.size is None or entry.mtime is None:
        return False  # nothing to compare with: fetch again (ingest's ledger still loads it once)
    try:
        st = dest.stat()
    except OSError:
        return False
    return st.st_size == entry.size and abs(st.st_mtime - entry.mtime.timestamp()) < 0.01


def _download(remote: "_Remote", entry: _Entry, dest: Path) -> _Entry | None:
    """Fetch to a hidden .part file beside `dest`, check it, rename. None: the file changed meanwhile."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            remote.fetch(entry, tmp)
            fetch_error: Exception | None = None
        except RemoteSourceError:
            raise
        except OSError as exc:
            fetch_error = exc
        now = remote.stat(entry)
        if now is None or now.size != entry.size or now.mtime != entry.mtime:
            log.warning("%s changed while it was fetched (still being written?): left for the next pull",
                        remote.display(entry.rel))
            return None
        if isinstance(fetch_error, PermissionError):
            raise RemoteSourceError(f"{remote.context}: permission denied reading {remote.display(entry.rel)}") from None
        if fetch_error is not None:
            raise RemoteSourceError(f"{remote.context}: cannot fetch {remote.display(entry.rel)}: "
                                    f"{_describe(fetch_error)}") from None
        got = tmp.stat().st_size
        if entry.size is not None and got != entry.size:
            raise RemoteSourceError(f"{remote.context}: {remote.display(entry.rel)}: fetched {got} bytes, "
                                    f"the server lists {entry.size}")
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        if entry.mtime is not None:
            stamp = entry.mtime.timestamp()
            os.utime(tmp, (stamp, stamp))
        os.replace(tmp, dest)
        return _Entry(entry.rel, entry.ref, got, entry.mtime)
    finally:
        tmp.unlink(missing_ok=True)


def _sweep_partials(root: Path) -> None:
    """Remove .part files that killed pulls left behind (old ones only: another pull may be running)."""
    if not root.is_dir():
        return
    cutoff = time.time() - _STALE_PART_S
    for part in root.rglob(".*.part"):
        try:
            if part.is_file() and part.stat().st_mtime < cutoff:
                part.unlink()
        except OSError:
            pass


# --- credentials ----------------------------------------------------------------------------------

def _env_prefix(source_name: str) -> str:
    return "CONTACTQA_" + re.sub(r"[^A-Z0-9]", "_", source_name.upper()) + "_"


@dataclass
class _Credentials:
    values: dict[str, str] = field(repr=False)  # never printed: holds secrets
    prefix: str  # the env var prefix the values came from
    per_source: str
    protocol_wide: str

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def hint(self, *keys: str) -> str:
        ours = " or ".join(self.per_source + k for k in keys)
        wide = " or ".join(self.protocol_wide + k for k in keys)
        return f"{ours} (or {wide} for all sources)"


def _credentials(source_name: str, protocol: str, selectors: tuple[str, ...], secrets: tuple[str, ...],
                 names: tuple[str, ...]) -> _Credentials:
    """Per-source secrets replace the protocol-wide ones as a set when any `selectors` one is set."""
    per_source, wide = _env_prefix(source_name), f"CONTACTQA_{protocol}_"
    prefix = per_source if any(os.environ.get(per_source + k) for k in selectors) else wide
    values = {k: os.environ[prefix + k] for k in secrets if os.environ.get(prefix + k)}
    for k in names:  # a user name is no secret: per-source first, then protocol-wide
        value = os.environ.get(per_source + k) or os.environ.get(wide + k)
        if value:
            values[k] = value
    return _Credentials(values, prefix, per_source, wide)


def _refuse_password_in_url(source_name: str, display: str, parts: urllib.parse.SplitResult,
                            hint: str) -> None:
    if parts.password is not None:
        raise RemoteSourceError(f"source {source_name!r} ({display}): the location holds a password; remove it from "
                                f"the project file and set {hint} in the environment instead")


def _host_display(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- backends -------------------------------------------------------------------------------------

class _Remote:
    """One opened location: lists entries, fetches one to a local path, stats one again."""

    context: str  # "source 'x' (display url)"

    def display(self, rel: str) -> str:
        raise NotImplementedError

    def list(self, pats: tuple[str, ...]) -> list[_Entry]:
        raise NotImplementedError

    def fetch(self, entry: _Entry, dest: Path) -> None:
        raise NotImplementedError

    def stat(self, entry: _Entry) -> _Entry | None:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _open(source_name: str, location: str, cache_dir: Path, *, host_keys: str | None, known_hosts: Path | None,
          timeout: float) -> _Remote:
    scheme = _URL.match(location).group(1).lower()
    if scheme in ("sftp", "ssh"):
        return _open_sftp(source_name, location, cache_dir, host_keys=host_keys, known_hosts=known_hosts,
                          timeout=timeout)
    if scheme in ("http", "https"):
        return _HttpRemote(source_name, location, timeout)
    return _open_fsspec(source_name, location, scheme)


def _info_mtime(info: dict[str, Any]) -> datetime | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "modified", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, datetime):
            return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value, tz=timezone.utc)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return None


class _FsspecRemote(_Remote):
    """Listing and fetching through an fsspec filesystem (SFTP, S3, file, memory, ...)."""

    def __init__(self, source_name: str, fs: Any, root: str, display_base: str, *, auth_hint: str = "",
                 on_close: Callable[[], None] | None = None):
        self.fs, self.root = fs, root.rstrip("/") or "/"
        self.display_base = display_base.rstrip("/")
        self.context = f"source {source_name!r} ({display_base})"
        self.auth_hint = auth_hint
        self.on_close = on_close
        self.single_file = False

    def display(self, rel: str) -> str:
        if self.single_file or not rel:
            return self.display_base
        return f"{self.display_base}/{rel}"

    def _fail(self, exc: BaseException, what: str) -> RemoteSourceError:
        if isinstance(exc, FileNotFoundError):
            return RemoteSourceError(f"{self.context}: {what} does not exist on the server (check `location`)")
        if isinstance(exc, PermissionError):
            return RemoteSourceError(f"{self.context}: permission denied reading {what}{self.auth_hint}")
        return RemoteSourceError(f"{self.context}: cannot read {what}: {_describe(exc)}")

    def _entry(self, rel: str, info: dict[str, Any]) -> _Entry:
        size = info.get("size")
        return _Entry(rel, info["name"], int(size) if size is not None else None, _info_mtime(info))

    def list(self, pats: tuple[str, ...]) -> list[_Entry]:
        try:
            info = self.fs.info(self.root)
        except Exception as exc:  # noqa: BLE001 - every backend has its own errors; all become one message
            raise self._fail(exc, self.root) from None
        if info.get("type") == "file":  # the location names one file: that file, whatever the glob
            self.single_file = True
            return [self._entry(posixpath.basename(self.root), {**info, "name": self.root})]
        found: list[_Entry] = []
        pending: list[tuple[str, tuple[str, ...]]] = [(self.root, ())]
        seen: set[str] = set()
        while pending:
            folder, parts = pending.pop()
            if folder in seen or len(parts) > _MAX_DEPTH:
                continue
            seen.add(folder)
            try:
                listing = self.fs.ls(folder, detail=True)
            except Exception as exc:  # noqa: BLE001
                raise self._fail(exc, folder) from None
            for item in listing:
                name = item["name"].rstrip("/")
                base = posixpath.basename(name)
                if not base or name == folder.rstrip("/"):
                    continue
                child = parts + (base,)
                kind = item.get("type")
                if kind == "link":  # follow symlinks: the export may be a link to the real file
                    try:
                        item = {**self.fs.info(name), "name": name}
                    except Exception:  # noqa: BLE001 - a dangling link is not an export
                        continue
                    kind = item.get("type")
                if kind == "directory":
                    if _may_hold_matches(child, pats):
                        pending.append((name, child))
                elif kind == "file" and _matches(child, pats):
                    found.append(self._entry("/".join(child), item))
        return found

    def fetch(self, entry: _Entry, dest: Path) -> None:
        try:
            self.fs.get_file(entry.ref, str(dest))
        except OSError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise RemoteSourceError(f"{self.context}: cannot fetch {self.display(entry.rel)}: "
                                    f"{_describe(exc)}") from None

    def stat(self, entry: _Entry) -> _Entry | None:
        try:
            return self._entry(entry.rel, {**self.fs.info(entry.ref), "name": entry.ref})
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001
            raise self._fail(exc, entry.ref) from None

    def close(self) -> None:
        if self.on_close is not None:
            try:
                self.on_close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass


def _generic_display(parts: urllib.parse.SplitResult) -> str:
    """The URL without user info, query or fragment: what messages and remote_uri show."""
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def _open_fsspec(source_name: str, location: str, scheme: str) -> _Remote:
    import fsspec

    parts = urllib.parse.urlsplit(location)
    display = _generic_display(parts)
    _refuse_password_in_url(source_name, display, parts, "the credentials the storage's own client reads")
    package = PACKAGES.get(scheme)
    if package and importlib.util.find_spec(package.replace("-", "_")) is None:
        raise RemoteSourceError(f"source {source_name!r} ({display}): {scheme}:// needs the {package} package: "
                                f"pip install {package}")
    try:
        cls = fsspec.get_filesystem_class(scheme)
    except ImportError as exc:
        needed = f"the {package} package: pip install {package}" if package else f"a package ({exc})"
        raise RemoteSourceError(f"source {source_name!r} ({display}): {scheme}:// needs {needed}") from None
    except ValueError:
        raise RemoteSourceError(f"source {source_name!r}: {scheme}:// is not a storage contactqa can read "
                                f"(sftp://, s3://, https://, or a local folder)") from None
    try:
        options = cls._get_kwargs_from_urls(location)
        fs = fsspec.filesystem(scheme, skip_instance_cache=True, **options)
        root = cls._strip_protocol(location)
    except Exception as exc:  # noqa: BLE001
        raise RemoteSourceError(f"source {source_name!r} ({display}): cannot open: {_describe(exc)}") from None
    hint = ""
    if scheme in ("s3", "s3a"):
        hint = " (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE, and the bucket policy)"
    return _FsspecRemote(source_name, fs, root, display, auth_hint=hint)


# --- SFTP -----------------------------------------------------------------------------------------

def _fingerprint(key: Any) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


class _UnknownHostKey(Exception):
    def __init__(self, hostname: str, key: Any):
        super().__init__(hostname)
        self.hostname, self.key = hostname, key


def _host_key_policy(known_hosts: Path, strict: bool) -> Any:
    """Trust on first use into `known_hosts`; ~/.ssh/known_hosts is honoured, never written."""
    import paramiko

    class TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
        # fsspec's client loads no host keys, so every connection asks this policy: it checks them itself.
        def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
            keys = paramiko.HostKeys()
            for path in (Path(os.path.expanduser("~/.ssh/known_hosts")), known_hosts):
                if path.is_file():
                    try:
                        keys.load(str(path))
                    except Exception as exc:  # noqa: BLE001 - an unreadable file is not a match
                        log.warning("ignoring %s: %s", path, _describe(exc))
            recorded = keys.lookup(hostname)
            if recorded:
                expected = recorded.get(key.get_name()) or next(iter(recorded.values()))
                if expected != key:
                    raise paramiko.BadHostKeyException(hostname, key, expected)
                return
            if strict:
                raise _UnknownHostKey(hostname, key)
            known_hosts.parent.mkdir(parents=True, exist_ok=True)
            with known_hosts.open("a", encoding="ascii") as handle:
                handle.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
            log.warning("SFTP host %s seen for the first time: trusted its key %s %s (recorded in %s)",
                        hostname, key.get_name(), _fingerprint(key), known_hosts)

    return TrustOnFirstUse()


def _open_sftp(source_name: str, location: str, cache_dir: Path, *, host_keys: str | None,
               known_hosts: Path | None, timeout: float) -> _Remote:
    import fsspec
    import paramiko

    parts = urllib.parse.urlsplit(location)
    creds = _credentials(source_name, "SFTP", ("PASSWORD", "KEY_FILE"),
                         ("PASSWORD", "KEY_FILE", "KEY_PASSPHRASE"), ("USER",))
    host = parts.hostname
    try:
        port = parts.port or 22
    except ValueError:
        raise RemoteSourceError(f"source {source_name!r}: the port in {_generic_display(parts)} "
                                f"is not a number") from None
    if not host:
        raise RemoteSourceError(f"source {source_name!r}: {location.split('@')[-1]!r} names no host "
                                f"(sftp://user@host:port/absolute/path)")
    user = urllib.parse.unquote(parts.username) if parts.username else (creds.get("USER") or getpass.getuser())
    path = urllib.parse.unquote(parts.path) or "/"
    display = f"sftp://{urllib.parse.quote(user, safe='')}@{_host_display(host)}{'' if port == 22 else f':{port}'}{path}"
    context = f"source {source_name!r} ({display})"
    _refuse_password_in_url(source_name, display, parts, creds.hint("PASSWORD"))

    mode = (host_keys or os.environ.get("CONTACTQA_SFTP_HOST_KEYS") or "accept-new").strip().lower()
    if mode not in HOST_KEY_MODES:
        raise RemoteSourceError(f"{context}: host key mode {mode!r} is not one of {', '.join(HOST_KEY_MODES)} "
                                f"(CONTACTQA_SFTP_HOST_KEYS)")
    known_file = Path(known_hosts or os.environ.get("CONTACTQA_SFTP_KNOWN_HOSTS") or Path(cache_dir) / "known_hosts")

    kwargs: dict[str, Any] = {"host": host, "port": port, "username": user, "timeout": timeout,
                              "banner_timeout": timeout, "auth_timeout": timeout}
    key_file, password = creds.get("KEY_FILE"), creds.get("PASSWORD")
    key_var, password_var = creds.prefix + "KEY_FILE", creds.prefix + "PASSWORD"
    if key_file:
        kwargs["pkey"] = _load_key(context, Path(os.path.expanduser(key_file)), key_var,
                                   creds.get("KEY_PASSPHRASE"), creds.prefix + "KEY_PASSPHRASE")
    if password:
        kwargs["password"] = password
    explicit = bool(key_file or password)
    kwargs.update(look_for_keys=not explicit, allow_agent=not explicit)
    if key_file:
        tried = f"the key in {key_var}" + (f" and the password in {password_var}" if password else "")
    elif password:
        tried = f"the password in {password_var}"
    else:
        tried = "the SSH agent and ~/.ssh keys (no credentials set)"
    target = f"{user}@{_host_display(host)}:{port}"

    transports: list[Any] = []

    def transport(sock: Any, **options: Any) -> Any:  # kept, to hang up when the connection fails
        transports.append(paramiko.Transport(sock, **options))
        return transports[-1]

    try:
        try:
            fs = fsspec.filesystem("sftp", skip_instance_cache=True, transport_factory=transport,
                                   host_key_policy=_host_key_policy(known_file, mode == "strict"), **kwargs)
        except BaseException:
            for t in transports:
                t.close()
            raise
    except _UnknownHostKey as exc:
        raise RemoteSourceError(
            f"{context}: host {exc.hostname} is not in {known_file} or ~/.ssh/known_hosts and host keys are strict; "
            f"its key is {exc.key.get_name()} {_fingerprint(exc.key)}: if that is the server's, add it "
            f"(ssh-keyscan -p {port} {host} >> {known_file}) or set CONTACTQA_SFTP_HOST_KEYS=accept-new") from None
    except paramiko.BadHostKeyException as exc:
        raise RemoteSourceError(
            f"{context}: the server's host key changed ({exc.key.get_name()} {_fingerprint(exc.key)}, expected "
            f"{exc.expected_key.get_name()} {_fingerprint(exc.expected_key)}): this can be a man-in-the-middle "
            f"attack, so nothing was read. If the server was really re-keyed, remove its line for "
            f"{exc.hostname} from {known_file} (or ~/.ssh/known_hosts)") from None
    except paramiko.AuthenticationException:
        raise RemoteSourceError(
            f"{context}: authentication failed for {target} with {tried}: the server refused it. "
            f"Set {_sftp_hint(source_name)}") from None
    except socket.gaierror as exc:
        raise RemoteSourceError(f"{context}: cannot resolve host {host!r} ({exc.strerror or exc})") from None
    except paramiko.ssh_exception.NoValidConnectionsError:
        raise RemoteSourceError(f"{context}: cannot connect to {_host_display(host)}:{port}: connection refused "
                                f"(is the SFTP server running, and is the port right?)") from None
    except (socket.timeout, TimeoutError):
        raise RemoteSourceError(f"{context}: host unreachable: no answer from {_host_display(host)}:{port} within "
                                f"{timeout:g} s (firewall, VPN or wrong host?)") from None
    except OSError as exc:
        raise RemoteSourceError(f"{context}: host unreachable: cannot connect to {_host_display(host)}:{port}: "
                                f"{exc.strerror or _describe(exc)}") from None
    except (paramiko.SSHException, EOFError) as exc:
        if "No authentication methods available" in str(exc):
            raise RemoteSourceError(
                f"{context}: authentication failed for {target}: no credentials set and no SSH agent or ~/.ssh "
                f"key. Set {_sftp_hint(source_name)}") from None
        if "banner" in str(exc):
            raise RemoteSourceError(f"{context}: host unreachable: no SSH greeting from {_host_display(host)}:{port} "
                                    f"within {timeout:g} s (firewall, proxy, or not an SSH server?)") from None
        raise RemoteSourceError(f"{context}: the SSH/SFTP session with {_host_display(host)}:{port} failed: "
                                f"{_describe(exc)} (is it an SSH server with SFTP enabled?)") from None

    def close() -> None:
        fs.ftp.close()
        fs.client.close()

    return _FsspecRemote(source_name, fs, path, display, on_close=close,
                         auth_hint=f" as {user} (ask the server's administrator for read access)")


def _sftp_hint(source_name: str) -> str:
    per, wide = _env_prefix(source_name), "CONTACTQA_SFTP_"
    return (f"{per}KEY_FILE (a private key whose public key is in the server's authorized_keys) or "
            f"{per}PASSWORD (or {wide}KEY_FILE / {wide}PASSWORD for all SFTP sources)")


def _load_key(context: str, path: Path, var: str, passphrase: str | None, passphrase_var: str) -> Any:
    import paramiko

    if not path.is_file():
        raise RemoteSourceError(f"{context}: the key file {path} (from {var}) does not exist")
    try:  # positional: paramiko 3 names the argument `passphrase`, paramiko 5 `password`
        try:
            return paramiko.PKey.from_path(str(path), passphrase.encode() if passphrase else None)
        except TypeError:  # cryptography: a passphrase for a plain key, or none for an encrypted one
            if not passphrase:
                raise paramiko.PasswordRequiredException() from None
            return paramiko.PKey.from_path(str(path), None)
    except paramiko.PasswordRequiredException:
        raise RemoteSourceError(f"{context}: the key file {path} (from {var}) is encrypted: "
                                f"set {passphrase_var} to its passphrase") from None
    except PermissionError:
        raise RemoteSourceError(f"{context}: cannot read the key file {path} (from {var}): permission denied") from None
    except (paramiko.SSHException, ValueError, OSError) as exc:
        wrong = " (or the passphrase is wrong)" if passphrase else ""
        raise RemoteSourceError(f"{context}: the key file {path} (from {var}) is not a private key paramiko can "
                                f"read{wrong}: {type(exc).__name__}") from None


# --- HTTP(S) --------------------------------------------------------------------------------------

class _SameOriginAuth(urllib.request.HTTPRedirectHandler):
    """Follow redirects, re-sending credentials only to the same scheme, host and port."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 - urllib's signature
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        auth = req.unredirected_hdrs.get("Authorization")
        if new is not None and auth:
            old, nxt = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(new.full_url)
            if (old.scheme, old.hostname, old.port) == (nxt.scheme, nxt.hostname, nxt.port):
                new.add_unredirected_header("Authorization", auth)
        return new


def _http_mtime(headers: Any) -> datetime | None:
    value = headers.get("Last-Modified")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).astimezone(timezone.utc)
    except (TypeError, ValueError):
        return None


def _http_size(headers: Any) -> int | None:
    value = headers.get("Content-Length")
    return int(value) if value and value.strip().isdigit() else None


class _HttpRemote(_Remote):
    """An HTTP directory listing (nginx autoindex, Apache, python -m http.server) or one file URL."""

    def __init__(self, source_name: str, location: str, timeout: float):
        parts = urllib.parse.urlsplit(location)
        self.display_base = _generic_display(parts)
        self.context = f"source {source_name!r} ({self.display_base})"
        self.source_name = source_name
        self.timeout = timeout
        creds = _credentials(source_name, "HTTP", ("TOKEN", "PASSWORD"), ("TOKEN", "PASSWORD"), ("USER",))
        self.hint = f"{creds.hint('TOKEN')}, or {creds.per_source}USER + {creds.per_source}PASSWORD"
        _refuse_password_in_url(source_name, self.display_base, parts, creds.hint("PASSWORD"))
        netloc = parts.netloc.rpartition("@")[2]
        self.url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        self._auth: str | None = None
        if creds.get("TOKEN"):
            self._auth = f"Bearer {creds.get('TOKEN')}"
        elif creds.get("PASSWORD"):
            user = urllib.parse.unquote(parts.username or "") or creds.get("USER") or ""
            self._auth = "Basic " + base64.b64encode(f"{user}:{creds.get('PASSWORD')}".encode()).decode()
        self._opener = urllib.request.build_opener(_SameOriginAuth())
        self.single_file: str | None = None
        self.listing_url = self.url

    def display(self, rel: str) -> str:
        if self.single_file is not None or not rel:
            return self.display_base
        return urllib.parse.urljoin(_generic_display(urllib.parse.urlsplit(self.listing_url)),
                                    urllib.parse.quote(rel))

    def _request(self, url: str, method: str = "GET") -> Any:
        request = urllib.request.Request(url, method=method, headers={"User-Agent": "contactqa"})
        if self._auth:
            request.add_unredirected_header("Authorization", self._auth)
        shown = _generic_display(urllib.parse.urlsplit(url))
        try:
            return self._opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            exc.close()
            if method == "HEAD" and exc.code in (400, 403, 405, 501):
                raise _NoHead() from None  # e.g. a URL signed for GET only: ask with GET
            if exc.code == 401:
                raise RemoteSourceError(f"{self.context}: authentication failed for {shown} (HTTP 401): "
                                        f"set {self.hint}") from None
            if exc.code == 403:
                raise RemoteSourceError(f"{self.context}: permission denied for {shown} (HTTP 403): check the "
                                        f"credentials ({self.hint}) and the server's access rules") from None
            if exc.code in (404, 410):
                raise RemoteSourceError(f"{self.context}: {shown} does not exist on the server (HTTP {exc.code}; "
                                        f"check `location`)") from None
            raise RemoteSourceError(f"{self.context}: {shown} answered HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            host = urllib.parse.urlsplit(url).netloc
            if isinstance(reason, socket.gaierror):
                raise RemoteSourceError(f"{self.context}: cannot resolve host {host!r}") from None
            if isinstance(reason, ConnectionRefusedError):
                raise RemoteSourceError(f"{self.context}: cannot connect to {host}: connection refused "
                                        f"(is the server running, and is the port right?)") from None
            if isinstance(reason, ssl.SSLError):
                raise RemoteSourceError(f"{self.context}: TLS failed with {host}: {reason}") from None
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise RemoteSourceError(f"{self.context}: host unreachable: no answer from {host} within "
                                        f"{self.timeout:g} s") from None
            raise RemoteSourceError(f"{self.context}: host unreachable: cannot connect to {host}: {reason}") from None
        except (socket.timeout, TimeoutError):
            raise RemoteSourceError(f"{self.context}: no answer from {shown} within {self.timeout:g} s") from None

    def _head(self, url: str) -> tuple[str, Any]:
        try:
            response = self._request(url, "HEAD")
        except _NoHead:
            response = self._request(url, "GET")
        with response:
            return response.geturl(), response.headers

    def list(self, pats: tuple[str, ...]) -> list[_Entry]:
        response = self._request(self.url)
        with response:
            final = response.geturl()
            kind = response.headers.get_content_type()
            if not urllib.parse.urlsplit(final).path.endswith("/"):
                self.single_file = final
                name = posixpath.basename(urllib.parse.unquote(urllib.parse.urlsplit(final).path)) or "index"
                return [_Entry(name, final, _http_size(response.headers), _http_mtime(response.headers))]
            if kind not in ("text/html", "application/xhtml+xml"):
                raise RemoteSourceError(f"{self.context}: expected an HTML directory listing at {self.display_base}, "
                                        f"got {kind}")
            page = response.read(_MAX_LISTING_BYTES).decode(response.headers.get_content_charset() or "utf-8",
                                                            "replace")
        self.listing_url = final
        found: list[_Entry] = []
        pending = [(final, (), page)]
        seen = {final}
        while pending:
            folder, parts, page = pending.pop()
            for link in self._links(folder, page):
                rel = urllib.parse.unquote(link[len(folder):])
                is_dir = rel.endswith("/")
                child = parts + tuple(p for p in rel.strip("/").split("/") if p)
                if not child or any(p in (".", "..") for p in child):
                    continue
                if is_dir:
                    if link not in seen and len(child) <= _MAX_DEPTH and _may_hold_matches(child, pats):
                        seen.add(link)
                        with self._request(link) as sub:
                            if sub.headers.get_content_type() in ("text/html", "application/xhtml+xml"):
                                text = sub.read(_MAX_LISTING_BYTES).decode(
                                    sub.headers.get_content_charset() or "utf-8", "replace")
                                pending.append((sub.geturl() if sub.geturl().endswith("/") else link, child, text))
                elif _matches(child, pats):
                    url, headers = self._head(link)
                    found.append(_Entry("/".join(child), url, _http_size(headers), _http_mtime(headers)))
        return found

    @staticmethod
    def _links(folder: str, page: str) -> list[str]:
        """Links on a listing page that point below it (no sorting links, no parent)."""
        links = []
        for match in _HREF.finditer(page):
            raw = html.unescape(next(g for g in match.groups() if g is not None)).strip()
            if not raw or raw.startswith(("?", "#", "mailto:", "javascript:")):
                continue
            absolute = urllib.parse.urldefrag(urllib.parse.urljoin(folder, raw))[0]
            if urllib.parse.urlsplit(absolute).query:
                continue
            if absolute.startswith(folder) and absolute != folder:
                links.append(absolute)
        return list(dict.fromkeys(links))

    def fetch(self, entry: _Entry, dest: Path) -> None:
        with self._request(entry.ref) as response, dest.open("wb") as out:
            try:
                shutil.copyfileobj(response, out, 1 << 20)
            except (OSError, ValueError) as exc:  # includes http.client.IncompleteRead
                raise OSError(errno.EIO, f"transfer interrupted: {_describe(exc)}") from None

    def stat(self, entry: _Entry) -> _Entry | None:
        try:
            _, headers = self._head(entry.ref)
        except RemoteSourceError as exc:
            return None if "does not exist" in str(exc) else entry  # gone, or cannot tell: assume unchanged
        return _Entry(entry.rel, entry.ref, _http_size(headers), _http_mtime(headers))


class _NoHead(Exception):
    """The server does not answer HEAD: use GET and read only the headers."""
