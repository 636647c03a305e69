"""Handing one finished message to the SMTP server, and knowing what became of each recipient's copy.

yagmail opens the connection (TLS, login); the transaction on it is driven here one command at a
time, because what a failure means depends on when it happened:

- before DATA (connecting, TLS, login, MAIL, RCPT): nothing was handed over, so trying again is safe;
- once DATA began: the server may have stored the message. That copy is `uncertain` and is never
  sent again by this run. (yagmail's own send would reconnect and send it again: two copies.)

TLS is verified: the server's certificate must chain to a trusted CA — the system's, or `ca_file`
for a private one — and name the host we connect to. A user and password are never sent over a
connection without TLS unless `allow_plaintext_login` says that is wanted.

Temporary problems (4xx replies, a refused or dropped connection, a timeout) are tried again within
the run after each of `retry_delays_s`; permanent ones (5xx) are not. After
`max_connection_failures` connection failures in a row — or one that trying again cannot cure (a
certificate that does not verify, a refused login) — the run stops trying the server, so a server
that never answers costs two timeouts, not one per agent.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import yagmail

from contactqa.delivery.ledger import PENDING, REFUSED, SENDING, SENT, UNCERTAIN, Outcome

if TYPE_CHECKING:
    from contactqa.delivery.feedback import DeliverySettings

# Told before the message is handed over (SENDING) and as soon as the server answered (SENT, or PENDING again).
MarkCopies = Callable[[list[str], str], None]


class SmtpProblem(Exception):
    """The connection (not one recipient) failed; `lasting`: trying again cannot cure it."""

    def __init__(self, text: str, *, code: int | None = None, lasting: bool = False):
        super().__init__(text)
        self.text, self.code, self.lasting = text, code, lasting


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Verify the chain and the host name: against `ca_file` (a private CA) if given, else the system's CAs."""
    if ca_file is None:
        return ssl.create_default_context()
    ca_file = Path(ca_file)
    if not ca_file.is_file():
        raise ValueError(f"smtp ca_file {ca_file} does not exist (a private CA's certificate, PEM)")
    try:
        return ssl.create_default_context(cafile=str(ca_file))
    except ssl.SSLError as exc:
        raise ValueError(f"smtp ca_file {ca_file} is not a PEM certificate: {exc.reason or exc}") from None


