"""`make mutation`: mutation testing of the rule modules with mutmut (docs/testing.md).

mutmut (configured in pyproject.toml, [tool.mutmut]) copies the apps into mutants/, plants one
change at a time in the rule modules listed there, and runs the tests that reach the changed
function. A mutant that no test notices "survives". This wrapper runs it module by module with a
focused subset of the tests for each module (FOCUS below: the tests written for that module's
rules, not every view test that happens to pass through it; a function none of them reaches is
tested by every test that reaches it), then prints each module's score and its surviving mutants.

    python tools/mutation.py                      # every module in FOCUS
    python tools/mutation.py review.services ...  # some of them
    python tools/mutation.py --report             # the figures of the last runs, without running

The tests run on PostgreSQL like `make test`, on their own database (MUTATION_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/yunjian_mutation; pytest-django makes test_<name> from it).
After changing a FOCUS list, delete mutants/ so that mutmut collects its test map afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The workflow tests that run in one transaction each (test_concurrency_and_audit commits).
WORKFLOW = (
    "tests/workflow/test_notice_rules.py",
    "tests/workflow/test_transition_matrix.py",
    "tests/workflow/test_rule_gaps.py",
)
# module → the tests that hold its rules (node id prefixes).
FOCUS: dict[str, tuple[str, ...]] = {
    "projects.workflow": (*WORKFLOW, "tests/projects/test_access_matrix.py"),
    "projects.rules": (
        *WORKFLOW,
        "tests/projects/test_permit_views.py",
        "tests/projects/test_tender_completion_views.py",
        "tests/projects/test_specialty_views.py",
    ),
    "projects.services": (*WORKFLOW, "tests/workflow/test_concurrency_and_audit.py", "tests/projects/"),
    "projects.access": (
        "tests/projects/test_access_rules.py",
        "tests/projects/test_access_matrix.py",
        "tests/projects/test_record_views.py",
    ),
    "review.services": (
        *WORKFLOW,
        "tests/workflow/test_concurrency_and_audit.py",
        "tests/review/test_decide_views.py",
        "tests/review/test_decide_concurrency.py",
        "tests/review/test_bulk_approve.py",
        "tests/review/test_workdays.py",
    ),
    "review.workdays": ("tests/review/test_workdays.py",),
    "review.jurisdiction": (
        *WORKFLOW,
        "tests/review/test_inbox_views.py",
        "tests/review/test_decide_views.py",
    ),
    "review.access": (
        *WORKFLOW,
        "tests/review/test_decide_views.py",
        "tests/projects/test_access_matrix.py",
        "tests/projects/test_record_views.py",
    ),
    "review.selectors": (
        "tests/review/test_inbox_views.py",
        "tests/review/test_review_home_and_done.py",
        "tests/review/test_export.py",
        "tests/review/test_bulk_approve.py",
    ),
    "review.roster.parse": ("tests/review/test_roster_parse.py",),
    "sync.services": (
        "tests/sync/test_claims.py",
        "tests/sync/test_outbox.py",
        "tests/sync/test_worker.py",
        "tests/sync/test_operations_views.py",
        *WORKFLOW,
    ),
    "yunjian.core.validators": (
        "tests/core/test_validators.py",
        "tests/core/test_clean_input.py",
        "tests/review/test_roster_parse.py",
    ),
}
# Tests that commit (transactional tests flush the database at the end). A module whose focus holds
# one runs one worker at a time, so that no test sees another worker's rows.
COMMITTING = (
    "tests/workflow/test_concurrency_and_audit.py",
    "tests/review/test_decide_concurrency.py",
    "tests/sync/test_claims.py",
)


def serial(module: str) -> bool:
    return any(t.startswith(prefix) for t in COMMITTING for prefix in FOCUS[module])


def module_path(module: str) -> Path:
    return Path(*module.split(".")).with_suffix(".py")


def refresh_copy() -> None:
    """Bring the unmutated files of mutants/ up to date: mutmut re-copies the files it mutates and
    the tests when they change, but not the rest of the apps (models, migrations, templates…)."""
    import filecmp
    import shutil

    from mutmut.configuration import config

    cfg = config()
    if not (ROOT / "mutants").exists():
        return
    for source in cfg.source_paths:
        for path in Path(source).rglob("*"):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            if path.suffix == ".py" and cfg.should_mutate(path):
                continue
            target = ROOT / "mutants" / path
            if not target.exists() or not filecmp.cmp(path, target, shallow=False):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)


def _narrow_to_focus(modules: list[str]) -> None:
    """After mutmut maps tests to functions, keep for each function of `modules` only its focused tests."""
    import mutmut.__main__ as mm
    from mutmut.state import state

    collect = mm.collect_or_load_stats

    def collect_then_narrow(*args, **kwargs):
        collect(*args, **kwargs)
        table = state().tests_by_mangled_function_name
        for name in list(table):
            module = name.rpartition(".")[0]
            if module in modules:
                # A function none of the focused tests reaches keeps every test that reaches it.
                table[name] = {t for t in table[name] if t.startswith(FOCUS[module])} or table[name]

    mm.collect_or_load_stats = collect_then_narrow


def run(module: str, max_children: int) -> None:
    import mutmut.__main__ as mm

    refresh_copy()
    _narrow_to_focus([module])
    children = 1 if serial(module) else max_children
    print(f"\n=== {module}: {children} worker(s), tests: {', '.join(FOCUS[module])}", flush=True)
    try:
        mm._run([f"{module}.*"], children)
    except SystemExit as exc:  # mutmut exits on a failing clean run; report and go on
        print(f"mutmut stopped on {module}: exit {exc.code}", flush=True)


def report(modules: list[str]) -> int:
    from mutmut.stats import status_by_exit_code

    total_killed = total_counted = 0
    print("\nmodule                      mutants  killed  survived  timeout  no tests  score")
    survivors: list[str] = []
    for module in modules:
        meta = ROOT / "mutants" / (str(module_path(module)) + ".meta")
        if not meta.exists():
            print(f"{module:<28}  (not run)")
            continue
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        counts: dict[str, int] = {}
        for key, code in codes.items():
            status = "not run" if code is None else status_by_exit_code[code]
            counts[status] = counts.get(status, 0) + 1
            if status in ("survived", "no tests", "suspicious"):
                survivors.append(f"{key}  ({status})")
        killed = counts.get("killed", 0) + counts.get("timeout", 0)
        counted = killed + counts.get("survived", 0) + counts.get("no tests", 0) + counts.get("suspicious", 0)
        total_killed += killed
        total_counted += counted
        score = f"{100 * killed / counted:5.1f} %" if counted else "  -"
        print(
            f"{module:<28}{len(codes):>8}{counts.get('killed', 0):>8}{counts.get('survived', 0):>10}"
            f"{counts.get('timeout', 0):>9}{counts.get('no tests', 0):>10}  {score}"
            + (f"  ({counts['not run']} not run)" if counts.get("not run") else "")
        )
    if total_counted:
        print(
            f"{'all measured':<28}{'':>8}{total_killed:>8}  score {100 * total_killed / total_counted:.1f} %"
        )
    if survivors:
        print(
            "\nsurviving mutants (`mutmut show NAME` prints the change; docs/testing.md lists the equivalent ones):"
        )
        for line in survivors:
            print("  " + line)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all in FOCUS)")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--report", action="store_true", help="only print the figures of the last runs")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    unknown = [m for m in [*args.modules, *([args.one] if args.one else [])] if m not in FOCUS]
    if unknown:
        parser.error(f"unknown module(s): {', '.join(unknown)}; known: {', '.join(FOCUS)}")
    modules = args.modules or list(FOCUS)
    os.chdir(ROOT)
    os.environ["DATABASE_URL"] = os.environ.get(
        "MUTATION_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/yunjian_mutation"
    )
    if args.one:
        run(args.one, args.max_children)
        return 0
    if not args.report:
        for module in modules:  # one process per module: mutmut keeps its state in the process
            subprocess.run(  # noqa: S603  (this script, with module names checked against FOCUS)
                [sys.executable, __file__, "--one", module, "--max-children", str(args.max_children)],
                check=False,
            )
    return report(modules)


if __name__ == "__main__":
    sys.exit(main())
