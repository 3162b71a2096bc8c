"""Number formats against the worked examples of docs/data-standard.md §3."""

import pytest
from django.core.exceptions import ValidationError
from stdnum.cn import uscc as stdnum_uscc

from yunjian.core.validators import (
    complete_credit_code,
    credit_code_problem,
    id_number_problem,
    normalize_code,
    normalize_phone,
    phone_problem,
    prj_num_problem,
    soft_contract_number,
    soft_permit_number,
    stage_number_problem,
    validate_credit_code,
    validate_id_number,
)

VALID_USCC = [
    "91110000600037341L",
    "91110108551385082Q",
    "91130108601248693C",
    "91140100772520823F",
    "9114010072592573X2",
]


@pytest.mark.parametrize("code", VALID_USCC)
def test_worked_credit_codes_are_valid(code):
    assert credit_code_problem(code) == ""
    assert stdnum_uscc.is_valid(code)


@pytest.mark.parametrize("prefix", ["N2530300", "Y1530302", "A1530100"])
def test_letter_initial_credit_codes_are_valid_here_though_stdnum_rejects_them(prefix):
    code = complete_credit_code(prefix + "12345678")
    assert credit_code_problem(code) == ""
    validate_credit_code(code)
    # python-stdnum requires positions 1-8 to be digits, stricter than GB 32100.
    assert not stdnum_uscc.is_valid(code)


def test_wrong_check_character_is_refused_with_chinese_message():
    assert credit_code_problem("91110000600037341M").startswith("统一社会信用代码校验位不正确：")
    assert "逐位核对" in credit_code_problem("91110000600037341M")  # and how to find the typo
    with pytest.raises(ValidationError, match="校验位"):
        validate_credit_code("91110000600037341M")


def test_wrong_embedded_organization_code_check_is_refused():
    # 17th character is the GB 11714 check of positions 9-16; change it and recompute only C18.
    code = "91110000600037341L"
    body = code[:16] + "2"
    from yunjian.core.validators import USCC_ALPHABET, USCC_WEIGHTS

    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    tampered = body + USCC_ALPHABET[(31 - total % 31) % 31]
    assert credit_code_problem(tampered).startswith("统一社会信用代码中的组织机构代码校验位不正确：")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91110000600037341", "统一社会信用代码应为18位，当前为17位"),
        ("91110000600037341LL", "统一社会信用代码应为18位，当前为19位"),
        ("9111000060003734IL", "统一社会信用代码含有不允许的字符"),
        ("91AB0000600037341L", "第3至8位"),
    ],
)
def test_malformed_credit_codes(code, message):
    assert message in credit_code_problem(code)


def test_lower_case_and_full_width_credit_code_is_normalized():
    assert credit_code_problem(normalize_code("９１１１００００６０００３７３４１ｌ")) == ""
    validate_credit_code(" 91110000600037341l ")


@pytest.mark.parametrize("number", ["360426199101010071", "11010519491231002X"])
def test_worked_id_numbers_are_valid(number):
    assert id_number_problem(number) == ""


def test_id_number_lower_case_x_and_full_width_digits_normalize():
    validate_id_number("11010519491231002x")
    validate_id_number("３６０４２６１９９１０１０１００７１")


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("360426199101010072", "身份证号码校验位不正确"),
        ("36042619910101007", "身份证号码应为18位，当前为17位"),
        ("360426199102300071", "出生日期不存在"),
        ("36042619910101007A", "最后一位为数字或X"),
    ],
)
def test_bad_id_numbers(number, message):
    assert message in id_number_problem(number)


def test_project_number_rules():
    for good in ["1301012106180001", "3101151211210104", "4419002009290102"]:
        assert prj_num_problem(good) == ""
    assert "16位数字" in prj_num_problem("130101210618000")
    assert "年月日" in prj_num_problem("1301012113180001")
    assert "日期不存在" in prj_num_problem("1301012102300001")


def test_stage_numbers():
    assert stage_number_problem("1301012106180001-TX-004") == ""
    assert stage_number_problem("1301012106180001-SX-001", ("SX",)) == ""
    assert "环节字母" in stage_number_problem("1301012106180001-TX-001", ("SX",))
    assert "格式" in stage_number_problem("1301012106180001-TX-4")


def test_permit_number_soft_check():
    assert soft_permit_number("1100000509019901-SX-001") == ""
    assert soft_permit_number("321111201709010201") == ""
    assert "报建日期" in soft_permit_number("321111201713010201")
    assert "请核对" in soft_permit_number("[2010]施[朝]建字0009号")


def test_contract_number_that_is_a_model_text_number_is_a_warning():
    assert "示范文本" in soft_contract_number("GF-2013-0201")
    assert soft_contract_number("QJ-SG-2019-018") == ""


@pytest.mark.parametrize(
    "phone",
    [
        "13800138000",
        "0871-64138888",
        "087164138888",
        "０８７１－６４１３８８８８",
        "(0874)3123456",
        "010-12345678",
        "0871-64138888-123",
    ],
)
def test_valid_phones(phone):
    assert phone_problem(normalize_phone(phone)) == ""


@pytest.mark.parametrize(
    "phone", ["12345", "23800138000", "abc", "0873-305123", "0873305123", "0871-641388889", "871-6413888"]
)
def test_invalid_phones(phone):
    assert phone_problem(normalize_phone(phone))
