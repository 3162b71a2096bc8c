"""python manage.py load_records FILE [FILE …] [--table NAME] [--origin pms|platform] [--dry-run] [--json]

Load exports of the existing systems laid out in the national tables' columns (TBProjectInfo,
TBProjectCensorInfo, TBBuilderLicenceManage and their staff tables; with --origin platform also
TBTenderInfo, TBContractRecordManage, TBProjectFinishManage) from .xlsx/.xls/.ods, .csv (UTF-8 or
GB18030) or JSON lines. Several files form one load, applied projects first.

--json prints one object per data row (file, row, table, number, status, errors). Exit status:
0 every row loaded (or unchanged), 1 some rows refused or in conflict, 2 a file cannot be read
(nothing is changed; the reason, in Chinese, on stderr). A load stopped half-way is resumed by
running the same command again (or by the load worker once its lease expires).
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

from django.core.management.base import BaseCommand
from django.db import transaction

from loads import engine, services
from loads import tables as T
from loads.models import LoadJob
from projects.models import Origin

S = LoadJob.Status


class Command(BaseCommand):
    help = "导入省工程项目管理系统、省一体化平台导出的存量数据（全国数据标准的表）"

    def add_arguments(self, parser):
        parser.add_argument(
            "files", nargs="+", metavar="FILE", help="导出文件（.xlsx、.xls、.csv 或 JSON lines）"
        )
        parser.add_argument(
            "--table", default="", choices=["", *T.TABLE_ORDER], help="数据表（默认从表头识别）"
        )
        parser.add_argument("--origin", default=Origin.PMS, choices=[Origin.PMS, Origin.PLATFORM])
        parser.add_argument("--dry-run", action="store_true", help="只检查，不导入")
        parser.add_argument("--json", action="store_true", help="每个数据行输出一个JSON对象（每行一个）")

    def handle(self, *args, **options):
        files = []
        for name in options["files"]:
            path = Path(name)
            try:
                sha256, size = services.digest_file(path)
            except OSError as exc:
                reason = "文件不存在" if isinstance(exc, FileNotFoundError) else "没有读取权限或不是普通文件"
                self._fail(f"无法读取文件“{path}”：{reason}", 2)
            files.append(services.SourceFile(str(path.resolve()), path.name, sha256, size))
        self.as_json = options["json"]
        on_row = self._row if self.as_json else self._issue
        origin = options["origin"]
        if options["dry_run"]:
            with transaction.atomic():
                job = services.job_create(
                    files=files, origin=origin, source=LoadJob.Source.COMMAND, table=options["table"]
                )
                job = services.claim(engine.worker_name(), job.pk)
                job = services.run(job, on_row)
                transaction.set_rollback(True)  # a check changes nothing
            self._finish(job, job.check_counts)
            return
        job = self._unfinished(files, origin)
        if job is None:
            with transaction.atomic():
                job = services.job_create(
                    files=files, origin=origin, source=LoadJob.Source.COMMAND, table=options["table"]
                )
                job = services.claim(engine.worker_name(), job.pk)
                job = services.run(job, None, classify=False)  # validation and duplicates; apply classifies
                if job.status == S.REFUSED:
                    transaction.set_rollback(True)  # a refused file changes nothing
                    self._fail("；".join(job.file_errors), 2)
                job.status = S.APPLYING
                job.save(update_fields=["status"])
        else:
            self.stderr.write(f"继续此前中断的导入#{job.pk}（已完成{job.done_rows}/{job.total_rows}行）")
            claimed = services.claim(engine.worker_name(), job.pk)
            if claimed is None:
                self._fail(f"导入#{job.pk}正由其他进程处理，请稍后再试", 2)
            job = claimed
        job = services.run(job, on_row)
        self._finish(job, job.apply_counts)

    def _unfinished(self, files, origin) -> LoadJob | None:
        """A load of exactly these files that stopped half-way (its process died)."""
        digests = sorted(f.sha256 for f in files)
        for job in LoadJob.objects.filter(status__in=[S.APPLYING, S.APPLY_QUEUED], origin=origin).order_by(
            "-id"
        ):
            if sorted(job.files.values_list("sha256", flat=True)) == digests:
                return job
        return None

    def _row(self, load_file, table, outcome) -> None:
        self.stdout.write(engine.json_line(load_file, table, outcome))

    def _issue(self, load_file, table, outcome) -> None:
        if outcome.status in ("error", "conflict"):
            text = "；".join(f"{c}：{m}" if c else m for c, m in outcome.errors)
            diffs = "；".join(
                f"{d['column']}：系统中为“{d['ours']}”，文件中为“{d['theirs']}”" for d in outcome.differences
            )
            self.stdout.write(
                f"{load_file.name} 第{outcome.row}行\t{engine.STATUS_LABELS[outcome.status]}\t{outcome.number}\t{text}"
                + (f"\t{diffs}" if diffs else "")
            )

    def _finish(self, job: LoadJob, counts: dict) -> None:
        if job.status == S.REFUSED:
            self._fail("；".join(job.file_errors), 2)
        out = self.stderr if self.as_json else self.stdout
        summary = "，".join(f"{engine.STATUS_LABELS[s]}{counts.get(s, 0)}" for s in engine.STATUSES)
        out.write(f"共{sum(counts.values())}行：{summary}。")
        if job.new_orgs:
            out.write(f"新建单位（未核实）{len(job.new_orgs)}个：")
            for org in job.new_orgs[:200]:
                out.write(f"  {org['credit_code']}\t{org['name']}")
        if counts.get("error") or counts.get("conflict"):
            self._fail(f"有{counts.get('error', 0)}行错误、{counts.get('conflict', 0)}行冲突未导入。", 1)

    def _fail(self, message: str, code: int) -> NoReturn:
        self.stderr.write(message)
        raise SystemExit(code)
