"""Querysets compiled to SQL once per process and shape, then run with new parameters.

Building a pack ran the same few `values_list` querysets on every request, and
the ORM spent about as long turning them into SQL (the visibility rule's
subqueries above all) as PostgreSQL spent answering them; so did the session
list. A `CompiledQuery`
builds its queryset from the selectors as usual (so it follows any change to
them), compiles it once per *shape* (what changes the SQL's text: a role, the
number of readings) with placeholder ids, and afterwards only puts the
request's ids in place of the placeholders and runs the SQL. Rows come back
exactly as `values_list` gives them (the fields' and the backend's
conversions are applied).

Here in `core` so that every app may use it (the pack, the notes, the session list; `sessions_app` may not
import `readings`, where it was written first).

Only whole numbers can be parameters (ids, positions), or lists of them passed
as one parameter (PostgreSQL's `= ANY(%s)`, `any_of`). The placeholders are
numbers no row has (up to a thousand arguments); the queryset is compiled twice with two sets of them, and
the SQL must read the same and each parameter must be a constant or one
placeholder in both: a queryset that does anything else with them (looks
another row up, for example) is not compiled and simply runs through the ORM.
Nothing here keeps data: only SQL text, per process.
"""

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import BigIntegerField, BooleanField, F, Func, QuerySet, Value

# Two sets of placeholder ids: near the top of a 32-bit integer column's range (the ORM turns a lookup outside
# a field's range, a negative position say, into "nothing matches"), far above any constant of a query.
_FIRST, _SECOND = 2_147_000_000, 2_146_000_000


@dataclass(frozen=True, slots=True)
class _Compiled:
    alias: str
    sql: str
    params: tuple  # each a constant, or the index of an argument (`_Slot`)
    converters: tuple  # (column, [converter], expression) for the columns the ORM converts


@dataclass(frozen=True, slots=True)
class _Slot:
    index: int
    kind: Callable  # int, or the int subclass the backend wraps it in (psycopg's Int4 for some lookups); _id_array


def _id_array(ids: Sequence[int]) -> str:
    """A list of ids as PostgreSQL's array literal: a quarter of the CPU of psycopg adapting the list."""
    return "{" + ",".join(map(str, map(int, ids))) + "}"


def any_of(field: str, ids) -> Func:
    """`filter(any_of("note_id", ids))`: PostgreSQL's `note_id = ANY(%s)`, the list of ids one parameter (one
    SQL text for any number of ids; an argument of a `CompiledQuery` may be such a list)."""
    from django.contrib.postgres.fields import ArrayField

    return Func(
        F(field),
        Value(list(ids), output_field=ArrayField(BigIntegerField())),
        template="%(expressions)s::bigint[])",
        arg_joiner=" = ANY(",
        output_field=BooleanField(),
    )


def _compile(queryset: QuerySet) -> tuple[str, tuple, tuple, str]:
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    columns = [select[0] for select in compiler.select[0 : compiler.col_count]]
    converters = tuple(
        (column, tuple(functions), expression)
        for column, (functions, expression) in compiler.get_converters(columns).items()
    )
    return sql, tuple(params), converters, queryset.db


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class CompiledQuery:
    """`build(shape, args)` → a `values_list` queryset; `rows(shape, args)` runs it, compiled once per shape."""

    def __init__(self, build: Callable[[Hashable, Sequence[int]], QuerySet]) -> None:
        self.build = build
        self._compiled: dict[Hashable, _Compiled | None] = {}

    def rows(self, shape: Hashable, args: Sequence[int | list[int]]) -> list[tuple]:
        lists = tuple(type(arg) is list for arg in args)
        key = (shape, lists)
        if key not in self._compiled:
            self._compiled[key] = self._prepare(shape, lists)
        compiled = self._compiled[key]
        if compiled is None:
            return list(self.build(shape, args))
        params = [param.kind(args[param.index]) if type(param) is _Slot else param for param in compiled.params]
        connection = connections[compiled.alias]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            converted = []
            for row in rows:
                row = list(row)
                for column, functions, expression in compiled.converters:
                    value = row[column]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[column] = value
                converted.append(tuple(row))
            rows = converted
        return rows

    def _prepare(self, shape: Hashable, lists: tuple[bool, ...]) -> _Compiled | None:
        count = len(lists)
        first = [_FIRST + n for n in range(count)]
        second = [_SECOND + n for n in range(count)]
        try:
            sql, params, converters, alias = _compile(self.build(shape, _args(first, lists)))
            sql_b, params_b, _, _ = _compile(self.build(shape, _args(second, lists)))
        except EmptyResultSet:
            return None
        if sql != sql_b or len(params) != len(params_b):
            return None
        slots = []
        for a, b in zip(params, params_b, strict=True):
            if type(a) is list and len(a) == 1 and _whole(a[0]) and a[0] in first:
                index = first.index(a[0])
                if not (lists[index] and b == [second[index]]):
                    return None
                slots.append(_Slot(index, _id_array))
            elif _whole(a) and a in first:
                if lists[first.index(a)] or not (_whole(b) and b == second[first.index(a)]):
                    return None
                slots.append(_Slot(first.index(a), type(a)))
            elif a == b and not (_whole(b) and b in second):
                slots.append(a)
            else:
                return None
        return _Compiled(alias, sql, tuple(slots), converters)


def _args(placeholders: list[int], lists: tuple[bool, ...]) -> list[int | list[int]]:
    return [[value] if as_list else value for value, as_list in zip(placeholders, lists, strict=True)]
