"""The go-live checklist in the admin, at /admin/go-live/ (wrapped by the admin site's
`admin_view`: signed-in, active staff past the two-factor step). Superusers (operators) see it
and send the test message; registrars may see it."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from courses.services import golive

REGISTRARS = "Registrars"


class TestMessageForm(forms.Form):
    to = forms.EmailField(label="Send a test message to")


def may_view(user) -> bool:
    return user.is_superuser or user.groups.filter(name=REGISTRARS).exists()


def go_live_view(request: HttpRequest) -> HttpResponse:
    if not may_view(request.user):
        raise PermissionDenied
    form = TestMessageForm(request.POST or None, initial={"to": request.user.email})
    if request.method == "POST":
        if not request.user.is_superuser:
            raise PermissionDenied
        if form.is_valid():
            to = form.cleaned_data["to"]
            try:
                golive.send_test_message(to=to, actor=request.user)
            except OSError as exc:  # SMTP refused or unreachable
                messages.error(request, f"The test message could not be sent: {exc}")
            else:
                messages.success(request, f"A test message was sent to {to}: check it arrived.")
            return redirect("admin_go_live")
    items = golive.checklist()
    context = {
        **admin.site.each_context(request),
        "title": "Go-live checklist",
        "items": items,
        "all_pass": all(item.passed for item in items),
        "form": form,
        "may_send": request.user.is_superuser,
    }
    return TemplateResponse(request, "admin/go_live.html", context)
