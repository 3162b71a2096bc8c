"""Number formats of the national data standard (docs/data-standard.md §3), with Chinese messages.

Hard validators raise ValidationError; `soft_*` checks return a warning string (or "")
for values that are allowed but suspicious, which a user may confirm.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import models

SHANGHAI = ZoneInfo("Asia/Shanghai")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

PRJ_NUM_RE = re.compile(r"^\d{6}\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{4}$")
STAGE_NUM_RE = re.compile(r"^(\d{16})-([A-Z]{2})-(\d{3})$")
PRINTED_PERMIT_RE = re.compile(r"^(\d{6})(\d{8})(\d{2})(\d{2})$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
# Area code: 010 and 02x have three digits, every other one four (Yunnan's are 087x, 069x);
# then a local number of 7 or 8 digits, and an optional extension.
LANDLINE_RE = re.compile(r"^(?:010|02\d|0[3-9]\d{2})-?\d{7,8}(?:-\d{1,6})?$")
MODEL_TEXT_RE = re.compile(r"^GF-\d{4}-\d{4}$", re.IGNORECASE)
SPACES_RE = re.compile(r"\s+")


def normalize_text(value: object) -> str:
    """Fold full-width characters to half-width (NFKC), drop line breaks and surrounding spaces."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    text = text.replace("\r", "").replace("\n", "").replace("\t", " ")
    return SPACES_RE.sub(" ", text).strip()


def normalize_code(value: object) -> str:
    """Normalize an identifier: NFKC, no spaces at all, upper case."""
    return SPACES_RE.sub("", normalize_text(value)).upper()


# How to fix a check-digit error: the digit is computed from the others, so the typo is usually elsewhere.
CHECK_DIGIT_HINT = (
    "：说明18位中有一位抄错了（不一定是最后一位）。请对照营业执照或“国家企业信用信息公示系统”逐位核对，"
    "常见的是 0 与 D、1 与 7、8 与 B、2 与 Z 看混，或相邻两位颠倒；不要只改最后一位"
)


