"""Keyset pagination: no OFFSET, no COUNT(*), constant cost at any depth of a long list."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Field, Q, QuerySet
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
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
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


def keyset_page(
    queryset: QuerySet,
    request,
    *,
    key: str | tuple[str, ...] = "id",
    descending: bool = False,
    size: int = PAGE_SIZE,
) -> Page:
    """Return one page of `queryset` ordered by `key` (unique as a tuple), after the request's cursor.

    A malformed or forged cursor (wrong shape, wrong types, out-of-range numbers, impossible dates)
    silently restarts at the first page rather than erroring.
    """
    keys = (key,) if isinstance(key, str) else key
    params = {k: v for k, v in request.GET.items() if k != "after"}
    cursor = _decode(request.GET.get("after", ""), len(keys)) if request.GET.get("after") else None
    values = _clean_cursor(queryset, keys, cursor) if cursor is not None else None
    if values is None:
        cursor = None
    else:
        op = "lt" if descending else "gt"
        condition = Q()
        # (a, b) > (x, y)  ==  a > x OR (a = x AND b > y)
        for i in range(len(keys)):
            term = Q(**{f"{keys[i]}__{op}": values[i]})
            for j in range(i):
                term &= Q(**{keys[j]: values[j]})
            condition |= term
        queryset = queryset.filter(condition)
    ordering = [f"-{k}" if descending else k for k in keys]
    rows = list(queryset.order_by(*ordering)[: size + 1])
    next_cursor = ""
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _encode([_attr(last, k) for k in keys])
    return Page(rows=rows, next_cursor=next_cursor, is_first=cursor is None, size=size, params=params)


def _key_field(queryset: QuerySet, dotted: str) -> Field:
    annotation = queryset.query.annotations.get(dotted)
    if annotation is not None:
        return annotation.output_field
    model = queryset.model
    *relations, name = dotted.split("__")
    for part in relations:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field(name)


def _clean_cursor(queryset: QuerySet, keys: tuple[str, ...], raw: list) -> list | None:
    """Return the cursor's values as the key fields' Python values, or None if any is not one."""
    values = []
    for dotted, value in zip(keys, raw, strict=True):
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


def _attr(obj, dotted: str):
    value = obj
    for part in dotted.split("__"):
        value = getattr(value, part)
    return value
