"""Querysets compiled once (`ceu.rows.Prepared`) give what the ORM gives for the same queryset:
the same rows and values, related objects, annotations, deferred fields and errors; and compile
only the first time."""

import pytest
from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.db.models.sql.compiler import SQLCompiler
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from ceu.rows import Prepared
from courses.models import Certificate, OpenBadgeCredential, StatusList
from courses.services import badges, credentials
from courses.tests.credential_helpers import make_certificate
from courses.tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def fields(instance) -> dict:
    return {k: v for k, v in instance.__dict__.items() if k != "_state"}


def locked_with_learner(pk):
    return (
        Certificate.objects.select_for_update(of=("self",))
        .select_related("enrollment__user", "open_badge")
        .filter(pk=pk)
    )


def with_replaced_code(pk):
    return Certificate.objects.annotate(
        replaces_code=Subquery(
            Certificate.objects.filter(superseded_by=OuterRef("pk"))
            .exclude(pk=OuterRef("pk"))
            .values("code")[:1]
        )
    ).filter(pk=pk)


def test_a_locked_row_with_related_rows_is_the_one_the_orm_gives():
    certificate = make_certificate()
    badges.issue_credential(certificate)
    other = make_certificate(email="sam@example.org", slug="other")  # no credential yet
    prepared = Prepared(locked_with_learner)

    with transaction.atomic():
        for pk in (certificate.pk, other.pk):
            mine, orms = prepared.get(pk), locked_with_learner(pk).get()
            # The related rows came with it, as select_related brings them: no query to read.
            assert Certificate.enrollment.is_cached(mine)
            assert type(mine.enrollment).user.is_cached(mine.enrollment)
            assert Certificate.open_badge.is_cached(mine)
            assert fields(mine) == fields(orms)
            assert fields(mine.enrollment) == fields(orms.enrollment)
            assert fields(mine.enrollment.user) == fields(orms.enrollment.user)
            assert (mine._state.db, mine._state.adding) == (orms._state.db, False)
    with transaction.atomic():
        assert fields(prepared.get(certificate.pk).open_badge) == fields(
            OpenBadgeCredential.objects.get(certificate=certificate)
        )
        assert getattr(prepared.get(other.pk), "open_badge", None) is None


def test_annotations_come_as_the_orm_gives_them(django_user_model):
    certificate = make_certificate()
    registrar = django_user_model.objects.create(email="registrar@example.org", is_staff=True)
    replacement = credentials.reissue_certificate(
        certificate=certificate, reason="Name misspelt", acting_user=registrar
    )
    prepared = Prepared(with_replaced_code)

    assert prepared.get(replacement.pk).replaces_code == certificate.code
    assert prepared.get(certificate.pk).replaces_code is None
    assert fields(prepared.get(replacement.pk)) == fields(with_replaced_code(replacement.pk).get())


def test_deferred_fields_stay_deferred():
    badges.issue_credential(make_certificate())  # a status list opened
    prepared = Prepared(lambda: StatusList.objects.filter(full=False).defer("bits").order_by("pk"))

    mine, orms = prepared.first(), StatusList.objects.filter(full=False).defer("bits").first()

    assert mine.get_deferred_fields() == orms.get_deferred_fields() == {"bits"}
    assert fields(mine) == fields(orms)


def test_every_row_comes_in_the_querysets_order():
    certificate = make_certificate()
    course = certificate.enrollment.course
    credentials.issue_certificate(
        enrollment=EnrollmentFactory(course=course, completed_at=timezone.now())
    )
    in_course = Prepared(
        lambda pk: Certificate.objects.filter(enrollment__course_id=pk).order_by("-pk")
    )

    mine = in_course.all(course.pk)
    orms = list(Certificate.objects.filter(enrollment__course_id=course.pk).order_by("-pk"))
    assert [fields(row) for row in mine] == [fields(row) for row in orms]
    assert len(mine) == 2
    assert in_course.all(course.pk + 1000) == []


def test_text_keys_are_compared_as_they_are():
    certificate = make_certificate()
    by_code = Prepared(lambda code: Certificate.objects.filter(code=code))
    in_course = Prepared(
        lambda code, pk: Certificate.objects.filter(code=code, enrollment__course_id=pk)
    )

    assert fields(by_code.get(certificate.code)) == fields(
        Certificate.objects.get(pk=certificate.pk)
    )
    assert by_code.first(certificate.code.lower()) is None
    assert by_code.first("%") is None
    assert in_course.get(certificate.code, certificate.enrollment.course_id).pk == certificate.pk
    assert in_course.first(certificate.code, certificate.enrollment.course_id + 1) is None


def test_missing_and_duplicate_rows_raise_as_get_does():
    certificate = make_certificate()
    in_course = Prepared(lambda pk: Certificate.objects.filter(enrollment__course_id=pk))
    course = certificate.enrollment.course

    with pytest.raises(Certificate.DoesNotExist):
        Prepared(lambda pk: Certificate.objects.filter(pk=pk)).get(certificate.pk + 1000)
    assert Prepared(lambda pk: Certificate.objects.filter(pk=pk)).first(0) is None
    assert in_course.get(course.pk).pk == certificate.pk
    credentials.issue_certificate(
        enrollment=EnrollmentFactory(course=course, completed_at=timezone.now())
    )
    with pytest.raises(Certificate.MultipleObjectsReturned):
        in_course.get(course.pk)


def refusal(lookup) -> str:
    try:
        lookup()
    except TransactionManagementError as refused:
        return str(refused)
    return "none"


@pytest.mark.django_db(transaction=True)
def test_locking_outside_a_transaction_is_refused_where_the_orm_refuses_it():
    certificate = make_certificate()
    prepared = Prepared(locked_with_learner)
    with transaction.atomic():
        prepared.get(certificate.pk)

    orms = refusal(lambda: locked_with_learner(certificate.pk).get())
    assert refusal(lambda: prepared.get(certificate.pk)) == orms
    if connection.features.has_select_for_update:  # SQLite locks nothing, and refuses nothing
        assert orms == "select_for_update cannot be used outside of a transaction."


def test_the_statement_is_compiled_once(monkeypatch, django_assert_num_queries):
    certificate = make_certificate()
    other = make_certificate(email="sam@example.org", slug="other")
    prepared = Prepared(with_replaced_code)
    prepared.get(certificate.pk)
    compiled = []
    as_sql = SQLCompiler.as_sql

    def noting(self, *args, **kwargs):
        compiled.append(self.query.model)
        return as_sql(self, *args, **kwargs)

    monkeypatch.setattr(SQLCompiler, "as_sql", noting)

    with django_assert_num_queries(2):
        assert prepared.get(other.pk).code == other.code
        assert prepared.get(certificate.pk).code == certificate.code
    assert compiled == []


def test_querysets_it_cannot_reproduce_are_refused():
    make_certificate()

    with pytest.raises(ValueError, match="model instances"):
        Prepared(lambda pk: Certificate.objects.filter(pk=pk).values("code")).get(1)
    with pytest.raises(ValueError, match="each key"):
        Prepared(lambda pk: Certificate.objects.all()).get(1)
    with pytest.raises(ValueError, match="each key"):
        Prepared(lambda pk: Certificate.objects.filter(pk=pk, enrollment_id=pk)).get(1)
