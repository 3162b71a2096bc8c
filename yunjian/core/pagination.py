"""Keyset pagination: no OFFSET, no COUNT(*), constant cost at any depth of a long list."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import F, Field, Q, QuerySet
from django.utils.http import urlencode

PAGE_SIZE = 50


@dataclass
class Page:
    rows: list
    next_cursor: str = ""
    is_first: bool = True
    size: int = PAGE_SIZE
    params: dict = field(default_factory=dict)

    @property
    def next_query(self) -> str:
        return urlencode({**self.params, "after": self.next_cursor})

    @property
    def first_query(self) -> str:
        return urlencode(self.params)


def _encode(values: list) -> str:
    plain = [v.isoformat() if isinstance(v, date) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _decode(cursor: str, count: int) -> list | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        return None
    if not isinstance(values, list) or len(values) != count:
        return None
    return values


def _keys(key: str | tuple[str, ...], descending: bool) -> list[tuple[str, bool]]:
    """("a", "-b") → [("a", False), ("b", True)]; `descending` flips every key."""
    keys = (key,) if isinstance(key, str) else key
    return [(k.lstrip("-"), k.startswith("-") != descending) for k in keys]


def keyset_page(
    queryset: QuerySet,
    request,
    *,
    key: str | tuple[str, ...] = "id",
    descending: bool = False,
    size: int = PAGE_SIZE,
    tag: str = "",
    not_null: tuple[str, ...] = (),
) -> Page:
    """Return one page of `queryset` ordered by `key` (unique as a tuple), after the request's cursor.

    A key "-name" runs descending (`descending=True` flips them all). A key over a column that may be
    NULL sorts its NULLs last in either direction, and the cursor carries the NULL. `tag` (the chosen
    sort, see `Sorting`) is written into the cursor: a cursor of another order restarts the list.
    `not_null` names nullable columns the queryset never returns NULL in (e.g. decided_at of decided
    steps): their order is written plainly, so that an index in the column's default NULL placement
    serves it (PostgreSQL does not match `DESC NULLS LAST` to a `DESC` index).

    A malformed or forged cursor (wrong shape, wrong types, out-of-range numbers, impossible dates)
    silently restarts at the first page rather than erroring.
    """
    keys = _keys(key, descending)
    params = {k: v for k, v in request.GET.items() if k != "after"}
    raw = request.GET.get("after", "")
    cursor = _decode(raw, len(keys) + (1 if tag else 0)) if raw else None
    if cursor is not None and tag:
        cursor = cursor[1:] if cursor[0] == tag else None
    nullable = [name not in not_null and _nullable(queryset, name) for name, _desc in keys]
    values = _clean_cursor(queryset, [k for k, _ in keys], cursor, nullable) if cursor is not None else None
    if values is None:
        cursor = None
    else:
        queryset = queryset.filter(_after(list(zip(keys, values, nullable, strict=True))))
    ordering = [
        (F(name).desc(nulls_last=True) if desc else F(name).asc(nulls_last=True))
        if null
        else (F(name).desc() if desc else F(name).asc())
        for (name, desc), null in zip(keys, nullable, strict=True)
    ]
    rows = list(queryset.order_by(*ordering)[: size + 1])
    next_cursor = ""
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _encode(([tag] if tag else []) + [_attr(last, name) for name, _desc in keys])
    return Page(rows=rows, next_cursor=next_cursor, is_first=cursor is None, size=size, params=params)


def _after(keys: list) -> Q:
    """The rows after the cursor, written as index ranges the planner can use.

    (a, b) > (x, y) is `a >= x AND (a > x OR b > y)` rather than `a > x OR (a = x AND b > y)`: the
    leading `a >= x` is a range condition on an index on (a, b), so a deep page starts where the
    cursor is instead of filtering from the first row. Descending keys mirror it (`<=`, `<`). NULLs
    sort last: after a value come the greater values and then every NULL; after a NULL, only NULLs.
    """
    (name, desc), value, nullable = keys[0]
    strict, loose = ("lt", "lte") if desc else ("gt", "gte")
    if len(keys) == 1:
        if value is None:
            return Q(pk__in=[])
        condition = Q(**{f"{name}__{strict}": value})
        return condition | Q(**{f"{name}__isnull": True}) if nullable else condition
    rest = _after(keys[1:])
    if value is None:
        return Q(**{f"{name}__isnull": True}) & rest
    condition = Q(**{f"{name}__{loose}": value}) & (Q(**{f"{name}__{strict}": value}) | rest)
    return condition | Q(**{f"{name}__isnull": True}) if nullable else condition


def _key_field(queryset: QuerySet, dotted: str) -> Field:
    annotation = queryset.query.annotations.get(dotted)
    if annotation is not None:
        return annotation.output_field
    model = queryset.model
    *relations, name = dotted.split("__")
    for part in relations:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field(name)


def _clean_cursor(queryset: QuerySet, keys: list[str], raw: list, nullable: list[bool]) -> list | None:
    """Return the cursor's values as the key fields' Python values, or None if any is not one."""
    values = []
    for dotted, value, may_be_null in zip(keys, raw, nullable, strict=True):
        if value is None and may_be_null:
            values.append(None)
            continue
        if value is None or isinstance(value, bool | dict | list | float):
            return None
        if isinstance(value, str) and "\x00" in value:
            return None
        try:
            field = _key_field(queryset, dotted)
            cleaned = field.to_python(value)
            # Range validators (integer columns), max_length, choices: what the database would refuse.
            field.run_validators(cleaned)
            if field.choices and cleaned not in {choice for choice, _label in field.flatchoices}:
                return None
        except (ValidationError, ValueError, TypeError, OverflowError, FieldDoesNotExist, AttributeError):
            return None
        if isinstance(cleaned, datetime) and cleaned.tzinfo is None:
            return None
        values.append(cleaned)
    return values


def _nullable(queryset: QuerySet, dotted: str) -> bool:
    """Whether the key can be NULL in a row: a nullable column, or one reached through a nullable
    relation (an annotation is taken as nullable unless its output field says otherwise)."""
    annotation = queryset.query.annotations.get(dotted)
    if annotation is not None:
        return bool(getattr(annotation.output_field, "null", True))
    model = queryset.model
    *relations, name = dotted.split("__")
    for part in relations:
        relation = model._meta.get_field(part)
        if relation.null:
            return True
        model = relation.related_model
    return model._meta.get_field(name).null


def _attr(obj, dotted: str):
    value = obj
    for part in dotted.split("__"):
        if value is None:
            return None
        value = getattr(value, part)
    return value


# --- Sorting by column ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A sortable column: its name in the URL (`?sort=name`, `?sort=-name` for the other direction),
    the keys it orders by when ascending (ties broken by id unless the keys end with it; "-key" runs
    the other way), and the direction a first click chooses."""

    name: str
    keys: tuple[str, ...]
    first_descending: bool = False
    # Nullable columns whose rows in this list are never NULL (see keyset_page's `not_null`).
    not_null: tuple[str, ...] = ()

    def ordering(self, descending: bool) -> tuple[str, ...]:
        keys = self.keys if self.keys[-1].lstrip("-") == "id" else (*self.keys, "id")
        if not descending:
            return keys
        return tuple(k[1:] if k.startswith("-") else f"-{k}" for k in keys)


