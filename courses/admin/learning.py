"""Learners' enrollments in the admin: read-only records of who took what, and the repeats a
registrar allowed."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext_lazy as _

from courses.models import Enrollment, LessonProgress, RepeatAllowance
from courses.services import learning


class LessonProgressInline(admin.TabularInline):
    model = LessonProgress
    extra = 0
    can_delete = False
    readonly_fields = [
        "lesson",
        "engaged_seconds",
        "position_seconds",
        "furthest_seconds",
        "completed_at",
    ]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "enrolled_at", "engaged_seconds", "completed_at"]
    list_filter = ["course", "completed_at"]
    search_fields = ["user__email", "user__full_name", "course__title"]
    list_select_related = ["user", "course"]
    readonly_fields = [
        "user",
        "course",
        "enrolled_at",
        "engaged_seconds",
        "last_lesson",
        "completed_at",
    ]
    inlines = [LessonProgressInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Enrollments are the audit record of who took what: kept, never deleted.
        return False


class KeysOnlyAutocompleteSelect(AutocompleteSelect):
    """Redrawing a form with errors, Django's autocomplete looks the submitted value up as a key:
    a value that cannot be one ("abc") would raise instead of showing "Select a valid choice"."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if str(v).isdigit()], attr)


class RepeatAllowanceForm(forms.ModelForm):
    class Meta:
        model = RepeatAllowance
        fields = ["user", "course", "reason"]
        labels = {"user": _("learner"), "course": _("course (the edition to repeat)")}
        help_texts = {
            "reason": _(
                "Why this learner may earn credit again from this edition although they earned "
                "it from another (a board's written request, say). The audit trail keeps it."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        user, course = cleaned.get("user"), cleaned.get("course")
        granted = RepeatAllowance.objects.filter(user=user, course=course).first()
        if granted is not None:
            # On the field, so the model's bare "constraint violated" is not said as well.
            self.add_error(
                "user",
                _("This learner may already repeat this course: %(who)s allowed it on %(date)s.")
                % {"who": granted.granted_by, "date": f"{granted.granted_at:%B %-d, %Y}"},
            )
        return cleaned


@admin.register(RepeatAllowance)
class RepeatAllowanceAdmin(admin.ModelAdmin):
    """Registrars allow a repeat here; once saved it is a record, read-only and never deleted.
    Saving goes through `learning.allow_repeat`, which records who allowed it and why."""

    form = RepeatAllowanceForm
    list_display = ["user", "course", "granted_by", "granted_at"]
    list_select_related = ["user", "course", "granted_by"]
    search_fields = ["user__email", "user__full_name", "course__title", "reason"]
    autocomplete_fields = ["user", "course"]
    readonly_fields = ["granted_by", "granted_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.autocomplete_fields:
            kwargs["widget"] = KeysOnlyAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None) -> list[str]:
        fields = ["user", "course", "reason"]
        return fields if obj is None else [*fields, "granted_by", "granted_at"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        allowance = learning.allow_repeat(
            user=form.cleaned_data["user"],
            course=form.cleaned_data["course"],
            reason=form.cleaned_data["reason"],
            acting_user=request.user,
        )
        # The admin goes on with the object it built (its log entry, the redirect): make it the
        # saved one.
        obj.pk = allowance.pk
        obj.granted_by = allowance.granted_by
        obj.granted_at = allowance.granted_at
        obj._state.adding = False
