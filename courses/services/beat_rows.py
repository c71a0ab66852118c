"""The rows a heartbeat reads and writes, through statements built once per database.

A beat arrives every few seconds from every open lesson page and runs the same five statements
each time: lock the learner's clock, lock the enrollment with its lessons' progress, write each
back. Built by the ORM on every beat, those statements cost more than running them. Here each
is written once per database from the models' own table and column names, and each value
crosses to and from the database through its field's own conversions, as the ORM would do it.
On PostgreSQL the locks go in one round trip, and the writes in another.

The rules of crediting live in `learning.record_heartbeat`; this module only moves its rows."""

# Every name in these statements comes from the models' metadata, quoted by the database's own
# rules; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.db.models import Model

from ceu import rows
from courses.models import EngagementClock, Enrollment, LessonProgress


@dataclass
class ClockRow:
    user_id: int
    last_beat_at: datetime | None
    carried_seconds: float

    @property
    def pk(self) -> int:
        # A clock's key is its learner (one clock per learner).
        return self.user_id


@dataclass
class EnrollmentRow:
    pk: int
    engaged_seconds: int
    last_lesson_id: int | None


@dataclass
class ProgressRow:
    pk: int
    lesson_id: int
    engaged_seconds: int
    position_seconds: int
    furthest_seconds: float
    completed_at: datetime | None
    updated_at: datetime | None


_CLOCK = ("user", "last_beat_at", "carried_seconds")
_PROGRESS = (
    "id",
    "lesson",
    "engaged_seconds",
    "position_seconds",
    "furthest_seconds",
    "completed_at",
    "updated_at",
)
_ENROLLMENT = ("id", "engaged_seconds", "last_lesson")
# What a beat writes back: all it reads of a progress row but the row's and the lesson's ids.
_PROGRESS_WRITTEN = _PROGRESS[2:]


class _Statements:
    """The beat's statements for one database connection's vendor and features."""

    def __init__(self, connection) -> None:
        self.connection = connection
        quote = connection.ops.quote_name

        def column(model: type[Model], name: str) -> str:
            return f"{quote(model._meta.db_table)}.{quote(rows.field(model, name).column)}"

        def assignments(model: type[Model], names: tuple[str, ...]) -> str:
            return ", ".join(f"{quote(rows.field(model, name).column)} = %s" for name in names)

        locks = connection.features.has_select_for_update
        # Several statements in one execute: PostgreSQL's client-side binding takes them, and
        # each costs a round trip less; SQLite's driver runs one statement at a time.
        self.one_trip = connection.vendor == "postgresql"
        clock, progress, enrollment = (
            quote(model._meta.db_table) for model in (EngagementClock, LessonProgress, Enrollment)
        )
        self.lock_clock = (
            f"SELECT {', '.join(column(EngagementClock, name) for name in _CLOCK)} "
            f"FROM {clock} WHERE {column(EngagementClock, 'user')} = %s"
            + (" FOR UPDATE" if locks else "")
        )
        # Only the learner's own rows are locked: never the lessons or the course, which every
        # learner's beat reads.
        of = (
            f" OF {progress}, {enrollment}"
            if locks and connection.features.has_select_for_update_of
            else ""
        )
        self.lock_progress = (
            f"SELECT {', '.join(column(Enrollment, name) for name in _ENROLLMENT)}, "
            f"{', '.join(column(LessonProgress, name) for name in _PROGRESS)} "
            f"FROM {progress} INNER JOIN {enrollment} "
            f"ON ({column(LessonProgress, 'enrollment')} = {column(Enrollment, 'id')}) "
            f"WHERE {column(Enrollment, 'user')} = %s AND {column(Enrollment, 'course')} = %s"
            + (f" FOR UPDATE{of}" if locks else "")
        )
        self.write_clock = (
            f"UPDATE {clock} SET {assignments(EngagementClock, _CLOCK[1:])} "
            f"WHERE {quote(rows.field(EngagementClock, 'user').column)} = %s"
        )
        self.write_progress = (
            f"UPDATE {progress} SET {assignments(LessonProgress, _PROGRESS_WRITTEN)} "
            f"WHERE {quote(rows.field(LessonProgress, 'id').column)} = %s"
        )
        self.write_enrollment = (
            f"UPDATE {enrollment} SET {assignments(Enrollment, _ENROLLMENT[1:])} "
            f"WHERE {quote(rows.field(Enrollment, 'id').column)} = %s"
        )
        self.read_clock = rows.readers(connection, EngagementClock, _CLOCK)
        self.read_enrollment = rows.readers(connection, Enrollment, _ENROLLMENT)
        self.read_progress = rows.readers(connection, LessonProgress, _PROGRESS)

    def update(self, sql: str, model: type[Model], names: tuple[str, ...], row) -> tuple:
        """The UPDATE statement with its values from the row (its attributes are named as the
        model's), each prepared by its field; the row's key last."""
        values = []
        for name in names:
            field = rows.field(model, name)
            values.append(field.get_db_prep_save(getattr(row, field.attname), self.connection))
        return sql, [*values, row.pk]