@dataclass(frozen=True)
class Sorting:
    """The columns a list may be sorted by (nothing else is: `sort` is looked up here, never passed to
    the database) and its default order. An unknown or tampered `sort` gives the default order."""

    columns: tuple[Column, ...]
    default: str  # "name" or "-name" of one of the columns

    def choose(self, raw: str) -> tuple[Column, bool, bool]:
        """(column, descending, chosen) for the request's `sort`; chosen is False for the default."""
        by_name = {c.name: c for c in self.columns}
        raw = raw if isinstance(raw, str) else ""
        name = raw[1:] if raw.startswith("-") else raw
        if raw and name in by_name:
            return by_name[name], raw.startswith("-"), True
        name = self.default.lstrip("-")
        return by_name[name], self.default.startswith("-"), False


@dataclass
class Sorted:
    """The order a list is shown in, and its headers: `headers[name]` has the link's query (filters
    kept, cursor dropped), the arrow and aria-sort of the active column, and what a click does."""

    sort: str
    ordering: tuple[str, ...]
    headers: dict
    not_null: tuple[str, ...] = ()
    chosen: bool = False  # False: the list's default order
    reset_query: str = ""  # the list in its default order, filters kept


def sort_for(request, sorting: Sorting) -> Sorted:
    column, descending, chosen = sorting.choose(request.GET.get("sort", ""))
    current = f"-{column.name}" if descending else column.name
    headers = {}
    for c in sorting.columns:
        active = c.name == column.name
        next_descending = (not descending) if active else c.first_descending
        query = request.GET.copy()
        query.pop("after", None)
        query["sort"] = f"-{c.name}" if next_descending else c.name
        headers[c.name] = {
            "query": query.urlencode(),
            "aria": ("descending" if descending else "ascending") if active else "",
            "arrow": ("▼" if descending else "▲") if active else "",
            "action": "降序" if next_descending else "升序",
        }
    reset = request.GET.copy()
    for name in ("after", "sort"):
        reset.pop(name, None)
    return Sorted(
        sort=current,
        ordering=column.ordering(descending),
        headers=headers,
        not_null=column.not_null,
        chosen=chosen and current != sorting.default,
        reset_query=reset.urlencode(),
    )


def sorted_page(
    queryset: QuerySet, request, sorting: Sorting, *, size: int = PAGE_SIZE
) -> tuple[Page, Sorted]:
    """One keyset page of `queryset` in the order the request chose among `sorting`'s columns.

    The cursor carries the sort, so a page link keeps its order and a cursor of another order (a
    tampered link) restarts at the first page of the order asked for.
    """
    chosen = sort_for(request, sorting)
    page = keyset_page(
        queryset, request, key=chosen.ordering, size=size, tag=chosen.sort, not_null=chosen.not_null
    )
    return page, chosen
