"""Load Yunnan's divisions and 滇中新区; on PostgreSQL make the audit table append-only.

UPDATE and DELETE are refused row by row. TRUNCATE (a table owner's maintenance statement, and
what the test runner's flush uses) is left to database privileges: the application's role
should not own the table in production.
"""

import csv
from pathlib import Path

from django.db import migrations

CSV = Path(__file__).resolve().parent.parent / "data" / "yunnan-divisions.csv"

GUARD_SQL = """
CREATE OR REPLACE FUNCTION core_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '审计日志只能追加，不能修改或删除 (audit log is append-only)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER core_auditentry_no_update_delete
    BEFORE UPDATE OR DELETE ON core_auditentry
    FOR EACH ROW EXECUTE FUNCTION core_auditentry_append_only();
"""
UNGUARD_SQL = """
DROP TRIGGER IF EXISTS core_auditentry_no_update_delete ON core_auditentry;
DROP FUNCTION IF EXISTS core_auditentry_append_only();
"""


def load_divisions(apps, schema_editor):
    Division = apps.get_model("core", "Division")
    Zone = apps.get_model("core", "Zone")
    Division.objects.update_or_create(code="530000", defaults={"name": "云南省", "level": "province"})
    with CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for level in ("prefecture", "county"):
        for row in rows:
            if row["level"] == level:
                Division.objects.update_or_create(
                    code=row["code"],
                    defaults={"name": row["name"], "level": level, "parent_id": row["parent_code"]},
                )
    zone, _ = Zone.objects.get_or_create(slug="dianzhong", defaults={"name": "滇中新区"})
    # Host counties of 滇中新区 (commonly described as parts of 安宁市, 嵩明县 and 官渡区).
    zone.counties.set(Division.objects.filter(code__in=["530181", "530127", "530111"]))


def guard_audit(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD_SQL)


def unguard_audit(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD_SQL)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(load_divisions, migrations.RunPython.noop),
        migrations.RunPython(guard_audit, unguard_audit),
    ]