_built: dict[tuple[str, str], _Statements] = {}


def _statements() -> tuple[Any, _Statements]:
    connection = connections[router.db_for_write(EngagementClock)]
    key = (connection.alias, connection.vendor)
    statements = _built.get(key)
    if statements is None:
        statements = _built[key] = _Statements(connection)
    return connection, statements


def lock(user_id: int, course_id: int) -> tuple[ClockRow | None, EnrollmentRow | None, list]:
    """The learner's clock, then their enrollment in the course with its lessons' progress
    (`ProgressRow`s), each locked until the transaction ends, in that order, always. The clock
    is None before the learner's first beat, the enrollment before the course's first progress
    row. PostgreSQL takes both statements in one round trip."""
    connection, statements = _statements()
    with connection.cursor() as cursor:
        if statements.one_trip:
            cursor.execute(
                f"{statements.lock_clock}; {statements.lock_progress}",
                [user_id, user_id, course_id],
            )
            clock = cursor.fetchone()
            cursor.nextset()
        else:
            cursor.execute(statements.lock_clock, [user_id])
            clock = cursor.fetchone()
            cursor.execute(statements.lock_progress, [user_id, course_id])
        found = cursor.fetchall()
    if clock is not None:
        clock = ClockRow(*rows.read(clock, statements.read_clock))
    if not found:
        return clock, None, []
    width = len(_ENROLLMENT)
    enrollment = EnrollmentRow(*rows.read(found[0][:width], statements.read_enrollment))
    progress = [ProgressRow(*rows.read(row[width:], statements.read_progress)) for row in found]
    return clock, enrollment, progress


def write(
    clock: ClockRow,
    progress: ProgressRow | None = None,
    enrollment: EnrollmentRow | None = None,
) -> None:
    """Write back the clock, and the progress and the enrollment where given; PostgreSQL takes
    the statements in one round trip."""
    connection, statements = _statements()
    writes = [statements.update(statements.write_clock, EngagementClock, _CLOCK[1:], clock)]
    if progress is not None:
        writes.append(
            statements.update(
                statements.write_progress, LessonProgress, _PROGRESS_WRITTEN, progress
            )
        )
    if enrollment is not None:
        writes.append(
            statements.update(statements.write_enrollment, Enrollment, _ENROLLMENT[1:], enrollment)
        )
    with connection.cursor() as cursor:
        if statements.one_trip:
            cursor.execute(
                "; ".join(sql for sql, _values in writes),
                [value for _sql, values in writes for value in values],
            )
        else:
            for sql, values in writes:
                cursor.execute(sql, values)


def _as_row(instance: Model, names: tuple[str, ...]) -> list:
    return [getattr(instance, rows.field(type(instance), name).attname) for name in names]


def progress_row(progress: LessonProgress) -> ProgressRow:
    """A progress row just made through the ORM (a lesson's first beat), as a beat keeps it."""
    return ProgressRow(*_as_row(progress, _PROGRESS))


def enrollment_row(enrollment: Enrollment) -> EnrollmentRow:
    return EnrollmentRow(*_as_row(enrollment, _ENROLLMENT))
