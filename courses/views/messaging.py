"""The links optional mail carries, which work without signing in: one-click unsubscribe
(RFC 8058) and the renewal deadline as a calendar file. The signed token in the address is the
only credential; a link altered by one character names nobody and answers 404."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Licence
from courses.models import MessageKind
from courses.services import messaging, renewals


# Exempt from CSRF: a mail client's one-click POST (RFC 8058) comes with no cookie and no
# session, and the signed token is what authorises it. The worst a forged POST could do is
# turn off a reminder for the person the token names, who can switch it back on.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what the link stops, with the button (a link scanner's GET changes nothing);
    POST stops it: the form's button, or a mail client's `List-Unsubscribe=One-Click`."""
    try:
        link = messaging.read_unsubscribe_token(token)
    except messaging.UnsubscribeLinkError:
        raise Http404("This unsubscribe link is not valid.") from None
    everything = request.POST.get("scope") == messaging.ALL_KINDS
    label = None if link.kind == messaging.ALL_KINDS else MessageKind(link.kind).label
    if request.method == "POST":
        if everything:
            link = messaging.Unsubscribe(
                user_id=link.user_id, kind=messaging.ALL_KINDS, message_id=link.message_id
            )
        try:
            messaging.unsubscribe(link)
        except messaging.UnsubscribeLinkError:
            raise Http404("This unsubscribe link is not valid.") from None
        return render(
            request,
            "messaging/unsubscribed.html",
            {"label": None if link.kind == messaging.ALL_KINDS else label},
        )
    return render(
        request, "messaging/unsubscribe.html", {"label": label, "all": messaging.ALL_KINDS}
    )


@require_GET
def renewal_calendar(request: HttpRequest, token: str) -> HttpResponse:
    """The renewal deadline a reminder named, as an `.ics` file for any calendar."""
    try:
        licence_id, renewal_date = messaging.read_calendar_token(token)
    except messaging.UnsubscribeLinkError:
        raise Http404("This calendar link is not valid.") from None
    licence = Licence.objects.filter(pk=licence_id).first()
    if licence is None:
        raise Http404("This licence is no longer on the site.")
    response = HttpResponse(
        renewals.calendar_file(licence=licence, renewal_date=renewal_date),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="licence-renewal.ics"'
    return response
