"""E-mail over SMTP keeps its connection between messages (ceu/mail.py), against a real SMTP server
(aiosmtpd): each message arrives once, whether the server keeps the connection, drops it while
idle, refuses more messages on it or fails a message midway."""

import smtplib
import time
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from django.core import mail
from django.core.mail import EmailMessage

from ceu import mail as kept_mail
from ceu.testing.services import free_port
from ceu.tests.test_settings import PRODUCTION, manage


class MailServer:
    """aiosmtpd on a loopback port, noting each message and the connection it came on."""

    def __init__(self, **smtp_options) -> None:
        from aiosmtpd.controller import Controller

        outer = self
        self.received: list[tuple[tuple, object]] = []
        self.mail_commands: list[tuple] = []
        self.refuse_mail_after = None  # messages a connection may carry (421 after that)
        self.refuse_data = False
        self.hang_up_in_data = False

        class Handler:
            async def handle_MAIL(self, server, session, envelope, address, options):
                outer.mail_commands.append(session.peer)
                carried = sum(peer == session.peer for peer, _message in outer.received)
                if outer.refuse_mail_after is not None and carried >= outer.refuse_mail_after:
                    return "421 4.7.0 Too many messages on this connection"
                envelope.mail_from = address
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                if outer.refuse_data:
                    return "554 5.6.0 Message refused"
                if outer.hang_up_in_data:
                    server.transport.close()  # the message is in; the answer never comes
                    return "250 OK"
                outer.received.append((session.peer, message_from_bytes(envelope.content)))
                return "250 Message accepted for delivery"

        self.port = free_port()
        self.serve = lambda: Controller(
            Handler(), hostname="127.0.0.1", port=self.port, **smtp_options
        )
        self.controller = self.serve()
        self.controller.start()

    @property
    def connections(self) -> int:
        return len({peer for peer, _message in self.received})

    @property
    def subjects(self) -> list[str]:
        return [message["Subject"] for _peer, message in self.received]

    def restart(self) -> None:
        """Down and up again on the same port: every open connection is cut."""
        self.controller.stop()
        self.controller = self.serve()
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_settings(settings):
    def configure(server: MailServer, keepalive: int = 30) -> None:
        settings.EMAIL_BACKEND = "ceu.mail.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 10
        settings.EMAIL_KEEPALIVE = keepalive

    yield configure
    kept_mail.close_kept_connections()


@pytest.fixture
def server(smtp_settings) -> Iterator[MailServer]:
    server = MailServer()
    smtp_settings(server)
    yield server
    server.stop()


def send(subject: str, **kwargs) -> int:
    return EmailMessage(subject, "Body", to=["learner@example.com"], **kwargs).send()


def test_messages_sent_one_after_another_share_one_connection(server):
    for number in range(3):
        assert send(f"Certificate {number}") == 1

    assert server.subjects == ["Certificate 0", "Certificate 1", "Certificate 2"]
    assert server.connections == 1


def test_a_connection_the_server_dropped_while_kept_is_replaced_and_the_message_sent_once(
    server,
):
    send("Before")
    server.restart()

    assert send("After") == 1

    assert server.subjects == ["Before", "After"]
    assert server.connections == 2


def test_a_connection_the_server_timed_out_is_replaced(smtp_settings):
    server = MailServer(timeout=0.3)  # the server hangs up on clients idle this long
    smtp_settings(server)
    try:
        send("Before")
        time.sleep(2)  # well past it, however late a loaded machine runs its timer
        assert send("After") == 1
    finally:
        server.stop()

    assert server.subjects == ["Before", "After"]
    assert server.connections == 2


def test_a_server_refusing_more_messages_on_a_connection_gets_them_on_a_new_one(server):
    server.refuse_mail_after = 1

    for number in range(3):
        assert send(f"Certificate {number}") == 1

    assert server.subjects == ["Certificate 0", "Certificate 1", "Certificate 2"]
    assert server.connections == 3


def test_a_message_refused_after_mail_was_accepted_is_not_sent_again(server):
    send("First")
    server.refuse_data = True

    with pytest.raises(smtplib.SMTPDataError):
        send("Refused")

    assert server.subjects == ["First"]
    assert len(server.mail_commands) == 2  # one try: the server may keep what it refused
    server.refuse_data = False
    assert send("Later") == 1
    assert server.connections == 1  # the connection itself was still good


def test_a_hang_up_after_mail_was_accepted_is_not_sent_again(server):
    send("First")
    server.hang_up_in_data = True

    with pytest.raises(smtplib.SMTPServerDisconnected):
        send("Unanswered")

    assert len(server.mail_commands) == 2  # one try: the server may have kept the message
    server.hang_up_in_data = False
    assert send("Later") == 1
    assert server.subjects == ["First", "Later"]
    assert server.connections == 2


def test_fail_silently_still_reports_a_refused_message(server):
    send("First")
    server.refuse_data = True

    assert (
        mail.get_connection(fail_silently=True).send_messages(
            [EmailMessage("Refused", "Body", to=["learner@example.com"])]
        )
        == 0
    )
    assert server.subjects == ["First"]


def test_a_connection_idle_longer_than_the_keepalive_is_not_reused(smtp_settings):
    server = MailServer()
    smtp_settings(server, keepalive=1)
    try:
        send("Before")
        time.sleep(1.2)
        send("After")
    finally:
        server.stop()

    assert server.connections == 2


def test_without_keepalive_each_message_has_its_connection(smtp_settings):
    server = MailServer()
    smtp_settings(server, keepalive=0)
    try:
        send("One")
        send("Two")
    finally:
        server.stop()

    assert server.subjects == ["One", "Two"]
    assert server.connections == 2


def test_another_server_gets_its_own_connection(server, settings):
    other = MailServer()
    try:
        send("To the first")
        settings.EMAIL_PORT = other.port
        send("To the other")
        settings.EMAIL_PORT = server.port
        send("To the first again")
    finally:
        other.stop()

    assert server.subjects == ["To the first", "To the first again"]
    assert server.connections == 1
    assert other.subjects == ["To the other"]


def test_production_settings_send_smtp_mail_on_kept_connections():
    code = "from django.conf import settings; print(settings.EMAIL_BACKEND, settings.EMAIL_HOST)"
    env = {**PRODUCTION, "EMAIL_URL": "smtp+tls://ce:secret@smtp.example.org:587"}

    result = manage("shell", "-v", "0", "-c", code, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ceu.mail.EmailBackend", "smtp.example.org"]
