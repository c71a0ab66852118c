"""Uploaded episode media, streamed from the file store to lesson players in byte ranges.

The episode is what a podcast publishes to everyone, so it is served without signing in, like
the demo's static audio; learners' records in the same store are never served here."""

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date, quote_etag
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from courses.services import media_delivery

# Episode files do not change under the same name (the store never overwrites: a new upload
# gets a new name), so players and proxies may keep them a day.
MAX_AGE_SECONDS = 24 * 60 * 60


@require_safe
def episode_media(request: HttpRequest, name: str) -> HttpResponse:
    info = media_delivery.describe(name)
    if info is None:
        raise Http404(_("There is no such media file."))
    etag = quote_etag(info.fingerprint)
    validators = {"ETag": etag}
    if info.modified is not None:
        validators["Last-Modified"] = http_date(info.modified.timestamp())

    if etag in _etags(request.headers.get("If-None-Match", "")):
        response = HttpResponse(status=304)
        return _with_headers(response, validators, info)

    header = request.headers.get("Range")
    # A range asked for against another version of the file gets the whole current file.
    if_range = request.headers.get("If-Range")
    if if_range and if_range.strip() not in (etag, validators.get("Last-Modified")):
        header = None
    try:
        byte_range = media_delivery.requested_range(header, info.size)
    except media_delivery.RangeNotSatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{info.size}"
        return _with_headers(response, validators, info)

    body = iter(()) if request.method == "HEAD" else media_delivery.read(info, byte_range)
    response = StreamingHttpResponse(body, content_type=info.content_type)
    if byte_range is None:
        response["Content-Length"] = str(info.size)
    else:
        response.status_code = 206
        response["Content-Length"] = str(byte_range.length)
        response["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{info.size}"
    return _with_headers(response, validators, info)


def _etags(header: str) -> set[str]:
    return {part.strip().removeprefix("W/") for part in header.split(",") if part.strip()}


def _with_headers(response: HttpResponse, validators: dict, info) -> HttpResponse:
    for key, value in validators.items():
        response[key] = value
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
    response["Content-Disposition"] = "inline"
    return response
