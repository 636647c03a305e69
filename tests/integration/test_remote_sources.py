"""Remote sources: pull exports from a real OpenSSH server (SFTP), an HTTP listing and fsspec URLs."""

from __future__ import annotations

import http.server
import importlib.util
import os
import threading
import time
from functools import partial
from pathlib import Path

import pytest
from sshd import SshServer, free_port, keygen, unavailable_reason

from contactqa.sources.remote import PulledFile, RemoteSourceError, is_remote, pull

SECRET = "pw-Zq8!s3cr3t-do-not-print"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("CONTACTQA_") and name.endswith(
                ("_PASSWORD", "_KEY_FILE", "_KEY_PASSPHRASE", "_USER", "_TOKEN", "_HOST_KEYS", "_KNOWN_HOSTS")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.ssh keys, agent or known_hosts of the machine
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


def write(path: Path, text: str, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def names(pulled: list[PulledFile]) -> list[str]:
    return [p.remote_uri.rsplit("/", 1)[1] for p in pulled]


def no_partials(cache: Path) -> bool:
    return not [p for p in cache.rglob("*.part")]


def test_is_remote():
    assert is_remote("sftp://u@h:2222/data") and is_remote("s3://b/p") and is_remote("https://h/x/")
    assert is_remote("file:///srv/exports")
    assert not is_remote("exports/cdr") and not is_remote("/srv/exports") and not is_remote("C:\\exports")


# --- SFTP against a real sshd ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    server = SshServer(tmp_path_factory.mktemp("sshd"))
    with server:
        yield server


@pytest.fixture
def exports(tmp_path) -> Path:
    folder = tmp_path / "exports"
    write(folder / "cdr_2026-11-01.csv", "a,b\n1,2\n", mtime=1_762_000_000)
    write(folder / "cdr_2026-11-02.csv", "a,b\n3,4\n5,6\n", mtime=1_762_086_400)
    write(folder / "readme.txt", "not an export\n")
    write(folder / "chats.jsonl", '{"x": 1}\n')
    write(folder / "2026" / "11" / "chats_02.jsonl", '{"x": 2}\n')
    write(folder / "2026" / "cdr_nested.csv", "a,b\n")
    return folder


@pytest.fixture
def key_env(sshd, monkeypatch):
    monkeypatch.setenv("CONTACTQA_SFTP_KEY_FILE", str(sshd.client_key))


def test_sftp_pull_lists_and_downloads_matching_files(sshd, exports, key_env, tmp_path):
    cache = tmp_path / "cache"
    pulled = pull("cdr", sshd.url(exports), "*.csv", cache)

    assert names(pulled) == ["cdr_2026-11-01.csv", "cdr_2026-11-02.csv"]  # top level only, sorted
    first = pulled[0]
    assert first.remote_uri == f"sftp://{sshd.user}@127.0.0.1:{sshd.port}{exports}/cdr_2026-11-01.csv"
    assert first.local_path == cache / "cdr" / "cdr_2026-11-01.csv"
    assert first.local_path.read_text() == "a,b\n1,2\n"
    assert first.size == 8 and first.downloaded
    assert first.mtime is not None and first.mtime.timestamp() == 1_762_000_000
    assert pulled[1].local_path.read_text() == "a,b\n3,4\n5,6\n"
    assert no_partials(cache)
    # The server's key was trusted on first use and recorded under the cache folder.
    assert f"[127.0.0.1]:{sshd.port} ssh-ed25519 " in (cache / "known_hosts").read_text()

    nested = pull("chats", sshd.url(exports), "**/*.jsonl", cache)
    assert [p.remote_uri.split(str(exports))[1] for p in nested] == ["/2026/11/chats_02.jsonl", "/chats.jsonl"]
    assert nested[0].local_path == cache / "chats" / "2026" / "11" / "chats_02.jsonl"
    assert nested[0].local_path.read_text() == '{"x": 2}\n'


def test_sftp_second_pull_fetches_nothing_new_then_new_and_changed_files(sshd, exports, key_env, tmp_path):
    cache = tmp_path / "cache"
    url = sshd.url(exports)
    first = pull("cdr", url, "*.csv", cache)
    assert all(p.downloaded for p in first)

    again = pull("cdr", url, "*.csv", cache)
    assert [p.local_path for p in again] == [p.local_path for p in first]
    assert not any(p.downloaded for p in again)

    write(exports / "cdr_2026-11-03.csv", "a,b\n7,8\n", mtime=1_762_172_800)
    write(exports / "cdr_2026-11-01.csv", "a,b\n1,2\n9,9\n", mtime=1_762_000_500)  # re-exported
    third = pull("cdr", url, "*.csv", cache)
    assert names(third) == ["cdr_2026-11-01.csv", "cdr_2026-11-02.csv", "cdr_2026-11-03.csv"]
    assert [p.downloaded for p in third] == [True, False, True]
    assert third[0].local_path.read_text() == "a,b\n1,2\n9,9\n"

    ledger = {third[0].remote_uri, third[1].remote_uri}
    fourth = pull("cdr", url, "*.csv", cache, known=ledger.__contains__)
    assert names(fourth) == ["cdr_2026-11-03.csv"] and not fourth[0].downloaded


def test_sftp_single_file_location(sshd, exports, key_env, tmp_path):
    pulled = pull("cdr", sshd.url(exports / "cdr_2026-11-02.csv"), "*.csv", tmp_path / "cache")
    assert len(pulled) == 1
    assert pulled[0].remote_uri == sshd.url(exports / "cdr_2026-11-02.csv")
    assert pulled[0].local_path.read_text() == "a,b\n3,4\n5,6\n"


def test_sftp_wrong_key_names_the_env_var(sshd, exports, key_env, tmp_path, monkeypatch):
    stranger = keygen(tmp_path / "stranger_key", comment="not-authorised")
    monkeypatch.setenv("CONTACTQA_CDR_KEY_FILE", str(stranger))  # the source's own variable wins
    with pytest.raises(RemoteSourceError) as err:
        pull("cdr", sshd.url(exports), "*.csv", tmp_path / "cache")
    message = str(err.value)
    assert "source 'cdr'" in message and sshd.url(exports) in message
    assert "authentication failed" in message and "CONTACTQA_CDR_KEY_FILE" in message
    assert not (tmp_path / "cache" / "cdr").exists()

    monkeypatch.delenv("CONTACTQA_SFTP_KEY_FILE")  # no credentials at all (no agent, no ~/.ssh keys)
    with pytest.raises(RemoteSourceError, match=r"authentication failed .*no credentials set.*"
                                                r"CONTACTQA_CHATS_KEY_FILE"):
        pull("chats", sshd.url(exports), "*.csv", tmp_path / "cache")


def test_sftp_missing_key_file_and_missing_path(sshd, exports, tmp_path, monkeypatch):
    monkeypatch.setenv("CONTACTQA_SFTP_KEY_FILE", str(tmp_path / "nope"))
    with pytest.raises(RemoteSourceError, match=r"key file .*nope \(from CONTACTQA_SFTP_KEY_FILE\) does not exist"):
        pull("cdr", sshd.url(exports), "*.csv", tmp_path / "cache")

    # An encrypted key: the error says which variable takes the passphrase.
    locked = keygen(tmp_path / "locked_key", comment="locked", passphrase=SECRET)
    monkeypatch.setenv("CONTACTQA_SFTP_KEY_FILE", str(locked))
    with pytest.raises(RemoteSourceError, match="encrypted: set CONTACTQA_SFTP_KEY_PASSPHRASE") as err:
        pull("cdr", sshd.url(exports), "*.csv", tmp_path / "cache")
    monkeypatch.setenv("CONTACTQA_SFTP_KEY_PASSPHRASE", "wrong")
    with pytest.raises(RemoteSourceError, match="passphrase is wrong"):
        pull("cdr", sshd.url(exports), "*.csv", tmp_path / "cache")
    monkeypatch.setenv("CONTACTQA_SFTP_KEY_PASSPHRASE", SECRET)
    with pytest.raises(RemoteSourceError, match=r"authentication failed .* key in CONTACTQA_SFTP_KEY_FILE") as err:
        pull("cdr", sshd.url(exports), "*.csv", tmp_path / "cache")  # it opens, but is not authorised
    assert SECRET not in str(err.value)

    monkeypatch.delenv("CONTACTQA_SFTP_KEY_PASSPHRASE")
    monkeypatch.setenv("CONTACTQA_SFTP_KEY_FILE", str(sshd.client_key))  # the all-sources variable works too
    with pytest.raises(RemoteSourceError, match=r"source 'cdr'.*does not exist on the server"):
        pull("cdr", sshd.url(exports / "no-such-folder"), "*.csv", tmp_path / "cache")


def test_sftp_secrets_never_shown(sshd, exports, tmp_path, monkeypatch):
    # A password the server does not accept: the error names the variable, never its value.
    monkeypatch.setenv("CONTACTQA_CDR_PASSWORD", SECRET)
    with pytest.raises(RemoteSourceError) as err:
        pull("cdr", sshd.url(exports), "*.csv", tmp_path / "cache")
    assert "CONTACTQA_CDR_PASSWORD" in str(err.value) and SECRET not in str(err.value)
    assert SECRET not in repr(err.value)

    # A password written into the location is refused, and not repeated.
    url_with_password = f"sftp://{sshd.user}:{SECRET}@127.0.0.1:{sshd.port}{exports}"
    with pytest.raises(RemoteSourceError, match="holds a password") as err:
        pull("cdr", url_with_password, "*.csv", tmp_path / "cache")
    assert SECRET not in str(err.value)

    # A successful pull with a (unused) password in the environment: nothing shows it.
    monkeypatch.setenv("CONTACTQA_CDR_KEY_FILE", str(sshd.client_key))
    monkeypatch.setenv("CONTACTQA_SFTP_PASSWORD", SECRET)
    pulled = pull("cdr", sshd.url(exports), "*.csv", tmp_path / "cache")
    assert pulled and all(SECRET not in p.remote_uri and SECRET not in repr(p) for p in pulled)


def test_sftp_host_key_changed_or_unknown_is_refused(sshd, exports, key_env, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    pull("cdr", sshd.url(exports), "*.csv", cache)
    known_hosts = cache / "known_hosts"
    impostor = keygen(tmp_path / "impostor", comment="x")
    known_hosts.write_text(f"[127.0.0.1]:{sshd.port} " + " ".join(Path(f"{impostor}.pub").read_text().split()[:2]) + "\n")
    with pytest.raises(RemoteSourceError, match="host key changed") as err:
        pull("cdr", sshd.url(exports), "*.csv", cache)
    assert str(known_hosts) in str(err.value)

    monkeypatch.setenv("CONTACTQA_SFTP_HOST_KEYS", "strict")
    with pytest.raises(RemoteSourceError, match="host keys are strict"):
        pull("cdr", sshd.url(exports), "*.csv", tmp_path / "other-cache")


def test_sftp_unreachable_port_is_a_clear_error(tmp_path):
    port = free_port()  # nothing listens there
    started = time.monotonic()
    with pytest.raises(RemoteSourceError) as err:
        pull("cdr", f"sftp://qa@127.0.0.1:{port}/exports", "*.csv", tmp_path / "cache", timeout=5)
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "source 'cdr'" in message and f"cannot connect to 127.0.0.1:{port}" in message
    assert "connection refused" in message


def test_s3_without_s3fs_says_what_to_install(tmp_path):
    if importlib.util.find_spec("s3fs") is not None:
        pytest.skip("s3fs is installed here")
    with pytest.raises(RemoteSourceError) as err:
        pull("calls", "s3://qa-exports/telephony/", "*.csv", tmp_path / "cache")
    assert "s3:// needs the s3fs package: pip install s3fs" in str(err.value)
    assert "source 'calls'" in str(err.value)


def test_file_url_through_the_same_api(exports, tmp_path):
    pulled = pull("cdr", exports.as_uri(), "**/*.csv", tmp_path / "cache")
    assert [p.remote_uri.split(str(exports))[1] for p in pulled] == [
        "/2026/cdr_nested.csv", "/cdr_2026-11-01.csv", "/cdr_2026-11-02.csv"]
    assert pulled[1].local_path.read_text() == "a,b\n1,2\n"
    assert not any(p.downloaded for p in pull("cdr", exports.as_uri(), "**/*.csv", tmp_path / "cache"))


# --- HTTP -----------------------------------------------------------------------------------------

class Handler(http.server.SimpleHTTPRequestHandler):
    token = "tok-" + SECRET

    def log_message(self, *args):  # quiet
        pass

    def _allowed(self) -> bool:
        if self.path.startswith("/private/") and self.headers.get("Authorization") != f"Bearer {self.token}":
            self.send_error(401)
            return False
        if self.path == "/broken.csv":  # promises 1000 bytes, sends 10, hangs up
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.send_header("Last-Modified", "Mon, 02 Nov 2026 10:00:00 GMT")
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(b"a,b\n1,2\n3,")
            self.close_connection = True
            return False
        return True

    def do_GET(self):
        if self._allowed():
            super().do_GET()

    def do_HEAD(self):
        if self._allowed():
            super().do_HEAD()


@pytest.fixture
def web(exports):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(exports)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_http_listing_single_file_and_cache(web, exports, tmp_path):
    cache = tmp_path / "cache"
    pulled = pull("web", f"{web}/", "*.csv", cache)
    assert [p.remote_uri for p in pulled] == [f"{web}/cdr_2026-11-01.csv", f"{web}/cdr_2026-11-02.csv"]
    assert pulled[0].local_path.read_text() == "a,b\n1,2\n" and pulled[0].size == 8
    assert pulled[0].mtime is not None and pulled[0].mtime.timestamp() == 1_762_000_000
    assert not any(p.downloaded for p in pull("web", f"{web}/", "*.csv", cache))

    nested = pull("chats", web, "**/*.jsonl", cache)  # no trailing slash: the server redirects to the listing
    assert [p.remote_uri for p in nested] == [f"{web}/2026/11/chats_02.jsonl", f"{web}/chats.jsonl"]

    single = pull("one", f"{web}/cdr_2026-11-02.csv", "*", cache)
    assert [(p.remote_uri, p.local_path.read_text()) for p in single] == [
        (f"{web}/cdr_2026-11-02.csv", "a,b\n3,4\n5,6\n")]


def test_http_errors_are_clear(web, exports, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    write(exports / "private" / "secret.csv", "a,b\n")
    with pytest.raises(RemoteSourceError, match=r"source 'web'.*does not exist on the server \(HTTP 404"):
        pull("web", f"{web}/nowhere/", "*.csv", cache)
    with pytest.raises(RemoteSourceError, match=r"authentication failed.*CONTACTQA_WEB_TOKEN"):
        pull("web", f"{web}/private/", "*.csv", cache)
    monkeypatch.setenv("CONTACTQA_WEB_TOKEN", Handler.token)
    assert [p.local_path.read_text() for p in pull("web", f"{web}/private/", "*.csv", cache)] == ["a,b\n"]

    # A transfer cut short leaves nothing under the real name (and no .part behind).
    with pytest.raises(RemoteSourceError, match="fetched 10 bytes, the server lists 1000") as err:
        pull("broken", f"{web}/broken.csv", "*", cache)
    assert Handler.token not in str(err.value)
    assert not (cache / "broken" / "broken.csv").exists() and no_partials(cache)

    with pytest.raises(RemoteSourceError, match=r"cannot connect to 127\.0\.0\.1:\d+: connection refused"):
        pull("web", f"http://127.0.0.1:{free_port()}/", "*.csv", cache)


def test_ingest_pulls_a_cdr_over_sftp_and_lands_it_once(sshd, key_env, tmp_path):
    """The whole ingest, with the CDR on a real SFTP server and credentials from the environment."""
    import duckdb

    from contactqa.config import load_project, write_project_file
    from contactqa.ingest import ingest_source

    remote = tmp_path / "pbx" / "cdr-csv"
    write(remote / "Master.csv",
          '"cards","77011234567","700","from-trunk","","PJSIP/trunk-0000001a","PJSIP/1001-0000001b","Queue",'
          '"cards","2026-11-02 10:00:00","2026-11-02 10:00:10","2026-11-02 10:05:10",310,300,"ANSWERED",'
          '"DOCUMENTATION","1762059600.1","card_blocked"\n')
    write(tmp_path / "dir" / "agents.csv", "agent_id,full_name,email,team,supervisor_email,locale,extension\n"
                                          "A001,Айгерим Нурланова,a@bank.kz,Карты,s@bank.kz,ru,1001\n")
    write_project_file(tmp_path / "contactqa.yml", {"warehouse": "wh.duckdb", "sources": [
        {"name": "directory", "type": "agent_directory", "location": "dir"},
        {"name": "pbx", "type": "asterisk_cdr", "location": sshd.url(remote), "glob": "*.csv",
         "timezone": "Asia/Almaty"}]})
    project = load_project(tmp_path / "contactqa.yml")
    for run in ("first", "second"):
        summaries = [ingest_source(project.warehouse_path, project, s, run) for s in project.config.sources]
    assert summaries[1].files_new == 0  # the second run pulled nothing new
    with duckdb.connect(str(project.warehouse_path), read_only=True) as con:
        rows = con.execute("SELECT contact_id, agent_id, source_file FROM raw.contacts").fetchall()
    assert rows == [("1762059600.1", "A001", f"sftp://{sshd.user}@127.0.0.1:{sshd.port}{remote}/Master.csv")]
