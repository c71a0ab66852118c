"""Rows read through a statement built once, with each value converted as the ORM converts it.

For the few lookups a request makes every time (the signed-in user, a heartbeat's rows), building
the query through the ORM costs more than running it. Such a statement is written once per
database from the model's own table and column names; what comes back still passes through each
field's own conversions (SQLite's text timestamps and integer booleans, JSON), in the ORM's
order: the database's converters first, then the field's.

Every name in these statements comes from the models' metadata, quoted by the database's own
rules; every value is a parameter."""

# ruff: noqa: S608

from collections.abc import Callable, Sequence
from typing import Any

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


_BY_PK: dict[tuple[str, str, type[Model]], tuple[str, list[str], list[Reader]]] = {}


def by_pk(manager, pk: Any) -> Model:
    """The manager's model with this primary key, whole, as `manager.get(pk=pk)` gives it: the
    same row, the same DoesNotExist or ValueError. One statement per database and model, built
    the first time (`UserManager.get`: the signed-in user, loaded on every request)."""
    model = manager.model
    connection = connections[manager.db]
    key = (connection.alias, connection.vendor, model)
    built = _BY_PK.get(key)
    if built is None:
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        fields = model._meta.concrete_fields
        columns = ", ".join(f"{table}.{quote(f.column)}" for f in fields)
        sql = f"SELECT {columns} FROM {table} WHERE {table}.{quote(model._meta.pk.column)} = %s"
        built = _BY_PK[key] = (
            sql,
            [f.attname for f in fields],
            readers(connection, model, [f.name for f in fields]),
        )
    sql, attnames, row_readers = built
    pk_field = model._meta.pk
    value = pk_field.get_db_prep_value(pk_field.get_prep_value(pk), connection, prepared=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
    return model.from_db(connection.alias, attnames, read(row, row_readers))


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


class Prepared:
    """`build(*keys)` gives a queryset of one model filtered by keys (integers: primary or foreign
    keys; or texts: codes, fingerprints), each compared as it is (exact lookups);
    `get(*keys)`, `first(*keys)` and `all(*keys)` return what that queryset's `get()`, first row
    and list would, with the statement compiled once per database. Only plain querysets: rows of
    model instances, optionally with select_related, select_for_update and annotations."""

    def __init__(self, build: Callable[..., Any]) -> None:
        self.build = build
        self._compiled: dict[tuple, tuple] = {}  # by database, and which keys are texts

    def _compile(self, keys: tuple) -> tuple:
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
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return (
            queryset.db,
            sql,
            params,
            places,
            # Django refuses to lock outside a transaction only where the database locks rows.
            bool(queryset.query.select_for_update)
            and connections[queryset.db].features.has_select_for_update,
            compiler,
            klass_info["model"],
            (start, end),
            [column[0].target.attname for column in select[start:end]],
            get_related_populators(klass_info, select, queryset.db),
            dict(compiler.annotation_col_map or {}),
        )

    def _rows(self, keys: tuple, limit: int | None) -> tuple[type[Model], list[Model]]:
        from django.db import DEFAULT_DB_ALIAS
        from django.db.transaction import TransactionManagementError

        kinds = (DEFAULT_DB_ALIAS, *(isinstance(key, str) for key in keys))
        compiled = self._compiled.get(kinds)
        if compiled is None:
            compiled = self._compiled[kinds] = self._compile(keys)
        using, sql, params, places, locks, compiler, model, (start, end), names, related, extra = (
            compiled
        )
        connection = connections[using]
        if locks and connection.get_autocommit():
            raise TransactionManagementError(
                "select_for_update cannot be used outside of a transaction."
            )
        params = list(params)
        for place, key in zip(places, keys, strict=True):
            params[place] = key if isinstance(key, str) else int(key)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall() if limit is None else cursor.fetchmany(limit)
        found = []
        for row in compiler.results_iter([fetched]):
            instance = model.from_db(using, names, row[start:end])
            for populator in related:
                populator.populate(row, instance)
            for name, place in extra.items():
                setattr(instance, name, row[place])
            found.append(instance)
        return model, found

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