class SmtpTransport:
    """One SMTP server for one run: connects lazily, keeps the connection between messages."""

    def __init__(self, settings: "DeliverySettings"):
        self.settings = settings
        self.where = f"{settings.smtp_host}:{settings.smtp_port}"
        uses_tls = settings.smtp_starttls or settings.smtp_ssl
        if settings.smtp_user and not uses_tls and not settings.smtp_allow_plaintext_login:
            raise ValueError(
                f"SMTP user {settings.smtp_user!r} would log in to {self.where} without TLS, sending the password "
                "in clear text: set smtp.starttls or smtp.ssl, or smtp.allow_plaintext_login: true if that is wanted")
        if settings.smtp_user and not settings.smtp_password:
            # yagmail would otherwise look in the keyring or prompt on the terminal
            raise ValueError(f"SMTP user {settings.smtp_user!r} is set but no password was given "
                             "(read it from an environment variable into DeliverySettings.smtp_password)")
        context = tls_context(settings.smtp_ca_file) if uses_tls else None
        login = settings.smtp_user or settings.sender
        self.client = yagmail.SMTP(
            user={login: settings.sender_name},
            password=settings.smtp_password,
            host=settings.smtp_host,
            port=settings.smtp_port,
            # yagmail passes the dict to smtplib's starttls(), and extra keywords to SMTP_SSL(): our context
            # either way, never smtplib's default one (which accepts any certificate for any name)
            smtp_starttls={"context": context} if settings.smtp_starttls and not settings.smtp_ssl else False,
            smtp_ssl=settings.smtp_ssl,
            smtp_skip_login=not settings.smtp_user,
            timeout=settings.smtp_timeout_s,
            **({"context": context} if settings.smtp_ssl else {}),
        )
        self.connected = False
        self.failures_in_a_row = 0
        self.stopped: str | None = None  # why this run stopped trying the server
        self._given_up: set[str] = set()  # recipients still deferred after every try this run: tried once from now on

    # --- one message -------------------------------------------------------------------------

    def deliver(self, recipients: list[str], data: bytes, mark: MarkCopies) -> dict[str, Outcome]:
        """Hand `data` to the server for `recipients`, trying temporary failures again; each copy's outcome."""
        outcomes: dict[str, Outcome] = {}
        outstanding = list(dict.fromkeys(recipients))
        tries = dict.fromkeys(outstanding, 0)
        last: dict[str, tuple[int | None, str]] = {}  # the latest temporary failure per recipient
        delays = list(self.settings.smtp_retry_delays_s)
        attempt = 0
        while outstanding and not self.stopped:
            if attempt:
                if attempt > len(delays) or set(outstanding) <= self._given_up:
                    break
                time.sleep(delays[attempt - 1])
            attempt += 1
            for recipient in outstanding:
                tries[recipient] += 1
            try:
                self._transaction(outstanding, data, mark, outcomes, last)
            except SmtpProblem as problem:
                for recipient in outstanding:
                    if recipient not in outcomes:
                        last[recipient] = (problem.code, problem.text)
                self._connection_failed(problem)
            outstanding = [r for r in outstanding if r not in outcomes]
        for recipient in outstanding:
            code, text = last.get(recipient, (None, f"not attempted: {self.stopped}"))
            outcomes[recipient] = Outcome(PENDING, code, text)
            self._given_up.add(recipient)
        return {r: replace(outcomes[r], attempts=tries[r]) for r in recipients if r in outcomes}

    def _transaction(self, outstanding: list[str], data: bytes, mark: MarkCopies, outcomes: dict[str, Outcome],
                     last: dict[str, tuple[int | None, str]]) -> None:
        smtp = self._session()
        try:
            smtp.ehlo_or_helo_if_needed()
            code, reply = smtp.mail(self.client.user)
            if code != 250:
                self._reset(smtp, code)
                for recipient in outstanding:
                    self._judge(recipient, code, reply, outcomes, last, sender=True)
                return
            accepted = []
            for recipient in outstanding:
                code, reply = smtp.rcpt(recipient)
                if code in (250, 251):
                    accepted.append(recipient)
                else:
                    self._judge(recipient, code, reply, outcomes, last)
            if not accepted:
                self._reset(smtp, code)
                return
        except (smtplib.SMTPException, OSError) as exc:  # nothing was handed over: safe to try again
            raise self._dropped(exc) from None
        mark(accepted, SENDING)  # in the ledger BEFORE the server can have it: a kill from here on is uncertain
        try:
            code, reply = smtp.data(data.decode("ascii"))
        except smtplib.SMTPDataError as exc:  # DATA itself was refused: the message never left
            code, reply = exc.smtp_code, exc.smtp_error
            self._reset(smtp, code)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            for recipient in accepted:
                outcomes[recipient] = Outcome(UNCERTAIN, None, (
                    f"the connection to {self.where} ended after the message was handed over ({_plain(exc)}); "
                    "the server may have kept it"))
            raise self._dropped(exc) from None
        for recipient in accepted:
            self._judge(recipient, code, reply, outcomes, last)
        # The ledger follows at once, so a kill from here on leaves nothing in doubt: the server has said
        # yes (sent) or no (pending until the outcome is recorded: it will not deliver this copy).
        sent = [r for r in accepted if r in outcomes and outcomes[r].status == SENT]
        for copies, status in ((sent, SENT), ([r for r in accepted if r not in sent], PENDING)):
            if copies:
                mark(copies, status)
        if code == 421:
            self._drop()
        self.failures_in_a_row = 0

    def _judge(self, recipient: str, code: int, reply: bytes | str, outcomes: dict[str, Outcome],
               last: dict[str, tuple[int | None, str]], sender: bool = False) -> None:
        words = _words(code, reply)
        whom = f"the sender {self.client.user}" if sender else recipient
        if 200 <= code < 300:
            outcomes[recipient] = Outcome(SENT, code, words)
        elif 400 <= code < 500:
            last[recipient] = (code, f"{self.where} deferred {whom}: {words}")
        else:
            outcomes[recipient] = Outcome(REFUSED, code, f"{self.where} refused {whom}: {words}")

    # --- the connection ----------------------------------------------------------------------

    def _session(self) -> smtplib.SMTP:
        if self.connected:
            try:
                if self.client.smtp.noop()[0] == 250:
                    return self.client.smtp
            except smtplib.SMTPServerDisconnected as exc:
                if "timed out" in str(exc):
                    raise self._dropped(exc) from None
            except (smtplib.SMTPException, OSError) as exc:
                raise self._dropped(exc) from None
            self._drop()  # an idle connection the server closed: open a new one
        self._open()
        return self.client.smtp

    def _open(self) -> None:
        settings, where = self.settings, self.where
        try:
            self.client.login()  # connect, STARTTLS with our context, EHLO, then (only then) the password
        except ssl.SSLCertVerificationError as exc:
            self._drop()
            raise SmtpProblem(
                f"the TLS certificate of {where} could not be verified: {exc.verify_message or exc.reason} "
                "(nothing was sent, the password neither; a server with a private CA needs smtp.ca_file)",
                lasting=True) from None
        except ssl.SSLError as exc:
            self._drop()
            raise SmtpProblem(f"TLS with {where} failed: {exc.reason or exc} (nothing was sent)",
                              lasting=True) from None
        except smtplib.SMTPAuthenticationError as exc:
            self._drop()
            raise SmtpProblem(f"{where} refused the login of {settings.smtp_user!r}: "
                              f"{_words(exc.smtp_code, exc.smtp_error)}", code=exc.smtp_code, lasting=True) from None
        except smtplib.SMTPNotSupportedError as exc:
            self._drop()
            raise SmtpProblem(f"{where}: {exc} (nothing was sent)", lasting=True) from None
        except smtplib.SMTPResponseException as exc:  # SMTPConnectError too: a 4xx/5xx greeting, STARTTLS refused
            self._drop()
            raise SmtpProblem(f"{where} answered {_words(exc.smtp_code, exc.smtp_error)}", code=exc.smtp_code,
                              lasting=not 400 <= exc.smtp_code < 500) from None
        except socket.gaierror as exc:
            self._drop()
            raise SmtpProblem(f"cannot find the SMTP host {settings.smtp_host!r}: {exc.strerror}",
                              lasting=True) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise self._dropped(exc) from None
        self.connected = True

    def _dropped(self, exc: BaseException) -> SmtpProblem:
        self._drop()
        text = _plain(exc)
        if isinstance(exc, TimeoutError) or "timed out" in text:
            return SmtpProblem(f"no answer from {self.where} within {self.settings.smtp_timeout_s:g} s")
        if isinstance(exc, smtplib.SMTPServerDisconnected):
            return SmtpProblem(f"{self.where} closed the connection ({text})")
        return SmtpProblem(f"could not connect to {self.where}: {text}")

    def _connection_failed(self, problem: SmtpProblem) -> None:
        self.failures_in_a_row += 1
        limit = self.settings.smtp_max_connection_failures
        if problem.lasting:
            self.stopped = f"stopped sending: {problem.text}"
        elif self.failures_in_a_row >= limit:
            self.stopped = (f"stopped sending after {self.failures_in_a_row} connection failures in a row to "
                            f"{self.where} (the last: {problem.text}); the next run tries again")

    def _reset(self, smtp: smtplib.SMTP, code: int) -> None:
        if code == 421:  # the server is closing the connection
            self._drop()
            return
        try:
            smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        smtp, self.connected = self.client.smtp, False
        if smtp is not None:
            try:
                smtp.close()
            except OSError:
                pass

    def close(self) -> None:
        if self.connected:
            try:
                self.client.smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._drop()
        self.client.is_closed = True  # nothing left for yagmail's __del__ to close


def _words(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}".strip()


def _plain(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text if exc.__class__.__name__ in text or "Errno" in text else f"{exc.__class__.__name__}: {text}"
