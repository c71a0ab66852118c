"""Rows read through a statement built once, with each value converted as the ORM converts it.

For the few lookups a request or a task makes every time (the signed-in user, a heartbeat's rows,
the certificate a worker renders), building the query through the ORM costs more than running
it. Such a statement is built once: written by hand from the model's own table and column names
(`readers` and `read` convert what comes back, for beat_rows), or compiled by Django from a
queryset (`Prepared`, and `by_pk` on it). What comes back still passes through each field's own
conversions (SQLite's text timestamps and integer booleans, JSON), in the ORM's order: the
database's converters first, then the field's. Every value is a parameter."""

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from django.db import connections
from django.db.models import Field, Model

Reader = Callable[[Any], Any] | None


def field(model: type[Model], name: str) -> Field:
    return model._meta.get_field(name)


def readers(connection, model: type[Model], names: Sequence[str]) -> list[Reader]:
    """Per column, what turns the database's value into the field's (None: nothing to do)."""
    found: list[Reader] = []
    for name in names:
        expression = field(model, name).get_col(model._meta.db_table)
        converters = [
            *connection.ops.get_db_converters(expression),
            *expression.get_db_converters(connection),
        ]
        found.append(_chain(converters, expression, connection) if converters else None)
    return found


def _chain(converters: list[Callable], expression, connection) -> Callable[[Any], Any]:
    def read(value: Any) -> Any:
        for converter in converters:
            value = converter(value, expression, connection)
        return value

    return read


def read(row: Sequence, row_readers: Sequence[Reader]) -> list:
    """The row's values as the fields hold them."""
    pairs = zip(row, row_readers, strict=True)
    return [value if reader is None else reader(value) for value, reader in pairs]


# --- Querysets compiled once ---------------------------------------------------------------------
# A queryset is compiled to SQL each time it runs: for a row locked with its related rows, or one
# with a subquery, Django's compiler takes a millisecond on a modest machine, ten times the round
# trip. `Prepared` compiles a queryset once per database, with stand-in values where the caller's
# go, and then runs that SQL with the caller's values, making the instances as Django's own
# ModelIterable makes them from the same compiler: the same fields, converters, related objects
# (select_related) and annotations. This is client-side reuse of the SQL text, not a server-side
# prepared statement.

# Stand-ins for the values, one per argument: an integer no key takes, a text no key holds.
_STAND_IN = -7_340_033_291
_TEXT_STAND_IN = "\x1fstand-in-7340033291-"


def _stand_ins(keys: tuple) -> list:
    return [
        f"{_TEXT_STAND_IN}{index}" if isinstance(key, str) else _STAND_IN - index
        for index, key in enumerate(keys)
    ]


class _Statement(NamedTuple):
    """A queryset compiled for one database, and what makes its instances from its rows. Shared
    by the process's threads: making instances only reads the compiler's columns and converters."""

    using: str
    sql: str
    params: list
    places: list[int]  # where each key goes in params
    locks: bool  # select_for_update, where the database locks rows
    compiler: Any
    converters: dict  # by column: the database's and the field's, as results_iter finds them
    model: type[Model]
    columns: slice  # the model's own columns in a row
    names: list[str]
    related: list  # select_related rows (Django's RelatedPopulator)
    annotations: dict[str, int]


