import json

import pytest
from django.core.management import call_command

from projects.models import ConstructionPermit, DrawingReview, Project


def run(*args):
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("load_records", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_smoke(pms_files):
    code, out, err = run(
        str(pms_files["projects"]), str(pms_files["censors"]), str(pms_files["permits"]), "--json"
    )
    print(out, err)
    assert code == 0
    assert Project.objects.filter(prj_num=pms_files["prj"]).exists()
    assert DrawingReview.objects.count() == 1
    assert ConstructionPermit.objects.count() == 1
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["status"] for line in lines] == ["new", "new", "new"]
    code, out, err = run(
        str(pms_files["projects"]), str(pms_files["censors"]), str(pms_files["permits"]), "--json"
    )
    print(out, err)
    assert [json.loads(line)["status"] for line in out.splitlines()] == ["unchanged"] * 3
