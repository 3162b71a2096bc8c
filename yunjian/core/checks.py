"""`manage.py check --deploy` refuses a production configuration without the second factor."""

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def second_factor_required(app_configs, **kwargs):
    if settings.OTP_REQUIRED:
        return []
    return [
        checks.Error(
            "OTP_REQUIRED 已关闭：管理员和审核人员可以只凭密码登录，不符合等保2.0第三级的双因素认证要求。",
            hint="生产环境不要设置 OTP_REQUIRED=false（只有 make run 的演示环境关闭它）。",
            id="yunjian.E101",
        )
    ]
