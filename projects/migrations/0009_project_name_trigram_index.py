"""Project names searched by substring (the permit picker: "标准厂房" finds 曲靖经开区标准厂房二期):
a pg_trgm GIN index keeps LIKE '%…%' fast at 200,000 projects. PostgreSQL only; the extension is
created by core's migration 0004."""

from django.db import migrations

FORWARD = ("CREATE INDEX IF NOT EXISTS project_name_trgm_idx ON projects_project USING gin (name gin_trgm_ops)",)
BACKWARD = ("DROP INDEX IF EXISTS project_name_trgm_idx",)


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_organization_is_verified_and_name_trigram"),
        ("projects", "0008_entry_submission_tokens"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
