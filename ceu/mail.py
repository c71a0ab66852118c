"""Django's SMTP backend, with the connection to the mail server kept open between messages.

Django's backend opens a connection for every `send_mail` or `message.send()` and says QUIT after
it: a TCP handshake, the greeting, EHLO, with `smtp+tls://` a TLS handshake and with a user a
login, all for one message. A worker e-mails a certificate after each render, and the nudges and
reminders go one by one, so each thread here keeps its connection (one per server and account)
and the next message goes on it, as mail transfer agents reuse theirs (Postfix's
`smtp_connection_cache_*`).

A kept connection is given up:
- after EMAIL_KEEPALIVE seconds unused (servers drop idle clients; 0 keeps none, as Django);
- when the server has closed it meanwhile: detected by the MAIL command of the next message,
  before anything of the message has been accepted, so that message is sent again once on a
  new connection. A failure later in a transaction (RCPT, DATA) is not retried here: the
  server may have taken the message, and the caller's own retry decides, as before;
- in a forked child (a worker pool or web worker forked after the parent sent mail): the
  socket is the parent's.
"""

import atexit
import os
import smtplib
import threading
import time

from django.conf import settings
from django.core.mail.backends import smtp


class _Marked:
    """smtplib's connection, noting whether the server accepted the current MAIL command."""

    mail_accepted = False

    def mail(self, sender, options=()):
        reply = super().mail(sender, options)
        self.mail_accepted = reply[0] == 250
        return reply


class _SMTP(_Marked, smtplib.SMTP):
    pass


class _SMTP_SSL(_Marked, smtplib.SMTP_SSL):
    pass


class _Kept(threading.local):
    def __init__(self) -> None:
        # The server's identity -> (the connection, when it was last used, the process's pid).
        self.connections: dict[tuple, tuple[smtplib.SMTP, float, int]] = {}


_kept = _Kept()


def _quit(connection: smtplib.SMTP) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()


@atexit.register
def close_kept_connections() -> None:
    """Say QUIT on the connections this thread keeps (a worker shutting down)."""
    connections, _kept.connections = _kept.connections, {}
    for connection, _used, pid in connections.values():
        if pid == os.getpid():
            _quit(connection)


def _closed(error: smtplib.SMTPException) -> bool:
    """Whether the server had closed the connection: it hung up, or said so (421)."""
    return isinstance(error, smtplib.SMTPServerDisconnected) or (
        isinstance(error, smtplib.SMTPSenderRefused) and error.smtp_code == 421
    )


class EmailBackend(smtp.EmailBackend):
    """SMTP with the connection kept per thread between messages (see the module's docstring).
    Used wherever EMAIL_URL names an SMTP server."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.keepalive = getattr(settings, "EMAIL_KEEPALIVE", 0)
        self._reused = False

    @property
    def connection_class(self):
        return _SMTP_SSL if self.use_ssl else _SMTP

    def _server(self) -> tuple:
        return (
            self.host,
            self.port,
            self.username,
            self.use_tls,
            self.use_ssl,
            self.ssl_certfile,
            self.ssl_keyfile,
        )

    def open(self):
        if self.connection:
            return False
        kept = _kept.connections.pop(self._server(), None)
        if kept is not None:
            connection, used, pid = kept
            if pid == os.getpid() and time.monotonic() - used < self.keepalive:
                self.connection, self._reused = connection, True
                # "Opened here": send_messages() then calls close(), which hands it back.
                return True
            if pid == os.getpid():
                # Unused too long: likely closed by the server already, or dropped on the way
                # without a word, where QUIT would wait EMAIL_TIMEOUT for an answer.
                connection.close()
        self._reused = False
        return super().open()

    def close(self):
        connection = self.connection
        if (
            connection is None
            or self._partial_connection is not None
            or self.keepalive <= 0
            or connection.sock is None  # closed by smtplib after the server dropped it
        ):
            super().close()
            return
        self.connection = None
        server = self._server()
        previous = _kept.connections.get(server)
        if previous is not None and previous[2] == os.getpid():
            _quit(connection)  # this thread already keeps one for the server
            return
        _kept.connections[server] = (connection, time.monotonic(), os.getpid())

    def _send(self, email_message):
        reused, self._reused = self._reused, False
        if not reused:
            return super()._send(email_message)
        connection = self.connection
        connection.mail_accepted = False
        fail_silently, self.fail_silently = self.fail_silently, False
        try:
            return super()._send(email_message)
        except smtplib.SMTPException as error:
            if connection.mail_accepted or not _closed(error):
                if fail_silently:
                    return False
                raise
        finally:
            self.fail_silently = fail_silently
        # The server had closed the kept connection before this message's MAIL: nothing of it
        # was taken, so it goes once on a new connection.
        connection.close()
        self.connection = None
        if not super().open():
            return False  # could not reconnect, silently (fail_silently)
        return super()._send(email_message)
