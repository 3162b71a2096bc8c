"""HTTP side of the reference receiver: a stdlib ThreadingHTTPServer in front of `Store`.

Routes (base path /exchange/):
    POST /exchange/batch    signed batch of items → receipts
    GET  /exchange/records  signed (empty body) reconciliation listing, optional ?table=
    POST /_control          signed fault injection (see `Faults`)
    GET  /_stats            counters for tests and demos
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from sync import protocol, signing

from .store import Store

log = logging.getLogger("sync.receiver")

BASE_PATH = "/exchange/"
MODES = ("ok", "error500", "slow", "down_after")
COUNTERS = ("batches_received", "batches_processed", "batches_failed", "batches_dropped")
COUNTERS += ("unauthorized", "bad_requests")
# A too-large body is read and discarded up to this size, so the client gets its 413 instead of a
# broken pipe; beyond it the connection is just closed.
DRAIN_LIMIT = 64 * 1024 * 1024


@dataclass
class Faults:
    """Fault injection.

    mode "error500": every batch gets a 500 and nothing is applied.
    mode "slow": the batch is applied, then the answer waits `slow_seconds` (so a client that
        times out and retries must be met with "duplicate").
    mode "down_after": `after_batches` more batches are answered normally, then batch requests are
        dropped (connection closed, nothing applied) until the mode changes.
    reject_field: {"table", "field"}: that field of that table is rejected, whatever its value.
    """

    mode: str = "ok"
    slow_seconds: float = 0.0
    after_batches: int = 0
    reject_field: dict[str, str] | None = None


def parse_faults(body: bytes, current: Faults) -> tuple[Faults | None, str]:
    """Apply a _control request to `current`; keys left out keep their value."""
    try:
        request = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "请求体不是有效的 JSON"
    if not isinstance(request, dict):
        return None, "请求体应为 JSON 对象"
    faults = Faults(**asdict(current))
    if "mode" in request:
        if request["mode"] not in MODES:
            return None, f"mode 应为 {'、'.join(MODES)} 之一"
        faults.mode = request["mode"]
    if "slow_seconds" in request:
        seconds = request["slow_seconds"]
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds <= 600:
            return None, "slow_seconds 应为 0 到 600 之间的数字"
        faults.slow_seconds = float(seconds)
    if "after_batches" in request:
        after = request["after_batches"]
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            return None, "after_batches 应为非负整数"
        faults.after_batches = after
    if "reject_field" in request:
        reject = request["reject_field"]
        if reject is not None and not (
            isinstance(reject, dict)
            and reject.get("table") in protocol.TABLES
            and isinstance(reject.get("field"), str)
            and reject["field"]
        ):
            return None, 'reject_field 应为 null 或 {"table": 数据表, "field": 字段名}'
        faults.reject_field = {"table": reject["table"], "field": reject["field"]} if reject else None
    return faults, ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "YunjianReferenceReceiver/1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path == BASE_PATH + protocol.BATCH_PATH:
            self.server.receiver.handle_batch(self)
        elif path == "/_control":
            self.server.receiver.handle_control(self)
        else:
            self.read_body()
            self.send_json(404, {"error": "接口不存在"})

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        if split.path == BASE_PATH + protocol.RECORDS_PATH:
            self.server.receiver.handle_records(self, parse_qs(split.query))
        elif split.path == "/_stats":
            self.send_json(200, self.server.receiver.stats())
        else:
            self.send_json(404, {"error": "接口不存在"})

    def read_body(self, max_body: int | None = None) -> bytes | None:
        """The request body; None after answering 400/411/413 when it cannot be taken."""
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            if self.headers.get("Transfer-Encoding"):
                self.close_connection = True
                self.send_json(411, {"error": "请求须带 Content-Length（不支持分块传输）"})
                return None
            return b""
        try:
            length = int(length_header)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self.send_json(400, {"error": "Content-Length 无效"})
            return None
        if max_body is not None and length > max_body:
            self._discard(length)
            self.send_json(413, {"error": f"请求体过大：{length} 字节，上限 {max_body} 字节"})
            return None
        return self.rfile.read(length)

    def _discard(self, length: int) -> None:
        self.close_connection = True
        if length > DRAIN_LIMIT:
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                break
            length -= len(chunk)

    def send_json(self, status: int, payload: object) -> None:
        body = protocol.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", signing.CONTENT_TYPE)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def drop(self) -> None:
        """Close the connection without answering, as a crashed platform would."""
        self.close_connection = True


class Receiver:
    """The reference receiver; `start()` serves on a background thread, `serve_forever()` in the foreground."""

    def __init__(
        self,
        secret: str,
        db_path: str = ":memory:",
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = protocol.DEFAULT_MAX_BODY,
        max_items: int = protocol.DEFAULT_MAX_ITEMS,
        max_skew: int = signing.DEFAULT_MAX_SKEW,
    ) -> None:
        if not secret:
            raise ValueError("接收端须配置签名密钥")
        self._secret = secret
        self.host, self.port = host, port
        self.max_body, self.max_items, self.max_skew = max_body, max_items, max_skew
        self.store = Store(db_path)
        self.replay_guard = signing.ReplayGuard(max_skew=max_skew)
        self.faults = Faults()
        self._lock = threading.Lock()
        self._counters = dict.fromkeys(COUNTERS, 0)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"Receiver({self.base_url if self._server else 'stopped'}, db={self.store.path!r})"

    # Lifecycle

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("接收端尚未启动")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{BASE_PATH}"

    def bind(self) -> str:
        with self._lock:
            if self._server is None:
                self._server = _Server((self.host, self.port), _Handler)
                self._server.receiver = self
        return self.base_url

    def start(self) -> str:
        """Serve on a daemon thread; return the base URL (e.g. http://127.0.0.1:PORT/exchange/)."""
        url = self.bind()
        with self._lock:
            if self._thread is None:
                assert self._server is not None
                self._thread = threading.Thread(
                    target=self._server.serve_forever,
                    kwargs={"poll_interval": 0.05},  # stop() waits up to one poll interval
                    name="sync-receiver",
                    daemon=True,
                )
                self._thread.start()
        log.info("参考接收端已启动：%s", url)
        return url

    def serve_forever(self) -> None:
        url = self.bind()
        assert self._server is not None
        log.info("参考接收端已启动：%s（数据库 %s）", url, self.store.path)
        self._server.serve_forever()

    def stop(self) -> None:
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self.store.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Fault injection and counters

    def configure(self, **changes: Any) -> Faults:
        """Change fault injection from Python (same keys as POST /_control)."""
        faults, error = parse_faults(protocol.dumps(changes), self.faults)
        if faults is None:
            raise ValueError(error)
        with self._lock:
            self.faults = faults
        return faults

    def _count(self, name: str) -> None:
        with self._lock:
            self._counters[name] += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            counters, faults = dict(self._counters), asdict(self.faults)
        return counters | self.store.stats() | {"faults": faults}

    # Requests

    def _authenticate(self, handler: _Handler, body: bytes, guard_replay: bool) -> bool:
        headers = handler.headers
        timestamp, signature = (
            headers.get(signing.TIMESTAMP_HEADER),
            headers.get(signing.SIGNATURE_HEADER),
        )
        error = signing.verify(self._secret, timestamp, signature, body, max_skew=self.max_skew)
        if not error and guard_replay:
            assert timestamp is not None
            assert signature is not None
            if not self.replay_guard.first_use(signature, int(timestamp)):
                error = "重复的请求（签名已使用过，可能是重放攻击）"
        if error:
            self._count("unauthorized")
            log.warning("拒绝未通过认证的请求 %s %s：%s", handler.command, handler.path, error)
            handler.send_json(401, {"error": error})
            return False
        return True

    def _take_batch_slot(self) -> Faults:
        """Count a batch and decide, atomically, whether a down_after receiver still answers it."""
        with self._lock:
            self._counters["batches_received"] += 1
            faults = Faults(**asdict(self.faults))
            if faults.mode == "down_after":
                if self.faults.after_batches > 0:
                    self.faults.after_batches -= 1
                    faults.mode = "ok"
                else:
                    self._counters["batches_dropped"] += 1
            return faults

    def handle_batch(self, handler: _Handler) -> None:
        body = handler.read_body(self.max_body)
        if body is None:
            self._count("bad_requests")
            return
        faults = self._take_batch_slot()
        if faults.mode == "down_after":
            log.warning("故障注入：丢弃批次请求（不作应答）")
            handler.drop()
            return
        # Replays are refused only for batches: they change state; GET and _control are idempotent.
        if not self._authenticate(handler, body, guard_replay=True):
            return
        if faults.mode == "error500":
            self._count("batches_failed")
            handler.send_json(500, {"error": "平台内部错误（故障注入）"})
            return
        items, error = protocol.parse_envelope(body, self.max_items)
        if error:
            self._count("bad_requests")
            log.warning("拒绝格式不正确的批次：%s", error)
            handler.send_json(400, {"error": error})
            return
        started = time.perf_counter()
        receipts = self.store.apply_batch(items, faults.reject_field)
        self._count("batches_processed")
        log.info(
            "批次 %d 条：%s，用时 %.1f ms",
            len(items),
            ", ".join(f"{s} {sum(r['status'] == s for r in receipts)}" for s in protocol.STATUSES),
            (time.perf_counter() - started) * 1000,
        )
        if faults.mode == "slow":
            time.sleep(faults.slow_seconds)
        handler.send_json(200, {"receipts": receipts})

    def handle_records(self, handler: _Handler, query: dict[str, list[str]]) -> None:
        body = handler.read_body(self.max_body)
        if body is None or not self._authenticate(handler, body, guard_replay=False):
            return
        table = (query.get("table") or [""])[0]
        if table and table not in protocol.TABLES:
            handler.send_json(400, {"error": f"不支持的数据表：{table}"})
            return
        handler.send_json(200, self.store.records(table or None))

    def handle_control(self, handler: _Handler) -> None:
        body = handler.read_body(self.max_body)
        if body is None or not self._authenticate(handler, body, guard_replay=False):
            return
        with self._lock:
            faults, error = parse_faults(body, self.faults)
            if faults is not None:
                self.faults = faults
        if faults is None:
            handler.send_json(400, {"error": error})
            return
        log.info("故障注入设置：%s", asdict(faults))
        handler.send_json(200, asdict(faults))
