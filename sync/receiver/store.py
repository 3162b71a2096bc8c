"""SQLite storage of the reference receiver: accepted records, applied keys and a delivery log."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sync import protocol
from sync.protocol import FieldError, Item, Receipt

from .validation import validate

CST = dt.timezone(dt.timedelta(hours=8), "CST")

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    tbl TEXT NOT NULL,
    record_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    prj_num TEXT NOT NULL,
    data TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    PRIMARY KEY (tbl, record_key)
);
CREATE INDEX IF NOT EXISTS records_prj_num ON records (tbl, prj_num);
CREATE TABLE IF NOT EXISTS applied_keys (
    idempotency_key TEXT PRIMARY KEY,
    tbl TEXT NOT NULL,
    record_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    accepted_at TEXT NOT NULL
);
-- Append-only: one row per item received, whatever its outcome.
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_key ON deliveries (idempotency_key, status);
-- Earlier versions of a record (e.g. version 1 of a record corrected after approval, 更正): the row a
-- later version replaced, kept whole.
CREATE TABLE IF NOT EXISTS record_history (
    tbl TEXT NOT NULL,
    record_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    superseded_at TEXT NOT NULL,
    PRIMARY KEY (tbl, record_key, version)
);
-- Records withdrawn (撤销认定): the revoking item's version and data; removed again when a later
-- version of the record is accepted.
CREATE TABLE IF NOT EXISTS revocations (
    tbl TEXT NOT NULL,
    record_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    revoked_at TEXT NOT NULL,
    PRIMARY KEY (tbl, record_key)
);
"""


def now_iso() -> str:
    return dt.datetime.now(CST).isoformat(timespec="milliseconds")


