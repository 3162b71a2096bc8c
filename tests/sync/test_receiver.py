"""The exchange protocol and the reference receiver, over real HTTP. No database: nothing here uses Django's."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sync import protocol, signing
from sync.receiver import Receiver
from sync.receiver.__main__ import main as receiver_main
from sync.receiver.push import push
from yunjian.core.validators import complete_credit_code, complete_id_number

SECRET = "test-secret-不要外传"
PRJ_NUM = "5303021901010001"
OTHER_PRJ_NUM = "5303021901010002"
BUILD_CORP = complete_credit_code("9153030000000001")
WORK_CORP = complete_credit_code("9153030200000002")
AGENCY_CORP = complete_credit_code("9153030200000003")
SUPER_CORP = complete_credit_code("9153030200000004")
DESIGN_CORP = complete_credit_code("9153030200000005")
SURVEY_CORP = complete_credit_code("9153030200000006")
PERSON_ID = complete_id_number("53030219800101001")
CJK = re.compile(r"[\u4e00-\u9fff]")


def project_data(prj_num: str = PRJ_NUM) -> dict[str, Any]:
    return {
        "PrjNum": prj_num,
        "PrjName": "曲靖市麒麟区示范小学教学楼",
        "PrjTypeNum": "01",
        "BuildCorpName": "曲靖市麒麟区教育体育局",
        "BuildCorpCode": BUILD_CORP,
        "ProvinceNum": "530000",
        "CityNum": "530300",
        "CountyNum": "530302",
        "PrjFunctionNum": "304",
        "PrjPropertyNum": "001",
        "PrjInnerNum": "1",
        "BDate": "2024-04-10",
        "EDate": "2025-06-30",
        "AllInvest": "1234.5000",
    }


CHILD_DATA: dict[str, dict[str, Any]] = {
    protocol.TB_CENSOR: {
        "CensorNum": "530302-2024-001",
        "CensorCorpName": "云南某施工图审查中心",
        "CensorCorpCode": AGENCY_CORP,
        "CensorEDate": "2024-03-01",
        "CensorInnerNum": "11",
        "EconCorpName": "云南某勘察院",
        "EconCorpCode": SURVEY_CORP,
        "DesignCorpName": "云南某设计院",
        "DesignCorpCode": DESIGN_CORP,
        "OneCensorIsPass": 1,
    },
    protocol.TB_PERMIT: {
        "BuilderLicenceNum": f"{PRJ_NUM}-SX-001",
        "BuilderLicenceName": "曲靖市麒麟区示范小学教学楼",
        "RecordInnerNum": "QJ-2024-018",
        "ReleaseDate": "2024-04-01",
        "EconCorpName": "云南某勘察院",
        "EconCorpCode": SURVEY_CORP,
        "DesignCorpName": "云南某设计院",
        "DesignCorpCode": DESIGN_CORP,
        "ConsCorpName": "云南某建设集团有限公司",
        "ConsCorpCode": WORK_CORP,
        "SuperCorpName": "云南某监理公司",
        "SuperCorpCode": SUPER_CORP,
        "ConstructorName": "张建国",
        "CIDCardTypeNum": "1",
        "ConstructorIDCard": PERSON_ID,
        "SupervisionName": "李监理",
        "SIDCardTypeNum": "1",
        "SupervisionIDCard": PERSON_ID,
    },
    protocol.TB_TENDER: {
        "TenderNum": f"{PRJ_NUM}-BD-001",
        "TenderName": "曲靖市麒麟区示范小学教学楼施工",
        "TenderInnerNum": "21",
        "TenderClassNum": "003",
        "TenderTypeNum": "001",
        "TenderResultDate": "2024-02-01",
        "TenderMoney": "987.6500",
        "Area": "12000",
        "TenderCorpName": "云南某建设集团有限公司",
        "TenderCorpCode": WORK_CORP,
        "AgencyCorpName": "云南某招标代理有限公司",
        "AgencyCorpCode": AGENCY_CORP,
        "IDCardTypeNum": "1",
        "ConstructorIDCard": PERSON_ID,
    },
    protocol.TB_CONTRACT: {
        "RecordNum": f"{PRJ_NUM}-HZ-001",
        "RecordName": "曲靖市麒麟区示范小学教学楼施工总包合同",
        "RecordInnerNum": "QJ-2024-018",
        "PrjHead": "张建国",
        "ContractNum": "QJ-2024-018",
        "ContractTypeNum": "301",
        "ContractMoney": 987.65,
        "ContractDate": "2024-02-15",
        "PropietorCorpName": "曲靖市麒麟区教育体育局",
        "PropietorCorpCode": BUILD_CORP,
        "ContractorCorpName": "云南某建设集团有限公司",
        "ContractorCorpCode": WORK_CORP,
    },
    protocol.TB_FINISH: {
        "PrjFinishNum": f"{PRJ_NUM}-JX-001",
        "PrjFinishName": "曲靖市麒麟区示范小学教学楼",
        "PrjFinishInnerNum": "31",
        "BuilderLicenceNum": f"{PRJ_NUM}-SX-001",
        "FactCost": "1000",
        "FactArea": "12000",
        "BDate": "2024-04-10",
        "EDate": "2025-06-30",
    },
}


def child_data(table: str, prj_num: str = PRJ_NUM) -> dict[str, Any]:
    return {"PrjNum": prj_num, **CHILD_DATA[table]}


def item(table: str, data: dict[str, Any], record_key: str | None = None, version: int = 1) -> protocol.Item:
    record_key = record_key or f"{table}:{uuid.uuid4().hex}"
    return protocol.make_item(f"{record_key}:v{version}", table, record_key, version, data)


def project_item(prj_num: str = PRJ_NUM, **kwargs: Any) -> protocol.Item:
    return item(protocol.TB_PROJECT, project_data(prj_num), **kwargs)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    instance = Receiver(secret=SECRET, max_body=64 * 1024, max_items=50)
    instance.start()
    yield instance
    instance.stop()


def post(url: str, body: bytes, secret: str = SECRET, timeout: float = 5, **kwargs: Any) -> requests.Response:
    headers = signing.signed_headers(secret, body, **kwargs)
    return requests.post(url, data=body, headers=headers, timeout=timeout)


def send(receiver: Receiver, items: list[protocol.Item], **kwargs: Any) -> requests.Response:
    return post(receiver.base_url + "batch", protocol.build_envelope(items), **kwargs)


def receipts(receiver: Receiver, items: list[protocol.Item]) -> list[protocol.Receipt]:
    response = send(receiver, items)
    assert response.status_code == 200, response.text
    parsed, error = protocol.parse_receipts(response.content)
    assert not error
    assert [r["idempotency_key"] for r in parsed] == [i["idempotency_key"] for i in items]
    return parsed


def control(receiver: Receiver, **settings: Any) -> requests.Response:
    return post(receiver.base_url.replace("/exchange/", "/_control"), protocol.dumps(settings))


def signed_get(url: str, secret: str = SECRET) -> requests.Response:
    return requests.get(url, headers=signing.signed_headers(secret, b""), timeout=5)


# signing


def test_sign_is_hmac_sha256_over_timestamp_dot_body() -> None:
    signature = signing.sign("k", 1700000000, b"{}")
    assert re.fullmatch(r"sha256=[0-9a-f]{64}", signature)
    assert signature != signing.sign("k", 1700000001, b"{}")
    assert signature != signing.sign("k2", 1700000000, b"{}")


def test_signed_headers_verify() -> None:
    body = b'{"a":1}'
    headers = signing.signed_headers(SECRET, body, now=1700000000)
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Yunjian-Timestamp"] == "1700000000"
    timestamp, signature = headers["X-Yunjian-Timestamp"], headers["X-Yunjian-Signature"]
    assert signing.verify(SECRET, timestamp, signature, body, now=1700000100) == ""


@pytest.mark.parametrize(
    ("timestamp", "signature", "body", "now", "secret", "expected"),
    [
        (None, "SIG", b"{}", 1700000000, SECRET, "缺少签名"),
        ("1700000000", None, b"{}", 1700000000, SECRET, "缺少签名"),
        ("1700000000", "", b"{}", 1700000000, SECRET, "缺少签名"),
        ("abc", "SIG", b"{}", 1700000000, SECRET, "时间戳格式无效"),
        ("1700000000", "SIG", b"{}", 1700000301, SECRET, "时间戳超出允许范围"),
        ("1700000000", "SIG", b"{}", 1699999699, SECRET, "时间戳超出允许范围"),
        ("1700000000", "SIG", b'{"tampered":1}', 1700000000, SECRET, "签名无效"),
        ("1700000000", "SIG", b"{}", 1700000000, "wrong", "签名无效"),
        ("1700000000", "sha256=00", b"{}", 1700000000, SECRET, "签名无效"),
        ("1700000000", "SIG", b"{}", 1700000000, "", "未配置签名密钥"),
    ],
)
def test_verify_rejects(timestamp, signature, body, now, secret, expected) -> None:
    if signature == "SIG":
        signature = signing.sign(SECRET, 1700000000, b"{}")
    assert expected in signing.verify(secret, timestamp, signature, body, now=now)


def test_verify_accepts_within_skew_both_ways() -> None:
    signature = signing.sign(SECRET, 1700000000, b"")
    assert signing.verify(SECRET, "1700000000", signature, b"", now=1700000300) == ""
    assert signing.verify(SECRET, "1700000000", signature, b"", now=1699999700) == ""
    assert signing.verify(SECRET, "1700000000", signature, b"", now=1700000000, max_skew=10) == ""


def test_replay_guard_remembers_until_expiry_and_is_bounded() -> None:
    guard = signing.ReplayGuard(max_skew=300, max_entries=3)
    assert guard.first_use("a", timestamp=1000, now=1000)
    assert not guard.first_use("a", timestamp=1000, now=1200)
    assert guard.first_use("a", timestamp=1000, now=1301)  # expired: verify() refuses it anyway
    for signature in "bcde":
        assert guard.first_use(signature, now=1400)
    assert len(guard) == 3


def test_replay_guard_is_thread_safe() -> None:
    guard = signing.ReplayGuard()
    wins: list[bool] = []
    threads = [threading.Thread(target=lambda: wins.append(guard.first_use("same"))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wins.count(True) == 1


# protocol


def one_item_envelope(**overrides: Any) -> bytes:
    item = {"idempotency_key": "k", "table": "TBProjectInfo", "record_key": "r", "version": 1, "data": {}}
    return json.dumps({"schema_version": "1", "sender": "yunjian", "items": [item | overrides]}).encode()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{not json", "不是有效的 JSON"),
        (b"\xff\xfe", "UTF-8"),
        (b"[]", "JSON 对象"),
        (b'{"schema_version": "2", "sender": "yunjian", "items": []}', "schema_version"),
        (b'{"schema_version": "1", "items": []}', "sender"),
        (b'{"schema_version": "1", "sender": "yunjian", "items": {}}', "items 应为列表"),
        (b'{"schema_version": "1", "sender": "yunjian", "items": [1]}', "第1条"),
        (one_item_envelope(table="TBNope"), "table"),
        (one_item_envelope(version=True), "version"),
        (one_item_envelope(version=0), "version"),
        (one_item_envelope(idempotency_key=""), "idempotency_key"),
        (one_item_envelope(record_key="r" * 201), "record_key"),
        (one_item_envelope(data=[]), "data"),
    ],
)
def test_parse_envelope_rejects_bad_shapes(body: bytes, expected: str) -> None:
    items, error = protocol.parse_envelope(body)
    assert items == []
    assert expected in error


def test_parse_envelope_accepts_and_limits_items() -> None:
    items = [project_item() for _ in range(3)]
    parsed, error = protocol.parse_envelope(protocol.build_envelope(items))
    assert (parsed, error) == (items, "")
    parsed, error = protocol.parse_envelope(protocol.build_envelope(items), max_items=2)
    assert parsed == []
    assert "最多提交2条" in error


def test_dumps_handles_decimal_and_dates() -> None:
    import datetime as dt
    from decimal import Decimal

    assert (
        protocol.dumps({"m": Decimal("1.50"), "d": dt.date(2024, 1, 2)}) == b'{"m":"1.50","d":"2024-01-02"}'
    )


# receiver: the happy path and idempotency


def test_signed_batch_of_every_table_is_accepted_and_listed(receiver: Receiver) -> None:
    items = [project_item()] + [item(table, child_data(table)) for table in CHILD_DATA]
    result = receipts(receiver, items)
    assert [r["status"] for r in result] == ["accepted"] * 6, result
    assert all(r["errors"] == [] and r["version"] == 1 and r["received_at"] for r in result)
    stored = receiver.store.record_data(protocol.TB_PROJECT, items[0]["record_key"])
    assert stored == items[0]["data"]

    listing = signed_get(receiver.base_url + "records")
    assert listing.status_code == 200
    assert {(r["table"], r["record_key"], r["version"], r["idempotency_key"]) for r in listing.json()} == {
        (i["table"], i["record_key"], 1, i["idempotency_key"]) for i in items
    }
    only = signed_get(receiver.base_url + "records?table=TBTenderInfo").json()
    assert [r["table"] for r in only] == ["TBTenderInfo"]
    assert only[0]["accepted_at"]


def test_duplicate_key_is_acknowledged_but_applied_once(receiver: Receiver) -> None:
    first = project_item()
    assert receipts(receiver, [first])[0]["status"] == "accepted"
    # Same key again, even with other data, and twice within one batch.
    again = {**first, "data": {**first["data"], "PrjName": "改过的名称"}}
    assert [r["status"] for r in receipts(receiver, [again, again])] == ["duplicate", "duplicate"]
    assert receiver.store.applied_count(first["idempotency_key"]) == 1
    assert (
        receiver.store.record_data(protocol.TB_PROJECT, first["record_key"])["PrjName"]
        == first["data"]["PrjName"]
    )
    stats = requests.get(receiver.base_url.replace("/exchange/", "/_stats"), timeout=5).json()
    assert stats["max_applied_per_key"] == 1
    assert stats["by_status"]["duplicate"] == 2
    assert stats["batches_processed"] == 2


def test_versions_older_or_equal_are_stale_newer_replace(receiver: Receiver) -> None:
    key = "TBProjectInfo:p1"
    assert receipts(receiver, [project_item(record_key=key, version=2)])[0]["status"] == "accepted"
    older = project_item(record_key=key, version=1)
    same = protocol.make_item("other-key", protocol.TB_PROJECT, key, 2, project_data())
    assert [r["status"] for r in receipts(receiver, [older, same])] == ["stale", "stale"]
    newer = item(protocol.TB_PROJECT, {**project_data(), "PrjName": "新名称"}, record_key=key, version=3)
    assert receipts(receiver, [newer])[0]["status"] == "accepted"
    assert receiver.store.record_data(protocol.TB_PROJECT, key)["PrjName"] == "新名称"
    [row] = signed_get(receiver.base_url + "records").json()
    assert (row["version"], row["idempotency_key"]) == (3, newer["idempotency_key"])


def test_child_needs_its_project_registered_first(receiver: Receiver) -> None:
    orphan = item(protocol.TB_CENSOR, child_data(protocol.TB_CENSOR, OTHER_PRJ_NUM))
    [receipt] = receipts(receiver, [orphan])
    assert receipt["status"] == "rejected"
    assert receipt["errors"][0]["field"] == "PrjNum"
    assert "项目编号未在平台登记" in receipt["errors"][0]["message"]
    assert receiver.store.records() == []

    # A project earlier in the same batch makes its PrjNum known; the rejected key may be re-sent.
    result = receipts(receiver, [project_item(OTHER_PRJ_NUM), orphan])
    assert [r["status"] for r in result] == ["accepted", "accepted"]


def test_direct_award_needs_no_agency(receiver: Receiver) -> None:
    data = {**child_data(protocol.TB_TENDER), "TenderTypeNum": "003"}
    del data["AgencyCorpName"], data["AgencyCorpCode"]
    result = receipts(receiver, [project_item(), item(protocol.TB_TENDER, data)])
    assert [r["status"] for r in result] == ["accepted", "accepted"], result


MISSING = object()

FIELD_CASES = [
    (protocol.TB_PROJECT, "PrjNum", "530302190101001"),
    (protocol.TB_PROJECT, "PrjNum", "5303021913010001"),
    (protocol.TB_PROJECT, "PrjName", MISSING),
    (protocol.TB_PROJECT, "PrjName", "   "),
    (protocol.TB_PROJECT, "PrjName", "长" * 201),
    (protocol.TB_PROJECT, "PrjTypeNum", "13"),
    (protocol.TB_PROJECT, "BuildCorpName", MISSING),
    (protocol.TB_PROJECT, "BuildCorpCode", MISSING),
    (protocol.TB_PROJECT, "BuildCorpCode", BUILD_CORP[:-1] + ("0" if BUILD_CORP[-1] != "0" else "1")),
    (protocol.TB_PROJECT, "BuildCorpCode", "91530300MA6K0000O1"),
    (protocol.TB_PROJECT, "ProvinceNum", "530100"),
    (protocol.TB_PROJECT, "ProvinceNum", MISSING),
    (protocol.TB_PROJECT, "CityNum", "530301"),
    (protocol.TB_PROJECT, "CityNum", "520300"),
    (protocol.TB_PROJECT, "CountyNum", "53030"),
    (protocol.TB_PROJECT, "CountyNum", "530402"),
    (protocol.TB_PROJECT, "PrjFunctionNum", "123"),
    (protocol.TB_PROJECT, "PrjName", ["不是文本"]),
    (protocol.TB_CENSOR, "PrjNum", MISSING),
    (protocol.TB_CENSOR, "CensorNum", MISSING),
    (protocol.TB_CENSOR, "CensorCorpName", ""),
    (protocol.TB_CENSOR, "CensorCorpCode", "12345678-9"),
    (protocol.TB_CENSOR, "CensorEDate", "2024/03/01"),
    (protocol.TB_CENSOR, "CensorEDate", "2024-02-30"),
    (protocol.TB_CENSOR, "CensorEDate", MISSING),
    (protocol.TB_PERMIT, "BuilderLicenceNum", MISSING),
    (protocol.TB_PERMIT, "BuilderLicenceNum", "X" * 51),
    (protocol.TB_PERMIT, "ReleaseDate", "20240401"),
    (protocol.TB_PERMIT, "ConsCorpName", MISSING),
    (protocol.TB_PERMIT, "ConsCorpCode", WORK_CORP.lower()),
    (protocol.TB_TENDER, "TenderClassNum", "construction"),  # the code (§2.5), never a slug
    (protocol.TB_TENDER, "TenderTypeNum", "004"),
    (protocol.TB_TENDER, "TenderTypeNum", MISSING),
    (protocol.TB_TENDER, "TenderResultDate", MISSING),
    (protocol.TB_TENDER, "TenderMoney", "0"),
    (protocol.TB_TENDER, "TenderMoney", -5),
    (protocol.TB_TENDER, "TenderMoney", "一百万"),
    (protocol.TB_TENDER, "TenderMoney", "NaN"),
    (protocol.TB_TENDER, "TenderCorpName", MISSING),
    (protocol.TB_TENDER, "TenderCorpCode", "915303000000000000"),
    (protocol.TB_TENDER, "AgencyCorpName", MISSING),
    (protocol.TB_TENDER, "AgencyCorpCode", "91530300000000000X"),
    (protocol.TB_CONTRACT, "ContractNum", MISSING),
    (protocol.TB_CONTRACT, "ContractTypeNum", "305"),
    (protocol.TB_CONTRACT, "ContractMoney", 0),
    (protocol.TB_CONTRACT, "ContractDate", "2024-13-01"),
    (protocol.TB_CONTRACT, "PropietorCorpName", MISSING),
    (protocol.TB_CONTRACT, "ContractorCorpName", None),
    (protocol.TB_CONTRACT, "ContractorCorpCode", MISSING),
    (protocol.TB_FINISH, "PrjFinishNum", MISSING),
    (protocol.TB_FINISH, "BDate", "2024-4-10"),
    (protocol.TB_FINISH, "EDate", MISSING),
    (protocol.TB_FINISH, "EDate", "2024-04-09"),
    # What a provincial exchange validator refuses (docs/data-standard.md §2.10).
    (protocol.TB_PROJECT, "PrjInnerNum", MISSING),
    (protocol.TB_PROJECT, "BDate", MISSING),
    (protocol.TB_PROJECT, "EDate", MISSING),
    (protocol.TB_PROJECT, "EDate", "2024-04-09"),
    (protocol.TB_PROJECT, "PrjPropertyNum", MISSING),
    (protocol.TB_PROJECT, "PrjPropertyNum", "新建"),
    (protocol.TB_PROJECT, "PrjApprovalLevelNum", "9"),
    (protocol.TB_CENSOR, "CensorInnerNum", MISSING),
    (protocol.TB_CENSOR, "EconCorpName", MISSING),
    (protocol.TB_CENSOR, "EconCorpCode", MISSING),
    (protocol.TB_CENSOR, "DesignCorpCode", MISSING),
    (protocol.TB_CENSOR, "OneCensorIsPass", 2),
    (protocol.TB_PERMIT, "BuilderLicenceName", MISSING),
    (protocol.TB_PERMIT, "RecordInnerNum", MISSING),
    (protocol.TB_PERMIT, "EconCorpCode", MISSING),
    (protocol.TB_PERMIT, "SuperCorpName", MISSING),
    (protocol.TB_PERMIT, "CIDCardTypeNum", MISSING),
    (protocol.TB_PERMIT, "CIDCardTypeNum", "身份证"),
    (protocol.TB_PERMIT, "ConstructorIDCard", PERSON_ID[:-1] + ("0" if PERSON_ID[-1] != "0" else "1")),
    (protocol.TB_PERMIT, "SupervisionIDCard", MISSING),
    (protocol.TB_TENDER, "TenderNum", MISSING),
    (protocol.TB_TENDER, "TenderName", MISSING),
    (protocol.TB_TENDER, "Area", MISSING),
    (protocol.TB_TENDER, "IDCardTypeNum", MISSING),
    (protocol.TB_TENDER, "ConstructorIDCard", MISSING),
    (protocol.TB_TENDER, "AgencyCorpCode", MISSING),
    (protocol.TB_CONTRACT, "RecordNum", MISSING),
    (protocol.TB_CONTRACT, "RecordName", MISSING),
    (protocol.TB_CONTRACT, "RecordInnerNum", MISSING),
    (protocol.TB_CONTRACT, "PrjHead", MISSING),
    (protocol.TB_FINISH, "PrjFinishName", MISSING),
    (protocol.TB_FINISH, "BuilderLicenceNum", MISSING),
    (protocol.TB_FINISH, "BuilderLicenceNum", f"{PRJ_NUM}-SX-009"),  # not a permit the platform holds
    (protocol.TB_FINISH, "FactCost", MISSING),
    (protocol.TB_FINISH, "FactArea", MISSING),
    (protocol.TB_FINISH, "PrjStructureTypeNum", "框架结构"),  # a name where a code belongs
]


@pytest.mark.parametrize(("table", "field", "value"), FIELD_CASES)
def test_each_table_rejects_bad_fields_naming_the_field(receiver: Receiver, table, field, value) -> None:
    data = project_data() if table == protocol.TB_PROJECT else child_data(table)
    if value is MISSING:
        data.pop(field, None)
    else:
        data[field] = value
    project = project_item()
    record = item(table, data)
    items = [record] if table == protocol.TB_PROJECT else [project, record]
    if table == protocol.TB_FINISH:  # a completion names a permit the platform already holds
        items.insert(1, item(protocol.TB_PERMIT, child_data(protocol.TB_PERMIT)))
    receipt = receipts(receiver, items)[-1]
    assert receipt["status"] == "rejected"
    assert [e["field"] for e in receipt["errors"]] == [field], receipt["errors"]
    assert CJK.search(receipt["errors"][0]["message"])
    assert receiver.store.record_data(table, record["record_key"]) is None
    assert receiver.store.applied_count(record["idempotency_key"]) == 0


def test_all_field_errors_are_reported_together(receiver: Receiver) -> None:
    [receipt] = receipts(receiver, [item(protocol.TB_PROJECT, {"PrjNum": PRJ_NUM, "PrjTypeNum": "77"})])
    fields = {e["field"] for e in receipt["errors"]}
    assert fields == {
        "PrjInnerNum",
        "PrjName",
        "PrjTypeNum",
        "PrjFunctionNum",
        "PrjPropertyNum",
        "BuildCorpName",
        "BuildCorpCode",
        "ProvinceNum",
        "CityNum",
        "CountyNum",
        "BDate",
        "EDate",
    }


def test_a_contractor_may_still_be_named_by_its_old_organization_code(receiver: Receiver) -> None:
    data = {**child_data(protocol.TB_CONTRACT), "ContractorCorpCode": "12345678-9"}
    result = receipts(receiver, [project_item(), item(protocol.TB_CONTRACT, data)])
    assert result[-1]["status"] == "accepted", result[-1]


def test_staff_and_building_tables_are_checked(receiver: Receiver) -> None:
    staff = {
        "BuilderLicenceNum": f"{PRJ_NUM}-SX-001",
        "PrjNum": PRJ_NUM,
        "CorpName": "云南某建设集团有限公司",
        "CorpCode": WORK_CORP,
        "UserName": "张建国",
        "IDCardTypeNum": "1",
        "IDCard": PERSON_ID,
        "UserType": "2",
    }
    unit = {"PrjNum": PRJ_NUM, "UnitNum": f"{PRJ_NUM}-001", "UnitName": "1号楼", "PrjStructureTypeNum": "Y01"}
    bad_staff = {**staff, "IDCard": "53030219800101001", "UserType": "7"}
    bad_unit = {**unit, "PrjStructureTypeNum": "框架结构"}
    result = receipts(
        receiver,
        [
            project_item(),
            item(protocol.TB_BUILDER_STAFF, staff),
            item(protocol.TB_UNIT, unit),
            item(protocol.TB_BUILDER_STAFF, bad_staff),
            item(protocol.TB_UNIT, bad_unit),
        ],
    )
    assert [r["status"] for r in result] == ["accepted", "accepted", "accepted", "rejected", "rejected"]
    assert {e["field"] for e in result[3]["errors"]} == {"IDCard", "UserType"}
    assert [e["field"] for e in result[4]["errors"]] == ["PrjStructureTypeNum"]


# receiver: transport errors


def test_bad_missing_or_wrong_signature_is_401(receiver: Receiver) -> None:
    body = protocol.build_envelope([project_item()])
    url = receiver.base_url + "batch"
    unsigned = requests.post(url, data=body, timeout=5)
    assert unsigned.status_code == 401
    assert "缺少签名" in unsigned.json()["error"]
    wrong = post(url, body, secret="not-the-secret")
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "签名无效"
    headers = signing.signed_headers(SECRET, body)
    tampered = requests.post(url, data=body.replace(b"yunjian", b"yunjiam"), headers=headers, timeout=5)
    assert tampered.status_code == 401
    assert receiver.store.records() == []


def test_replay_of_the_exact_request_is_401(receiver: Receiver) -> None:
    body = protocol.build_envelope([project_item()])
    headers = signing.signed_headers(SECRET, body)
    url = receiver.base_url + "batch"
    assert requests.post(url, data=body, headers=headers, timeout=5).status_code == 200
    replay = requests.post(url, data=body, headers=headers, timeout=5)
    assert replay.status_code == 401
    assert "重复的请求" in replay.json()["error"]
    # The same items in a freshly built envelope are a new request: acknowledged as duplicates.
    items = json.loads(body)["items"]
    assert receipts(receiver, items)[0]["status"] == "duplicate"


def test_stale_timestamp_is_401(receiver: Receiver) -> None:
    response = send(receiver, [project_item()], now=time.time() - 600)
    assert response.status_code == 401
    assert "时间戳超出允许范围" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"{oops", "不是有效的 JSON"),
        (b'{"schema_version": "0", "sender": "yunjian", "items": []}', "schema_version"),
        (b'{"schema_version": "1", "sender": "yunjian", "items": "x"}', "items 应为列表"),
    ],
)
def test_malformed_envelope_is_400(receiver: Receiver, body: bytes, expected: str) -> None:
    response = post(receiver.base_url + "batch", body)
    assert response.status_code == 400
    assert expected in response.json()["error"]


def test_too_many_items_is_400(receiver: Receiver) -> None:
    response = send(receiver, [project_item() for _ in range(51)])
    assert response.status_code == 400
    assert "最多提交50条" in response.json()["error"]


def test_oversize_body_is_413(receiver: Receiver) -> None:
    big = project_data()
    big["PrjSize"] = "大" * 30_000  # 90 KB of UTF-8 against a 64 KB limit
    response = send(receiver, [item(protocol.TB_PROJECT, big)])
    assert response.status_code == 413
    assert "请求体过大" in response.json()["error"]
    assert protocol.DEFAULT_MAX_BODY == 5 * 1024 * 1024


def test_unknown_path_is_404(receiver: Receiver) -> None:
    assert requests.get(receiver.base_url + "nope", timeout=5).status_code == 404


# receiver: fault injection


def test_control_requires_signature_and_valid_settings(receiver: Receiver) -> None:
    url = receiver.base_url.replace("/exchange/", "/_control")
    assert requests.post(url, data=b'{"mode": "error500"}', timeout=5).status_code == 401
    bad = control(receiver, mode="explode")
    assert bad.status_code == 400
    assert "mode" in bad.json()["error"]
    assert control(receiver, reject_field={"table": "TBNope", "field": "x"}).status_code == 400
    assert receiver.faults.mode == "ok"


def test_error500_answers_500_and_applies_nothing(receiver: Receiver) -> None:
    assert control(receiver, mode="error500").status_code == 200
    project = project_item()
    response = send(receiver, [project])
    assert response.status_code == 500
    assert CJK.search(response.json()["error"])
    assert receiver.store.records() == []
    assert control(receiver, mode="ok").json()["mode"] == "ok"
    assert receipts(receiver, [project])[0]["status"] == "accepted"


def test_slow_answer_after_applying_so_a_timed_out_retry_is_a_duplicate(receiver: Receiver) -> None:
    control(receiver, mode="slow", slow_seconds=0.6)
    project = project_item()
    with pytest.raises(requests.Timeout):
        send(receiver, [project], timeout=0.2)
    deadline = time.monotonic() + 5
    while receiver.stats()["batches_processed"] < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    control(receiver, mode="ok")
    assert receipts(receiver, [project])[0]["status"] == "duplicate"
    assert receiver.store.applied_count(project["idempotency_key"]) == 1


def test_reject_field_rejects_that_field_of_that_table(receiver: Receiver) -> None:
    control(receiver, reject_field={"table": protocol.TB_PERMIT, "field": "ConsCorpName"})
    permit = item(protocol.TB_PERMIT, child_data(protocol.TB_PERMIT))
    result = receipts(receiver, [project_item(), permit])
    assert [r["status"] for r in result] == ["accepted", "rejected"]
    assert result[1]["errors"][0]["field"] == "ConsCorpName"
    control(receiver, reject_field=None)
    assert receipts(receiver, [permit])[0]["status"] == "accepted"


def test_down_after_drops_later_batches_without_applying(receiver: Receiver) -> None:
    control(receiver, mode="down_after", after_batches=1)
    assert receipts(receiver, [project_item()])[0]["status"] == "accepted"
    dropped = project_item(OTHER_PRJ_NUM)
    with pytest.raises(requests.ConnectionError):
        send(receiver, [dropped])
    assert receiver.store.applied_count(dropped["idempotency_key"]) == 0
    control(receiver, mode="ok")
    assert receipts(receiver, [dropped])[0]["status"] == "accepted"
    assert receiver.stats()["batches_dropped"] == 1


# receiver: reconciliation listing, concurrency, persistence, push


def test_records_listing_requires_signature(receiver: Receiver) -> None:
    url = receiver.base_url + "records"
    assert requests.get(url, timeout=5).status_code == 401
    assert signed_get(url, secret="wrong").status_code == 401
    assert signed_get(url + "?table=TBNope").status_code == 400
    # Repeated signed GETs in the same second are fine: only batches are replay-guarded.
    assert signed_get(url).json() == signed_get(url).json() == []


def test_concurrent_senders_apply_each_key_once(receiver: Receiver) -> None:
    items = [project_item(f"530302190101{n:04d}") for n in range(1, 41)]
    errors: list[str] = []

    def sender() -> None:
        with requests.Session() as session:
            for start in range(0, len(items), 10):
                body = protocol.build_envelope(items[start : start + 10])
                headers = signing.signed_headers(SECRET, body)
                response = session.post(receiver.base_url + "batch", data=body, headers=headers, timeout=10)
                if response.status_code != 200:
                    errors.append(response.text)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stats = receiver.stats()
    assert stats["by_status"]["accepted"] == 40
    assert stats["by_status"]["duplicate"] == 120
    assert stats["max_applied_per_key"] == 1


def test_file_database_survives_a_restart(tmp_path) -> None:
    db = str(tmp_path / "platform.sqlite3")
    project = project_item()
    with Receiver(secret=SECRET, db_path=db) as first:
        assert receipts(first, [project])[0]["status"] == "accepted"
    with Receiver(secret=SECRET, db_path=db) as second:
        assert receipts(second, [project])[0]["status"] == "duplicate"
        assert second.store.applied_count(project["idempotency_key"]) == 1


def test_push_sends_a_signed_platform_envelope(receiver: Receiver) -> None:
    project = project_item()
    status, payload = push(receiver.base_url + "batch", SECRET, [project])
    assert status == 200
    assert payload["receipts"][0]["status"] == "accepted"
    status, payload = push(receiver.base_url + "batch", "wrong", [project_item(OTHER_PRJ_NUM)])
    assert status == 401
    assert payload["error"] == "签名无效"


def test_push_cli_reads_items_file(receiver: Receiver, tmp_path, capsys) -> None:
    path = tmp_path / "items.json"
    path.write_text(json.dumps([project_item()], ensure_ascii=False), encoding="utf-8")
    code = receiver_main(
        ["push", "--to", receiver.base_url + "batch", "--secret", SECRET, "--file", str(path)]
    )
    out, err = capsys.readouterr()
    assert code == 0
    assert json.loads(out)["receipts"][0]["status"] == "accepted"
    assert SECRET not in out + err
