"""Fetching an address an author typed (a podcast feed, its chapters, its transcript, its audio)
without letting that address reach inside the site's own network.

Only http and https. The host is resolved here, every address it resolves to must be public,
and the connection goes to the very address that was checked, so a name that resolves to a
public address for the check and a private one for the connection (DNS rebinding) gets
nowhere. Redirects are followed here, one at a time, each checked the same way. Every read has
a timeout and a byte limit. Each refusal is a FetchError whose message an author can act on.

CEU_FETCH_ALLOW_HOSTS names hosts that may be fetched although they resolve to a non-public
address: empty in production; the tests' local feed server and a development machine use it."""

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

MAX_REDIRECTS = 5
TIMEOUT_SECONDS = 15
CHUNK_BYTES = 64 * 1024
USER_AGENT = "CE-trainings-importer/1.0 (+podcast feed import)"
REDIRECT_STATUSES = {301, 302, 303, 307, 308}


class FetchError(Exception):
    """An address that was not fetched; the message says why, for the author."""


@dataclass
class Fetched:
    url: str  # where the content came from, after redirects
    content_type: str
    data: bytes


def fetch(url: str, *, max_bytes: int, what: str, accept: str = "*/*") -> Fetched:
    """The body at url, at most max_bytes long, or FetchError. `what` names the thing fetched
    in messages ("the feed", "the chapters file")."""
    chunks = []
    with _response(url, what=what, accept=accept) as (final_url, response):
        for chunk in _body(response, max_bytes=max_bytes, what=what):
            chunks.append(chunk)
        content_type = response.getheader("Content-Type", "") or ""
    return Fetched(url=final_url, content_type=content_type, data=b"".join(chunks))


def fetch_to_file(url: str, file: BinaryIO, *, max_bytes: int, what: str) -> str:
    """The body at url written to file (an audio file can be large); the address it came
    from after redirects."""
    with _response(url, what=what, accept="*/*") as (final_url, response):
        for chunk in _body(response, max_bytes=max_bytes, what=what):
            file.write(chunk)
    file.flush()
    return final_url


# --- Checking addresses ---------------------------------------------------------------------------


def check_url(url: str, *, what: str) -> tuple[str, str, int]:
    """The scheme, host and port of an address that may be fetched, or FetchError."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(
            _("The address of %(what)s is not a valid address: “%(url)s”.")
            % {"what": what, "url": _shown(url)}
        ) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(
            _(
                "The address of %(what)s must start with https:// or http://, and “%(url)s” "
                "does not."
            )
            % {"what": what, "url": _shown(url)}
        )
    if not parts.hostname:
        raise FetchError(
            _("The address of %(what)s names no host: “%(url)s”.")
            % {"what": what, "url": _shown(url)}
        )
    if parts.username or parts.password:
        raise FetchError(
            _("The address of %(what)s carries a user name or password; give it without.")
            % {"what": what}
        )
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def public_addresses(host: str, port: int, *, what: str) -> list[str]:
    """The addresses host resolves to, every one of them public (or the host allowed by
    CEU_FETCH_ALLOW_HOSTS), or FetchError naming the kind of address refused."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise FetchError(
            _("The host “%(host)s” of %(what)s could not be found. Check the address.")
            % {"host": host, "what": what}
        ) from exc
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    if not addresses:
        raise FetchError(
            _("The host “%(host)s” of %(what)s could not be found. Check the address.")
            % {"host": host, "what": what}
        )
    if _allowed(host):
        return addresses
    for address in addresses:
        kind = non_public_kind(address)
        if kind:
            raise FetchError(
                _(
                    "%(what)s is at “%(host)s”, which is %(kind)s address (%(address)s). Only "
                    "addresses on the public internet are fetched: download the file and "
                    "upload it instead."
                )
                % {"what": _cap(what), "host": host, "kind": kind, "address": address}
            )
    return addresses


def non_public_kind(address: str) -> str:
    """What sort of non-public address this is ("a loopback", "a private"...), or ""."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return _("an unrecognised")
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            ip = mapped
    if ip.is_loopback:
        return _("a loopback")
    if ip.is_link_local:
        return _("a link-local")
    if ip.is_multicast:
        return _("a multicast")
    if ip.is_unspecified:
        return _("an unspecified")
    if ip.is_reserved:
        return _("a reserved")
    if ip.is_private:
        return _("a private")
    if not ip.is_global:
        return _("a reserved")
    return ""


def _allowed(host: str) -> bool:
    allowed = {h.strip().lower() for h in getattr(settings, "CEU_FETCH_ALLOW_HOSTS", ()) or ()}
    return host.lower().strip("[]") in {h.strip("[]") for h in allowed if h}


# --- Connecting ---------------------------------------------------------------------------------


def open_connection(address: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to the address that was checked (a seam the tests watch)."""
    return socket.create_connection((address, port), timeout=timeout)