class Store:
    """One SQLite connection behind a lock: batches are applied one at a time, each in a transaction."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def apply_batch(self, items: list[Item], reject_field: dict[str, str] | None = None) -> list[Receipt]:
        """Apply items in order; a project accepted earlier in the batch is known to later children."""
        with self._transaction() as db:
            return [self._apply(db, item, reject_field) for item in items]

    def _apply(self, db: sqlite3.Connection, item: Item, reject_field: dict[str, str] | None) -> Receipt:
        key, table, record_key, version = (
            item["idempotency_key"],
            item["table"],
            item["record_key"],
            item["version"],
        )
        received_at = now_iso()
        errors: list[FieldError] = []
        if db.execute("SELECT 1 FROM applied_keys WHERE idempotency_key = ?", (key,)).fetchone():
            status = protocol.DUPLICATE
        elif (
            row := db.execute(
                "SELECT version FROM records WHERE tbl = ? AND record_key = ?",
                (table, record_key),
            ).fetchone()
        ) and row[0] >= version:
            status = protocol.STALE
        elif item.get("op") == protocol.REVOKE:
            errors = self._revocation_problems(row, item["data"])
            status = protocol.REJECTED if errors else protocol.ACCEPTED
        else:
            errors = validate(
                table,
                item["data"],
                lambda prj_num: self._project_known(db, prj_num),
                lambda number: self._permit_known(db, number),
            )
            if reject_field and reject_field.get("table") == table:
                name = reject_field["field"]
                errors.append({"field": name, "message": f"平台拒收该字段（故障注入）：{name}"})
            status = protocol.REJECTED if errors else protocol.ACCEPTED
        if status == protocol.ACCEPTED and item.get("op") == protocol.REVOKE:
            self._revoke(db, item, received_at)
        elif status == protocol.ACCEPTED:
            self._store(db, item, received_at)
        db.execute(
            "INSERT INTO deliveries (idempotency_key, status, at) VALUES (?, ?, ?)",
            (key, status, received_at),
        )
        return protocol.make_receipt(item, status, received_at, errors)

    @staticmethod
    def _revocation_problems(row, data: dict[str, Any]) -> list[FieldError]:
        """A revocation withdraws a record the platform holds, and says why."""
        if not row:
            return [{"field": "record_key", "message": "平台无此记录，无法撤销认定"}]
        if not str(data.get("RevokeReason") or "").strip():
            return [{"field": "RevokeReason", "message": "撤销认定原因不能为空"}]
        return []

    @staticmethod
    def _revoke(db: sqlite3.Connection, item: Item, revoked_at: str) -> None:
        """The record stays (with its data) at the revocation's version, marked revoked."""
        db.execute(
            "UPDATE records SET version = ?, idempotency_key = ?, accepted_at = ? WHERE tbl = ? AND record_key = ?",
            (item["version"], item["idempotency_key"], revoked_at, item["table"], item["record_key"]),
        )
        db.execute(
            "INSERT INTO revocations (tbl, record_key, version, data, revoked_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (tbl, record_key) DO UPDATE SET version = excluded.version,"
            " data = excluded.data, revoked_at = excluded.revoked_at",
            (
                item["table"],
                item["record_key"],
                item["version"],
                protocol.dumps(item["data"]).decode(),
                revoked_at,
            ),
        )
        db.execute(
            "INSERT INTO applied_keys (idempotency_key, tbl, record_key, version, accepted_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (item["idempotency_key"], item["table"], item["record_key"], item["version"], revoked_at),
        )

    @staticmethod
    def _project_known(db: sqlite3.Connection, prj_num: str) -> bool:
        row = db.execute(
            "SELECT 1 FROM records WHERE tbl = ? AND prj_num = ? LIMIT 1",
            (protocol.TB_PROJECT, prj_num),
        ).fetchone()
        return row is not None

    @staticmethod
    def _permit_known(db: sqlite3.Connection, number: str) -> bool:
        row = db.execute(
            "SELECT 1 FROM records WHERE tbl = ? AND json_extract(data, '$.BuilderLicenceNum') = ? LIMIT 1",
            (protocol.TB_PERMIT, number),
        ).fetchone()
        return row is not None

    @staticmethod
    def _store(db: sqlite3.Connection, item: Item, accepted_at: str) -> None:
        data = item["data"]
        # A later version (a new submission approved) restores a revoked record.
        db.execute(
            "DELETE FROM revocations WHERE tbl = ? AND record_key = ?", (item["table"], item["record_key"])
        )
        prj_num = str(data.get("PrjNum") or "").strip()
        # The version it replaces stays in the history (a correction's version 1, a level's old row).
        db.execute(
            "INSERT OR IGNORE INTO record_history (tbl, record_key, version, data, accepted_at, superseded_at)"
            " SELECT tbl, record_key, version, data, accepted_at, ? FROM records WHERE tbl = ? AND record_key = ?",
            (accepted_at, item["table"], item["record_key"]),
        )
        db.execute(
            "INSERT INTO records (tbl, record_key, version, prj_num, data, idempotency_key, accepted_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (tbl, record_key) DO UPDATE SET version = excluded.version,"
            " prj_num = excluded.prj_num, data = excluded.data,"
            " idempotency_key = excluded.idempotency_key, accepted_at = excluded.accepted_at",
            (
                item["table"],
                item["record_key"],
                item["version"],
                prj_num,
                protocol.dumps(data).decode(),
                item["idempotency_key"],
                accepted_at,
            ),
        )
        db.execute(
            "INSERT INTO applied_keys (idempotency_key, tbl, record_key, version, accepted_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                item["idempotency_key"],
                item["table"],
                item["record_key"],
                item["version"],
                accepted_at,
            ),
        )

    def records(self, table: str | None = None) -> list[dict[str, Any]]:
        sql = (
            "SELECT r.tbl, r.record_key, r.version, r.idempotency_key, r.accepted_at, v.version IS NOT NULL"
            " FROM records r LEFT JOIN revocations v ON v.tbl = r.tbl AND v.record_key = r.record_key"
        )
        params: tuple[str, ...] = ()
        if table:
            sql, params = sql + " WHERE r.tbl = ?", (table,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY r.tbl, r.record_key", params).fetchall()
        return [
            {
                "table": t,
                "record_key": k,
                "version": v,
                "idempotency_key": i,
                "accepted_at": a,
                "revoked": bool(revoked),
            }
            for t, k, v, i, a, revoked in rows
        ]

    def revocation(self, table: str, record_key: str) -> dict[str, Any] | None:
        """The data of the revocation in force for a record, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM revocations WHERE tbl = ? AND record_key = ?", (table, record_key)
            ).fetchone()
        return json.loads(row[0]) if row else None

    def history(self, table: str, record_key: str) -> list[dict[str, Any]]:
        """The earlier versions of a record the platform replaced, oldest first: version, data, when."""
        with self._lock:
            rows = self._db.execute(
                "SELECT version, data, accepted_at, superseded_at FROM record_history"
                " WHERE tbl = ? AND record_key = ? ORDER BY version",
                (table, record_key),
            ).fetchall()
        return [
            {"version": v, "data": json.loads(d), "accepted_at": a, "superseded_at": s} for v, d, a, s in rows
        ]

    def record_data(self, table: str, record_key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM records WHERE tbl = ? AND record_key = ?",
                (table, record_key),
            ).fetchone()
        return json.loads(row[0]) if row else None

    def applied_count(self, idempotency_key: str) -> int:
        """How many times the key was applied (accepted) — must never exceed 1."""
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM deliveries WHERE idempotency_key = ? AND status = ?",
                (idempotency_key, protocol.ACCEPTED),
            ).fetchone()
        return int(row[0])

    def stats(self) -> dict[str, Any]:
        with self._lock:
            by_status = dict(
                self._db.execute("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall()
            )
            max_applied = self._db.execute(
                "SELECT COALESCE(MAX(n), 0) FROM (SELECT COUNT(*) AS n FROM deliveries"
                " WHERE status = ? GROUP BY idempotency_key)",
                (protocol.ACCEPTED,),
            ).fetchone()[0]
            records = self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        return {
            "items": sum(by_status.values()),
            "by_status": {status: by_status.get(status, 0) for status in protocol.STATUSES},
            "max_applied_per_key": max_applied,
            "records": records,
        }
