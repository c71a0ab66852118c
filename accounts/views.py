"""The learner's own account pages. Every licence is looked up among the signed-in learner's own,
so another learner's licence answers 404. The licence form shows what the board's rule says for
the chosen jurisdiction and profession (`courses.selectors.boards`); the learner's own renewal
date and hours are what is stored."""

import copy
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from courses.selectors.boards import no_rule_in_words, renewal_suggestion
from courses.services import messaging

from . import services
from .forms import LicenceForm, MessagePreferencesForm, ProfileForm
from .jurisdictions import Jurisdiction
from .models import Profession
from .selectors import licences_for


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    # Two forms on the page, each with its own button: the name, and the messages wanted.
    saving_preferences = MessagePreferencesForm.SUBMIT in request.POST
    form = ProfileForm(
        request.POST if request.method == "POST" and not saving_preferences else None,
        instance=request.user,
    )
    preferences = MessagePreferencesForm(
        request.POST if saving_preferences else None, instance=copy.copy(request.user)
    )
    if saving_preferences and preferences.is_valid():
        messaging.set_preferences(user=request.user, **preferences.cleaned_data)
        messages.success(request, _("Your message preferences are saved."))
        return redirect("accounts:profile")
    if request.method == "POST" and not saving_preferences and form.is_valid():
        services.rename(user=request.user, full_name=form.cleaned_data["full_name"])
        messages.success(request, _("Your name is saved. Certificates from now on print it."))
        return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "preferences": preferences,
            "licences": licences_for(user=request.user),
        },
    )


@login_required
def licence_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "accounts/licence_list.html", {"licences": licences_for(user=request.user)}
    )


@login_required
def licence_detail(request: HttpRequest, pk: int) -> HttpResponse:
    licence = get_object_or_404(licences_for(user=request.user), pk=pk)
    return render(request, "accounts/licence_detail.html", {"licence": licence})


def _issue_date(value: str) -> date | None:
    """The date first licensed as the form or the query gives it (YYYY-MM-DD); None when absent
    or not a date, in the future, or too far back to be a licence's."""
    try:
        issued_on = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return issued_on if date(1900, 1, 1) <= issued_on <= timezone.localdate() else None


def _rule_hint(jurisdiction: str, profession: str, issued_on: str = "") -> dict:
    """What the licence form shows for a jurisdiction and profession: the board's rule in words,
    or that the site has none. Nothing until both are chosen."""
    if jurisdiction not in Jurisdiction.values or profession not in Profession.values:
        return {"suggestion": None, "no_rule_hint": ""}
    suggestion = renewal_suggestion(jurisdiction, profession, issued_on=_issue_date(issued_on))
    return {
        "suggestion": suggestion,
        "no_rule_hint": "" if suggestion else no_rule_in_words(jurisdiction, profession),
    }


def _suggesting(request: HttpRequest) -> bool:
    return request.method == "POST" and LicenceForm.SUGGEST in request.POST


@login_required
@require_http_methods(["GET", "POST"])
def licence_add(request: HttpRequest) -> HttpResponse:
    submit_label = _("Add licence")
    hint = _rule_hint(
        request.POST.get("jurisdiction", ""),
        request.POST.get("profession", ""),
        request.POST.get("issued_on", ""),
    )
    if _suggesting(request):
        # The learner asked what the board's rule says: nothing is saved yet.
        form = LicenceForm.with_suggestion(
            request.POST, suggestion=hint["suggestion"], submit_label=submit_label
        )
        return render(request, "accounts/licence_form.html", {"form": form, "adding": True, **hint})
    form = LicenceForm(request.POST or None, submit_label=submit_label)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_licence(user=request.user, **form.cleaned_data)
        except services.LicenceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Licence added."))
            return redirect("accounts:licence_list")
    return render(request, "accounts/licence_form.html", {"form": form, "adding": True, **hint})


@login_required
@require_http_methods(["GET", "POST"])
def licence_edit(request: HttpRequest, pk: int) -> HttpResponse:
    licence = get_object_or_404(licences_for(user=request.user), pk=pk)
    if request.method == "POST":
        hint = _rule_hint(
            request.POST.get("jurisdiction", ""),
            request.POST.get("profession", ""),
            request.POST.get("issued_on", ""),
        )
    else:
        hint = _rule_hint(
            licence.jurisdiction,
            licence.profession,
            licence.issued_on.isoformat() if licence.issued_on else "",
        )
    context = {"licence": licence, "adding": False, **hint}
    if _suggesting(request):
        form = LicenceForm.with_suggestion(
            request.POST, suggestion=hint["suggestion"], instance=copy.copy(licence)
        )
        return render(request, "accounts/licence_form.html", {"form": form, **context})
    # The form edits a copy, so a refused change leaves the licence on the page as it is.
    form = LicenceForm(request.POST or None, instance=copy.copy(licence))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_licence(licence=licence, **form.cleaned_data)
        except services.LicenceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Licence saved."))
            return redirect("accounts:licence_list")
    return render(request, "accounts/licence_form.html", {"form": form, **context})


@login_required
@require_http_methods(["GET", "POST"])
def licence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    licence = get_object_or_404(licences_for(user=request.user), pk=pk)
    if request.method == "POST":
        services.remove_licence(licence=licence)
        messages.success(request, _("Licence removed."))
        return redirect("accounts:licence_list")
    return render(request, "accounts/licence_confirm_delete.html", {"licence": licence})


def _json_error(message: str, *, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


def licence_rules(request: HttpRequest) -> JsonResponse:
    """What the board's rule says for `?jurisdiction=FL&profession=professional_counselor`: how
    the renewal date is set and the hours, in words, with the date the rule was checked; the
    licence form asks it when both are chosen. Board rules are public: no sign-in needed. Bad
    input answers 400 JSON, other methods 405 JSON."""
    if request.method not in ("GET", "HEAD"):
        response = _json_error(_("Only GET is allowed here."), status=405)
        response["Allow"] = "GET, HEAD"
        return response
    jurisdiction = request.GET.get("jurisdiction", "")
    profession = request.GET.get("profession", "")
    problems = {}
    if jurisdiction not in Jurisdiction.values:
        problems["jurisdiction"] = _("Give a jurisdiction by its code, such as FL or ON.")
    if profession not in Profession.values:
        problems["profession"] = _("Give a profession by its code: %(codes)s.") % {
            "codes": ", ".join(Profession.values)
        }
    issued_on = request.GET.get("issued_on", "")
    if issued_on and _issue_date(issued_on) is None:
        problems["issued_on"] = _("Give the date first licensed as YYYY-MM-DD, not after today.")
    if problems:
        return _json_error(
            _("Choose a jurisdiction and a profession from the lists."),
            status=400,
            fields=problems,
        )
    suggestion = renewal_suggestion(jurisdiction, profession, issued_on=_issue_date(issued_on))
    if suggestion is None:
        return JsonResponse(
            {
                "found": False,
                "jurisdiction": jurisdiction,
                "profession": profession,
                "hint": no_rule_in_words(jurisdiction, profession),
            }
        )
    return JsonResponse(suggestion.as_json())
