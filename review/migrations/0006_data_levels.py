"""数据等级 of the records approved before levels existed (docs/data-standard.md §2.11), computed as the
approval computes it now (review.jurisdiction.approval_level): from the record's last approving
decision — the design division A; a roster reviewer at the level of the roster line covering the
post (province A, prefecture B, county C, the new area's bureau B). Platform-origin records keep D
(their level is the platform's, taken from what it sends)."""

from django.db import migrations

KINDS = {
    "drawing_review": "drawingreview",
    "addition_request": "drawingreviewadditionrequest",
    "permit": "constructionpermit",
    "tender_contract": "tendercontract",
    "completion": "completion",
    "specialty_info": "specialtyprojectinfo",
}
LEVELS = {"province": "A", "prefecture": "B", "county": "C"}


def _covering(code: str) -> list[str]:
    return list(dict.fromkeys([code, code[:4] + "00", code[:2] + "0000"]))


def _level(task, Assignment) -> str:
    if task.performer == "design_division":
        return "A"
    if task.performer != "roster" or task.decided_by_id is None or not task.division_code:
        return "D"
    lines = Assignment.objects.filter(user_id=task.decided_by_id, stage=task.stage).select_related("division")
    levels = []
    for line in lines:
        if task.zone:
            if line.zone_id and line.zone.slug == task.zone:
                levels.append("B")
            elif line.division_id == task.division_code[:2] + "0000":
                levels.append("A")
        elif line.division_id in _covering(task.division_code):
            levels.append(LEVELS[line.division.level])
    return min(levels, default="D")


def forwards(apps, schema_editor):
    Task = apps.get_model("review", "Task")
    Assignment = apps.get_model("review", "ReviewerAssignment")
    for kind, model_name in KINDS.items():
        Model = apps.get_model("projects", model_name)
        approved = Model.objects.filter(state="approved").exclude(origin="platform")
        for record_id in approved.values_list("pk", flat=True).iterator(chunk_size=2000):
            task = (
                Task.objects.filter(kind=kind, record_id=record_id, status="done", outcome="approved")
                .order_by("-decided_at", "-id")
                .first()
            )
            if task is not None:
                level = _level(task, Assignment)
                if level != "D":
                    Model.objects.filter(pk=record_id).update(data_level=level)


class Migration(migrations.Migration):
    dependencies = [
        ("review", "0005_task_due_sort_indexes"),
        ("projects", "0010_data_level"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
