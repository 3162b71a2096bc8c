from __future__ import annotations

import pytest

from tests.loads import exports as x


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def pms_files(tmp_path, world):
    """A PMS export of one project: its basic info, one drawing review (the world's design unit and
    institution) and one permit (the world's general contractor), as three CSV files."""
    prj = "5303022001150001"
    projects = x.write(
        tmp_path / "projects.csv",
        x.PROJECT_HEADER,
        [
            [
                prj,
                "麒麟区综合楼",
                "01",
                world["owner"].name,
                world["owner"].credit_code,
                "530302",
                "1200.5",
                "2020-03-01",
            ]
        ],
    )
    censors = x.write(
        tmp_path / "censors.csv",
        x.CENSOR_HEADER,
        [
            [
                f"{prj}-TX-001",
                prj,
                world["institution"].name,
                world["institution"].credit_code,
                "2020-02-01",
                world["design"].name,
                world["design"].credit_code,
                "1",
            ]
        ],
    )
    permits = x.write(
        tmp_path / "permits.csv",
        x.PERMIT_HEADER,
        [
            [
                f"{prj}-SX-001",
                prj,
                f"{prj}-TX-001",
                world["builder"].name,
                world["builder"].credit_code,
                "2020-04-01",
                "3000",
                "张经理",
            ]
        ],
    )
    return {"prj": prj, "projects": projects, "censors": censors, "permits": permits}
