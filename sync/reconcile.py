"""Reconciliation: what yunjian holds as synced against what the platform holds, record by record."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import requests
from django.conf import settings
from django.db.models import Max

from sync import protocol, signing
from sync.models import InboundRecord, Outbox


class ReconcileError(Exception):
    """The platform's listing could not be fetched or read (message in Chinese)."""


@dataclass
class Report:
    ours: int = 0
    theirs: int = 0
    missing: list[dict] = field(default_factory=list)  # synced here, absent on the platform
    extra: list[dict] = field(default_factory=list)  # on the platform, never synced from here
    version_mismatch: list[dict] = field(default_factory=list)
    # Revoked here (the newest delivered row is a revocation) but in force there, or the reverse.
    revocation_mismatch: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.version_mismatch or self.revocation_mismatch)

    def as_dict(self) -> dict:
        return {"ok": self.ok, **asdict(self)}


def fetch_platform_records(
    endpoint: str | None = None, table: str = "", timeout: float | None = None
) -> list[dict]:
    """GET <endpoint>records, signed with an empty body (the receiver's reconciliation listing)."""
    endpoint = endpoint or settings.SYNC_ENDPOINT
    url = endpoint.rstrip("/") + "/" + protocol.RECORDS_PATH
    try:
        response = requests.get(
            url,
            params={"table": table} if table else None,
            headers=signing.signed_headers(settings.SYNC_SECRET, b""),
            timeout=timeout or settings.SYNC_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        raise ReconcileError(f"无法获取省一体化平台的记录清单（{url}）：{exc}") from exc
    if response.status_code != 200:
        try:
            message = response.json().get("error", "")
        except ValueError:
            message = response.text[:200]
        raise ReconcileError(f"省一体化平台返回 HTTP {response.status_code}：{message}")
    try:
        records = response.json()
    except ValueError as exc:
        raise ReconcileError("省一体化平台的记录清单不是有效的 JSON") from exc
    if not isinstance(records, list) or not all(
        isinstance(r, dict) and {"table", "record_key", "version"} <= r.keys() for r in records
    ):
        raise ReconcileError("省一体化平台的记录清单格式不正确")
    return records


def reconcile(platform_records: list[dict], table: str = "") -> Report:
    """Compare per (table, record_key): the newest version delivered from here against the platform's."""
    delivered = Outbox.objects.filter(status=Outbox.Status.DELIVERED)
    if table:
        delivered = delivered.filter(table=table)
    ours = {
        (t, key): version
        for t, key, version in delivered.values("table", "record_key")
        .annotate(v=Max("version"))
        .values_list("table", "record_key", "v")
        .iterator(chunk_size=5000)
    }
    # Revocations delivered (few): a key is revoked here when its newest delivered row is one.
    revoked_ours = {
        (t, key)
        for t, key, version in delivered.filter(op=protocol.REVOKE)
        .values_list("table", "record_key", "version")
        .iterator(chunk_size=5000)
        if ours.get((t, key)) == version
    }
    revoked_theirs = {(r["table"], r["record_key"]) for r in platform_records if r.get("revoked")}
    theirs = {
        (r["table"], r["record_key"]): int(r["version"])
        for r in platform_records
        if not table or r["table"] == table
    }
    # Records that came from the platform (notice 三) are the platform's own, not "extra".
    inbound = set(InboundRecord.objects.values_list("table", "record_key").iterator(chunk_size=5000))
    report = Report(ours=len(ours), theirs=len(theirs))
    for (t, key), version in sorted(ours.items()):
        if (t, key) not in theirs:
            report.missing.append({"table": t, "record_key": key, "version": version})
        elif theirs[(t, key)] != version:
            report.version_mismatch.append(
                {"table": t, "record_key": key, "ours": version, "theirs": theirs[(t, key)]}
            )
    for t, key in sorted((revoked_ours ^ revoked_theirs) & ours.keys() & theirs.keys()):
        report.revocation_mismatch.append(
            {
                "table": t,
                "record_key": key,
                "ours": (t, key) in revoked_ours,
                "theirs": (t, key) in revoked_theirs,
            }
        )
    for (t, key), version in sorted(theirs.items()):
        if (t, key) not in ours and (t, key) not in inbound:
            report.extra.append({"table": t, "record_key": key, "version": version})
    return report
