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
