"""The learner's own account pages. Every licence is looked up among the signed-in learner's own,
so another learner's licence answers 404."""

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import services
from .forms import LicenceForm, ProfileForm
from .selectors import licences_for


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.rename(user=request.user, full_name=form.cleaned_data["full_name"])
        messages.success(request, _("Your name is saved. Certificates from now on print it."))
        return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "licences": licences_for(user=request.user)},
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


@login_required
@require_http_methods(["GET", "POST"])
def licence_add(request: HttpRequest) -> HttpResponse:
    form = LicenceForm(request.POST or None, submit_label=_("Add licence"))
    if request.method == "POST" and form.is_valid():
        try:
            services.add_licence(user=request.user, **form.cleaned_data)
        except services.LicenceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Licence added."))
            return redirect("accounts:licence_list")
    return render(request, "accounts/licence_form.html", {"form": form, "adding": True})


@login_required
@require_http_methods(["GET", "POST"])
def licence_edit(request: HttpRequest, pk: int) -> HttpResponse:
    licence = get_object_or_404(licences_for(user=request.user), pk=pk)
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
    return render(
        request, "accounts/licence_form.html", {"form": form, "licence": licence, "adding": False}
    )


@login_required
@require_http_methods(["GET", "POST"])
def licence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    licence = get_object_or_404(licences_for(user=request.user), pk=pk)
    if request.method == "POST":
        services.remove_licence(licence=licence)
        messages.success(request, _("Licence removed."))
        return redirect("accounts:licence_list")
    return render(request, "accounts/licence_confirm_delete.html", {"licence": licence})