def credit_code_problem(value: str) -> str:
    """Return why `value` is not a valid 统一社会信用代码 (GB 32100-2015), or "" if it is.

    Letter-initial codes (registered by 民政, 编办 and others) are valid: only
    the alphabet, the region digits and the two check characters are checked.
    """
    code = value
    if len(code) != 18:
        return f"统一社会信用代码应为18位，当前为{len(code)}位"
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        return "统一社会信用代码含有不允许的字符：" + "".join(bad) + "（不使用 I、O、S、V、Z）"
    if not code[2:8].isdigit():
        return "统一社会信用代码第3至8位应为行政区划数字代码"
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code[:17], USCC_WEIGHTS, strict=True))
    expected = USCC_ALPHABET[(31 - total % 31) % 31]
    if code[17] != expected:
        return "统一社会信用代码校验位不正确" + CHECK_DIGIT_HINT
    body = code[8:16]
    if body.isalnum():
        org_total = sum(_org_char_value(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
        check = 11 - org_total % 11
        org_check = "X" if check == 10 else "0" if check == 11 else str(check)
        if code[16] != org_check:
            return "统一社会信用代码中的组织机构代码校验位不正确" + CHECK_DIGIT_HINT
    return ""


def _org_char_value(char: str) -> int:
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def validate_credit_code(value: str) -> None:
    problem = credit_code_problem(normalize_code(value))
    if problem:
        raise ValidationError(problem, code="credit_code")


def id_number_problem(value: str) -> str:
    """Return why `value` is not a valid 居民身份证号码 (GB 11643-1999), or "" if it is."""
    code = value
    if len(code) != 18:
        return f"身份证号码应为18位，当前为{len(code)}位"
    if not code[:17].isdigit() or not (code[17].isdigit() or code[17] == "X"):
        return "身份证号码前17位应为数字，最后一位为数字或X"
    try:
        born = date(int(code[6:10]), int(code[10:12]), int(code[12:14]))
    except ValueError:
        return "身份证号码中的出生日期不存在"
    if born.year < 1900 or born > datetime.now(SHANGHAI).date():
        return "身份证号码中的出生日期不合理"
    total = sum(int(c) * w for c, w in zip(code[:17], ID_WEIGHTS, strict=True))
    if code[17] != ID_CHECK[total % 11]:
        return "身份证号码校验位不正确"
    return ""


def validate_id_number(value: str) -> None:
    problem = id_number_problem(normalize_code(value))
    if problem:
        raise ValidationError(problem, code="id_number")


def normalize_phone(value: object) -> str:
    text = normalize_text(value)
    text = re.sub(r"[\s()（）]", "", text)
    if text.startswith("+86"):
        text = text[3:]
    return text.replace("—", "-").replace("–", "-")


def phone_problem(value: str) -> str:
    digits = value.replace("-", "")
    # The landline is matched as written: "0873-305123" is an area code and a 6-digit local number,
    # not "087" and "3305123".
    if MOBILE_RE.match(digits) or LANDLINE_RE.match(value):
        return ""
    return "联系电话应为11位手机号码或带区号的固定电话（如 0871-64138888）"


def validate_phone(value: str) -> None:
    problem = phone_problem(normalize_phone(value))
    if problem:
        raise ValidationError(problem, code="phone")


def prj_num_problem(value: str) -> str:
    """Return why `value` is not a 16-digit 项目编号 (county code + YYMMDD + sequence), or ""."""
    if len(value) != 16 or not value.isdigit():
        return "项目编号应为16位数字（区县代码6位 + 年月日6位 + 顺序号4位）"
    if not PRJ_NUM_RE.match(value):
        return "项目编号第7至12位应为有效的年月日（YYMMDD）"
    try:
        date(2000 + int(value[6:8]), int(value[8:10]), int(value[10:12]))
    except ValueError:
        return "项目编号第7至12位的日期不存在"
    return ""


def validate_prj_num(value: str) -> None:
    problem = prj_num_problem(normalize_code(value))
    if problem:
        raise ValidationError(problem, code="prj_num")


def stage_number_problem(value: str, letters: tuple[str, ...] = ()) -> str:
    """Check a national stage number `PrjNum-XX-nnn`; `letters` limits the two-letter stage code."""
    match = STAGE_NUM_RE.match(value)
    if not match:
        return "编号应为“项目编号-两位字母-三位序号”格式，如 5303021901010001-SX-001"
    problem = prj_num_problem(match.group(1))
    if problem:
        return problem
    if letters and match.group(2) not in letters:
        return "编号中的环节字母应为 " + "、".join(letters)
    return ""


def soft_permit_number(value: str) -> str:
    """Warn when a 施工许可证编号 fits neither the national `PrjNum-SX-nnn` nor the printed 18-digit form."""
    value = normalize_code(value)
    if STAGE_NUM_RE.match(value) and not stage_number_problem(value, ("SX",)):
        return ""
    match = PRINTED_PERMIT_RE.match(value)
    if match:
        try:
            date(int(match.group(2)[:4]), int(match.group(2)[4:6]), int(match.group(2)[6:8]))
        except ValueError:
            return "施工许可证编号中的报建日期不存在，请核对"
        if 1 <= int(match.group(4)) <= 19:
            return ""
    return "施工许可证编号既不是全国统一格式（项目编号-SX-序号），也不是18位证书编号，请核对后确认"


def soft_contract_number(value: str) -> str:
    """Warn when a 合同编号 looks like a model-text number such as GF-2013-0201."""
    if MODEL_TEXT_RE.match(normalize_code(value)):
        return "合同编号看起来是合同示范文本编号（如 GF-2013-0201），而不是本合同的编号，请核对后确认"
    return ""


def validate_positive(value) -> None:
    if value is not None and value <= 0:
        raise ValidationError("数值应大于0", code="positive")


def validate_not_negative(value) -> None:
    if value is not None and value < 0:
        raise ValidationError("数值不能为负数", code="not_negative")


def complete_credit_code(first16: str) -> str:
    """Append the two check characters to a 16-character prefix (demo data and tests)."""
    body = first16[8:16]
    check = 11 - sum(_org_char_value(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True)) % 11
    code17 = first16 + ("X" if check == 10 else "0" if check == 11 else str(check))
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(code17, USCC_WEIGHTS, strict=True))
    return code17 + USCC_ALPHABET[(31 - total % 31) % 31]


def complete_id_number(first17: str) -> str:
    """Append the GB 11643 check character to 17 digits (demo data and tests)."""
    return first17 + ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


# --- plausible dates and visible text (a probe entered 0001-01-01 and names of a zero-width space) ---

EARLIEST_DATE = date(1950, 1, 1)
FUTURE_YEARS = 20  # planned completion dates lie ahead; nothing sensible lies further
# Letters that render as nothing although Unicode calls them letters or symbols.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")
# Cf: format (zero-width space/joiner, bidi overrides and isolates, BOM, soft hyphen); Cc: control;
# Co/Cs/Cn: private use, surrogates, unassigned; Zl/Zp: line and paragraph separators.
INVISIBLE_CATEGORIES = frozenset({"Cf", "Cc", "Co", "Cs", "Cn", "Zl", "Zp"})
ALLOWED_CONTROLS = frozenset("\t\n\r")  # multi-line text (reasons, remarks)


def latest_date() -> date:
    today = datetime.now(SHANGHAI).date()
    return date(today.year + FUTURE_YEARS, 12, 31)


def date_problem(value: date | None) -> str:
    """Why `value` is not a plausible date for a construction project's records ("" when it is)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if value < EARLIEST_DATE or value > latest_date():
        return f"日期应在{EARLIEST_DATE.year}年1月1日至{latest_date().year}年之间，请核对（当前为{value.isoformat()}）"
    return ""


def validate_plausible_date(value) -> None:
    problem = date_problem(value)
    if problem:
        raise ValidationError(problem, code="implausible_date")


def text_problem(value: str | None) -> str:
    """Why `value` holds invisible or direction-control characters, or is nothing but them ("")."""
    if not value:
        return ""
    # Fast path: a printable string holds no character of the categories above (str.isprintable is
    # false exactly for Other and Separator characters but the ASCII space).
    if value.isprintable() and INVISIBLE_LETTERS.isdisjoint(value):
        return "" if value.strip() else "不能只填写空白字符"
    bad = [
        ch
        for ch in value
        if ch not in ALLOWED_CONTROLS
        and (unicodedata.category(ch) in INVISIBLE_CATEGORIES or ch in INVISIBLE_LETTERS)
    ]
    if bad:
        codes = "、".join(sorted({f"U+{ord(ch):04X}" for ch in bad}))
        return f"含有不可见字符或文字方向控制字符（{codes}），请删除后重新输入"
    if not value.strip():
        return "不能只填写空白字符"
    return ""


def validate_visible_text(value) -> None:
    problem = text_problem(value) if isinstance(value, str) else ""
    if problem:
        raise ValidationError(problem, code="invisible_text")


class CleanInputMixin:
    """Model mixin: every date field plausible, every text field free of invisible characters.

    Runs in `full_clean` (which every entry service and the inbound sync call) for all fields at
    once, so a model gets the rule without a validator on each field (and without a migration).
    """

    def clean_fields(self, exclude=None):
        errors: dict[str, list] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        exclude = set(exclude or ())
        for field in self._meta.concrete_fields:
            if field.name in exclude or field.name in errors:
                continue
            value = getattr(self, field.attname, None)
            if isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
                problem = date_problem(value)
            elif isinstance(field, models.CharField | models.TextField) and field.editable:
                problem = text_problem(value)
            else:
                continue
            if problem:
                errors.setdefault(field.name, []).append(ValidationError(problem, code="clean_input"))
        if errors:
            raise ValidationError(errors)