class _Connection(http.client.HTTPConnection):
    def __init__(self, address: str, port: int, timeout: float):
        super().__init__(address, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = open_connection(self._address, self.port, self.timeout)


class _SecureConnection(http.client.HTTPSConnection):
    def __init__(self, address: str, port: int, timeout: float, server_name: str):
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address
        self._server_name = server_name

    def connect(self):
        sock = open_connection(self._address, self.port, self.timeout)
        # The certificate is checked against the name in the address, not the number.
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_name)


class _response:
    """The final response for url, after following (and checking) its redirects."""

    def __init__(self, url: str, *, what: str, accept: str):
        self.url, self.what, self.accept = url, what, accept
        self.connection = None

    def __enter__(self) -> tuple[str, http.client.HTTPResponse]:
        url = self.url
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._get(url)
            if response.status in REDIRECT_STATUSES and response.getheader("Location"):
                location = response.getheader("Location")
                self.close()
                url = urljoin(url, location.strip())
                continue
            if response.status != 200:
                status = f"{response.status} {response.reason}".strip()
                self.close()
                raise FetchError(
                    _("%(what)s could not be fetched: its server answered “%(status)s”.")
                    % {"what": _cap(self.what), "status": status}
                )
            return url, response
        self.close()
        raise FetchError(
            _("%(what)s redirects more than %(n)d times; give its final address.")
            % {"what": _cap(self.what), "n": MAX_REDIRECTS}
        )

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _get(self, url: str) -> http.client.HTTPResponse:
        scheme, host, port = check_url(url, what=self.what)
        addresses = public_addresses(host, port, what=self.what)
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        default_port = 443 if scheme == "https" else 80
        host_header = host if ":" not in host else f"[{host}]"
        if port != default_port:
            host_header += f":{port}"
        last_error: Exception | None = None
        for address in addresses:
            if scheme == "https":
                connection = _SecureConnection(address, port, TIMEOUT_SECONDS, server_name=host)
            else:
                connection = _Connection(address, port, TIMEOUT_SECONDS)
            self.connection = connection
            try:
                connection.request(
                    "GET",
                    path,
                    headers={
                        "Host": host_header,
                        "User-Agent": USER_AGENT,
                        "Accept": self.accept,
                        "Accept-Encoding": "identity",
                    },
                )
                return connection.getresponse()
            except TimeoutError as exc:
                self.close()
                raise FetchError(
                    _("%(what)s did not answer within %(n)d seconds. Try again later.")
                    % {"what": _cap(self.what), "n": TIMEOUT_SECONDS}
                ) from exc
            except ssl.SSLError as exc:
                self.close()
                raise FetchError(
                    _(
                        "%(what)s could not be fetched securely from “%(host)s”: its "
                        "certificate was refused."
                    )
                    % {"what": _cap(self.what), "host": host}
                ) from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                last_error = exc
        raise FetchError(
            _("%(what)s could not be reached at “%(host)s”. Check the address.")
            % {"what": _cap(self.what), "host": host}
        ) from last_error


def _body(response: http.client.HTTPResponse, *, max_bytes: int, what: str) -> Iterator[bytes]:
    too_big = FetchError(
        _("%(what)s is larger than %(limit)s, more than can be imported.")
        % {"what": _cap(what), "limit": size_text(max_bytes)}
    )
    length = response.getheader("Content-Length")
    if length and length.strip().isdigit() and int(length) > max_bytes:
        raise too_big
    deadline = time.monotonic() + TIMEOUT_SECONDS * 8
    read = 0
    while True:
        try:
            chunk = response.read(CHUNK_BYTES)
        except TimeoutError as exc:
            raise FetchError(
                _("%(what)s stopped arriving part way. Try again later.") % {"what": _cap(what)}
            ) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(
                _("%(what)s was cut off part way. Try again later.") % {"what": _cap(what)}
            ) from exc
        if not chunk:
            return
        read += len(chunk)
        if read > max_bytes:
            raise too_big
        if time.monotonic() > deadline:
            raise FetchError(
                _("%(what)s arrives too slowly to be imported. Try again later.")
                % {"what": _cap(what)}
            )
        yield chunk


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return _("%(n)s MB") % {"n": f"{size / (1024 * 1024):g}"}
    return _("%(n)s KB") % {"n": f"{size / 1024:g}"}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _shown(url: str, limit: int = 80) -> str:
    return url if len(url) <= limit else url[: limit - 1] + "…"
