"""Snapshots of what was submitted at each round, and the field-level difference between rounds."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db import models

from projects import workflow
from projects.models import Building, Project, ReviewableRecord
from yunjian.core.crypto import mask_id_number
from yunjian.core.fields import EncryptedIDNumberField


def carries_project(record: ReviewableRecord) -> bool:
    """Whether the record's form carries the project's basic info and buildings (notice 一(一)3, 二(二))."""
    return workflow.kind_of(record).carries_project


def display_value(instance: models.Model, name: str) -> str:
    field = instance._meta.get_field(name)
    value = getattr(instance, name)
    if value is None or value == "":
        return ""
    if isinstance(field, EncryptedIDNumberField):
        return mask_id_number(value)
    if field.choices:
        return str(getattr(instance, f"get_{name}_display")())
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def field_labels(record: ReviewableRecord) -> dict[str, str]:
    """Return {key: Chinese label} of every field a reviewer can name when returning `record`."""
    labels = {name: str(record._meta.get_field(name).verbose_name) for name in record.SNAPSHOT_FIELDS}
    if carries_project(record):
        for name in Project.BASIC_INFO_FIELDS:
            labels[f"project.{name}"] = str(Project._meta.get_field(name).verbose_name)
        labels["buildings"] = "单体及技术指标"
    return labels


def snapshot(record: ReviewableRecord) -> dict:
    """Return a JSON-safe picture of the record as submitted: display values keyed like field_labels."""
    data = {name: display_value(record, name) for name in record.SNAPSHOT_FIELDS}
    if carries_project(record) and record.project_id:
        project = record.project
        for name in Project.BASIC_INFO_FIELDS:
            data[f"project.{name}"] = display_value(project, name)
        data["buildings"] = [
            {name: display_value(b, name) for name in Building.SNAPSHOT_FIELDS}
            for b in project.buildings.all().order_by("id")
        ]
    if record.pk:
        data.update(record.snapshot_links())
    return data


def buildings_text(rows: list[dict]) -> str:
    labels = {name: str(Building._meta.get_field(name).verbose_name) for name in Building.SNAPSHOT_FIELDS}
    return "；".join("，".join(f"{labels[k]}:{v}" for k, v in row.items() if v) for row in rows)


def diff(old: dict, new: dict, labels: dict[str, str]) -> list[dict]:
    """Return the changed fields between two snapshots: [{key, label, old, new}]."""
    labels = {**labels, "drawing_reviews": "所选施工图审查信息"}
    changes = []
    for key in dict.fromkeys([*old.keys(), *new.keys()]):
        before, after = old.get(key, ""), new.get(key, "")
        if before == after:
            continue
        if key == "buildings":
            before, after = buildings_text(before or []), buildings_text(after or [])
        elif isinstance(before, list) or isinstance(after, list):
            before, after = "、".join(before or []), "、".join(after or [])
        changes.append({"key": key, "label": labels.get(key, key), "old": before, "new": after})
    return changes
