import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yunjian.core import demo


class Command(BaseCommand):
    help = "创建演示单位、演示账号（每种角色一个）和各状态的演示项目；可重复执行。"

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="以 JSON 列表输出演示账号")
        parser.add_argument("--force", action="store_true", help="在非调试（生产）配置下也执行（危险）")

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "拒绝执行：当前为生产配置（DEBUG 关闭）。演示账号使用公开的密码，不得进入正式环境。"
                "确需执行请加 --force。"
            )
        orgs = demo.load_organizations()
        accounts = demo.load_accounts(orgs)
        projects = demo.load_projects(orgs)
        demo.load_board_history()
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    [{k: a[k] for k in ("username", "password", "role", "organization")} for a in accounts],
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据已就绪：{len(orgs)} 个单位，{len(accounts)} 个账号，{projects} 个项目。"
            )
        )
        self.stdout.write(f"演示账号（密码均为 {demo.DEMO_PASSWORD}）：")
        for a in accounts:
            self.stdout.write(
                f"  {a['username']:<14} {a['role_label']:<10} {a['organization']}  — {a['note']}"
            )
