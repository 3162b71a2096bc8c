"""Wire protocol of the platform exchange (省一体化平台), shared by worker, inbound endpoint and receiver.

Request (POST <base>batch), signed with `sync.signing`:
    {"schema_version": "1", "sender": "yunjian", "request_id": "<uuid>",
     "items": [{"idempotency_key": str, "table": str, "record_key": str, "version": int,
                "data": {<standard field name>: value}, "op": "revoke" (optional)}]}
An item without "op" (or "op": "upsert") stores that version of the record; "op": "revoke" withdraws
the record (撤销认定): it is the record's next version, its data says why (RevokeReason, RevokeDate,
RevokeDepartName), and a later upsert of a higher version (a new submission approved) restores it.
Dates are "YYYY-MM-DD" strings; money and areas are decimal strings or numbers.
`request_id` is optional; `build_envelope` adds a fresh one so that a retry of the same items
is a different request and never trips the receiver's replay guard.

Response 200: {"receipts": [{"idempotency_key", "record_key", "version", "status",
                             "errors": [{"field", "message"}], "received_at"}]}
401 bad or missing signature or replay, 400 malformed envelope, 413 body too large,
all with {"error": "<中文说明>"}.

Pure standard library, no Django.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any, TypedDict

SCHEMA_VERSION = "1"

TB_PROJECT = "TBProjectInfo"
TB_CENSOR = "TBProjectCensorInfo"
TB_PERMIT = "TBBuilderLicenceManage"
TB_TENDER = "TBTenderInfo"
TB_CONTRACT = "TBContractRecordManage"
TB_FINISH = "TBProjectFinishManage"
TB_DESIGN_STAFF = "TBProjectDesignEconUserInfo"
TB_BUILDER_STAFF = "TBProjectBuilderUserInfo"
# The buildings' technical indicators (单体): the standard has the list (jzsc 单体信息) but no national
# table name was found; this is the province's.
TB_UNIT = "TBProjectUnitInfo"
TABLES: tuple[str, ...] = (
    TB_PROJECT,
    TB_UNIT,
    TB_CENSOR,
    TB_DESIGN_STAFF,
    TB_PERMIT,
    TB_BUILDER_STAFF,
    TB_TENDER,
    TB_CONTRACT,
    TB_FINISH,
)

TABLE_LABELS: dict[str, str] = {
    TB_PROJECT: "工程项目基本信息",
    TB_UNIT: "单体信息",
    TB_DESIGN_STAFF: "勘察设计人员",
    TB_BUILDER_STAFF: "施工单位人员",
    TB_CENSOR: "施工图审查信息",
    TB_PERMIT: "施工许可信息",
    TB_TENDER: "招标投标信息",
    TB_CONTRACT: "合同登记信息",
    TB_FINISH: "竣工验收备案信息",
}

UPSERT = "upsert"
REVOKE = "revoke"
OPS: tuple[str, ...] = (UPSERT, REVOKE)


class Op:
    LABELS = {UPSERT: "报送", REVOKE: "撤销认定"}

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return list(cls.LABELS.items())


SENDER_YUNJIAN = "yunjian"
SENDER_PLATFORM = "platform"

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
STALE = "stale"
REJECTED = "rejected"
STATUSES: tuple[str, ...] = (ACCEPTED, DUPLICATE, STALE, REJECTED)
# Statuses after which the sender must not deliver the item again.
FINAL_STATUSES = frozenset({ACCEPTED, DUPLICATE, STALE})

BATCH_PATH = "batch"
RECORDS_PATH = "records"
DEFAULT_MAX_BODY = 5 * 1024 * 1024
DEFAULT_MAX_ITEMS = 1000
MAX_KEY_LENGTH = 200


class FieldError(TypedDict):
    field: str
    message: str


class Item(TypedDict, total=False):
    idempotency_key: str
    table: str
    record_key: str
    version: int
    data: dict[str, Any]
    op: str  # absent for an upsert


class Receipt(TypedDict):
    idempotency_key: str
    record_key: str
    version: int
    status: str
    errors: list[FieldError]
    received_at: str


def _json_default(value: object) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"无法序列化为 JSON：{type(value).__name__}")


def dumps(obj: object) -> bytes:
    """Compact UTF-8 JSON; Decimal → string, date → "YYYY-MM-DD"."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=_json_default).encode()