class Prepared:
    """`build(*keys)` gives a queryset of one model filtered by keys (integers: primary or foreign
    keys; or texts: codes, fingerprints), each compared as it is (exact lookups);
    `get(*keys)`, `first(*keys)` and `all(*keys)` return what that queryset's `get()`, first row
    and list would, with the statement compiled once. Only plain querysets: rows of
    model instances, optionally with select_related, select_for_update and annotations."""

    def __init__(self, build: Callable[..., Any]) -> None:
        self.build = build
        # By which keys are texts. Each is compiled for the database the queryset's routing
        # names (one here).
        self._compiled: dict[tuple, _Statement] = {}

    def _compile(self, keys: tuple) -> _Statement:
        from django.db.models.query import ModelIterable, get_related_populators

        stand_ins = _stand_ins(keys)
        queryset = self.build(*stand_ins)
        if queryset._iterable_class is not ModelIterable or queryset._known_related_objects:
            raise ValueError("Prepared takes querysets of model instances only")
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        if compiler.has_extra_select:
            raise ValueError("Prepared takes no queryset selecting columns for its ordering")
        params = list(params)
        places = []
        for stand_in in stand_ins:
            found = [place for place, value in enumerate(params) if value == stand_in]
            if len(found) != 1:
                raise ValueError(f"each key must be one value of the statement: {sql}")
            places.append(found[0])
        klass_info, select = compiler.klass_info, compiler.select
        selected = [column[0] for column in select[: compiler.col_count]]
        if compiler.has_composite_fields(selected):
            raise ValueError("Prepared takes no queryset selecting composite primary keys")
        fields = klass_info["select_fields"]
        columns = slice(fields[0], fields[-1] + 1)
        return _Statement(
            using=queryset.db,
            sql=sql,
            params=params,
            places=places,
            # Django refuses to lock outside a transaction only where the database locks rows.
            locks=bool(queryset.query.select_for_update)
            and connections[queryset.db].features.has_select_for_update,
            compiler=compiler,
            converters=compiler.get_converters(selected),
            model=klass_info["model"],
            columns=columns,
            names=[column[0].target.attname for column in select[columns]],
            related=get_related_populators(klass_info, select, queryset.db),
            annotations=dict(compiler.annotation_col_map or {}),
        )

    def _rows(self, keys: tuple, limit: int | None) -> tuple[type[Model], list[Model]]:
        from django.db.transaction import TransactionManagementError

        kinds = tuple(isinstance(key, str) for key in keys)
        statement = self._compiled.get(kinds)
        if statement is None:
            statement = self._compiled[kinds] = self._compile(keys)
        connection = connections[statement.using]
        if statement.locks and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(statement.params)
        for place, key in zip(statement.places, keys, strict=True):
            params[place] = key if isinstance(key, str) else int(key)
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            fetched = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        found = []
        if statement.converters:
            fetched = statement.compiler.apply_converters(fetched, statement.converters)
        for row in fetched:
            instance = statement.model.from_db(
                statement.using, statement.names, row[statement.columns]
            )
            for populator in statement.related:
                populator.populate(row, instance)
            for name, place in statement.annotations.items():
                setattr(instance, name, row[place])
            found.append(instance)
        return statement.model, found

    def get(self, *keys: int | str) -> Model:
        model, found = self._rows(keys, 2)
        if not found:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        if len(found) > 1:
            raise model.MultipleObjectsReturned(
                f"get() returned more than one {model._meta.object_name}"
            )
        return found[0]

    def first(self, *keys: int | str) -> Model | None:
        """The queryset's first row (order it, or slice it [:1], as for the ORM's first())."""
        found = self._rows(keys, 1)[1]
        return found[0] if found else None

    def all(self, *keys: int | str) -> list[Model]:
        return self._rows(keys, None)[1]


_BY_PK: dict[type[Model], Prepared] = {}


def by_pk(manager, pk: Any) -> Model:
    """The manager's model with this primary key, whole, as `manager.get(pk=pk)` gives it: the
    same row, the same DoesNotExist or ValueError, through a statement compiled once per model
    (`UserManager.get`: the signed-in user, loaded on every request)."""
    model = manager.model
    value = model._meta.pk.get_prep_value(pk)  # Django's own ValueError for a malformed key
    if value is None:  # matches no row, as `pk=None` matches none in the ORM
        raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
    prepared = _BY_PK.get(model)
    if prepared is None:
        prepared = _BY_PK[model] = Prepared(lambda key: manager.filter(pk=key))
    return prepared.get(value)
