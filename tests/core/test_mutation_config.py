"""`make mutation` copies the apps named in pyproject's [tool.mutmut] source_paths into mutants/ and
runs the tests there: an app left out makes every run fail on an import (tests/ imports them all)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]


def test_every_app_of_the_project_is_copied_for_mutation_testing():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    ours = {
        Path(app.path).relative_to(ROOT).parts[0]
        for app in apps.get_app_configs()
        if Path(app.path).is_relative_to(ROOT) and "site-packages" not in Path(app.path).parts
    }
    assert ours - set(config["source_paths"]) == set()
    for path in config["only_mutate"]:
        assert (ROOT / path).is_file(), path