def make_item(
    idempotency_key: str,
    table: str,
    record_key: str,
    version: int,
    data: dict[str, Any],
    op: str = UPSERT,
) -> Item:
    item: Item = {
        "idempotency_key": idempotency_key,
        "table": table,
        "record_key": record_key,
        "version": version,
        "data": data,
    }
    if op != UPSERT:
        item["op"] = op
    return item


def build_envelope(items: list[Item], sender: str = SENDER_YUNJIAN) -> bytes:
    return dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "sender": sender,
            "request_id": uuid.uuid4().hex,
            "items": items,
        }
    )


def make_receipt(
    item: Item, status: str, received_at: str, errors: list[FieldError] | None = None
) -> Receipt:
    return {
        "idempotency_key": item["idempotency_key"],
        "record_key": item["record_key"],
        "version": item["version"],
        "status": status,
        "errors": errors or [],
        "received_at": received_at,
    }


def error_body(message: str) -> bytes:
    return dumps({"error": message})


def _nonempty_str(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip()) and len(value) <= MAX_KEY_LENGTH


def _item_problem(item: object) -> str:
    if not isinstance(item, dict):
        return "应为对象"
    for key in ("idempotency_key", "record_key"):
        if not _nonempty_str(item.get(key)):
            return f"{key} 应为非空字符串（不超过{MAX_KEY_LENGTH}个字符）"
    table = item.get("table")
    if table not in TABLES:
        return f"table 不是支持的数据表：{table!r}"
    version = item.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return "version 应为正整数"
    if not isinstance(item.get("data"), dict):
        return "data 应为对象"
    if item.get("op", UPSERT) not in OPS:
        return f"op 应为 {' 或 '.join(OPS)}"
    return ""


def parse_envelope(body: bytes, max_items: int = DEFAULT_MAX_ITEMS) -> tuple[list[Item], str]:
    """Check the envelope's shape (not the business fields). Return (items, "") or ([], error)."""
    try:
        envelope = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return [], "请求体不是 UTF-8 编码"
    except ValueError:
        return [], "请求体不是有效的 JSON"
    if not isinstance(envelope, dict):
        return [], "请求体应为 JSON 对象"
    if envelope.get("schema_version") != SCHEMA_VERSION:
        return (
            [],
            f'不支持的 schema_version：{envelope.get("schema_version")!r}（应为 "{SCHEMA_VERSION}"）',
        )
    if not _nonempty_str(envelope.get("sender")):
        return [], "sender 应为非空字符串"
    items = envelope.get("items")
    if not isinstance(items, list):
        return [], "items 应为列表"
    if len(items) > max_items:
        return [], f"一次最多提交{max_items}条记录，当前为{len(items)}条"
    for index, item in enumerate(items, start=1):
        problem = _item_problem(item)
        if problem:
            return [], f"第{index}条记录格式不正确：{problem}"
    return items, ""


def parse_receipts(body: bytes) -> tuple[list[Receipt], str]:
    """Check a 200 response's shape. Return (receipts, "") or ([], error)."""
    try:
        response = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return [], "回执不是有效的 JSON"
    receipts = response.get("receipts") if isinstance(response, dict) else None
    if not isinstance(receipts, list):
        return [], "回执缺少 receipts 列表"
    for receipt in receipts:
        if (
            not isinstance(receipt, dict)
            or not isinstance(receipt.get("idempotency_key"), str)
            or receipt.get("status") not in STATUSES
            or not isinstance(receipt.get("errors", []), list)
        ):
            return [], "回执格式不正确"
    return receipts, ""
