"""The sync worker: claim a batch, POST it signed to the platform, settle the receipts.

Each attempt is a fresh envelope (new request_id) with a fresh timestamp and signature, so a
retry is never mistaken for a replay; the items keep their idempotency keys, so a retry of an
item the platform already applied is answered "duplicate". No database transaction is open
while the request is in flight.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

import requests
from django.conf import settings

from sync import protocol, services, signing
from sync.services import BatchResult

log = logging.getLogger("sync.worker")


def describe_transport_error(exc: requests.RequestException, endpoint: str, timeout: float) -> str:
    """A short Chinese description of why a request got no usable answer."""
    if isinstance(exc, requests.Timeout):
        return f"推送超时：{timeout:g} 秒内省一体化平台未应答（{endpoint}）"
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return f"无法连接省一体化平台：连接被拒绝（{endpoint}）"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset by peer" in text:
        return f"省一体化平台未应答即断开连接（{endpoint}）"
    if isinstance(exc, requests.ConnectionError):
        return f"无法连接省一体化平台（{endpoint}）：{text[:300]}"
    return f"推送请求失败（{endpoint}）：{text[:300]}"


def _error_message(response: requests.Response) -> str:
    try:
        message = response.json().get("error", "")
    except (ValueError, AttributeError):
        message = ""
    return str(message or response.text[:300] or response.reason)


class Worker:
    """Delivers outbox rows to `endpoint` (default settings.SYNC_ENDPOINT). One per thread or process."""

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        secret: str | None = None,
        batch_size: int | None = None,
        timeout: float | None = None,
        lease_seconds: float | None = None,
        project_ids: list[int] | None = None,
    ) -> None:
        self.endpoint = endpoint or settings.SYNC_ENDPOINT
        if not self.endpoint.endswith("/"):
            self.endpoint += "/"
        self.secret = secret or settings.SYNC_SECRET
        self.batch_size = batch_size or settings.SYNC_BATCH_SIZE
        self.timeout = float(timeout or settings.SYNC_TIMEOUT_SECONDS)
        self.lease_seconds = lease_seconds or settings.SYNC_LEASE_SECONDS
        self.project_ids = project_ids
        self.session = requests.Session()  # keep-alive across batches

    def close(self) -> None:
        self.session.close()

    def post(self, items: list[protocol.Item]) -> tuple[list[protocol.Receipt] | None, str]:
        """POST one signed batch; return (receipts, "") or (None, why the batch failed)."""
        body = protocol.build_envelope(items)
        headers = signing.signed_headers(self.secret, body)
        url = self.endpoint + protocol.BATCH_PATH
        try:
            response = self.session.post(url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            return None, describe_transport_error(exc, url, self.timeout)
        if response.status_code == 401:
            return None, f"省一体化平台拒绝认证（HTTP 401）：{_error_message(response)}；请核对 SYNC_SECRET"
        if response.status_code != 200:
            return None, f"省一体化平台返回 HTTP {response.status_code}：{_error_message(response)}"
        receipts, problem = protocol.parse_receipts(response.content)
        if problem:
            return None, f"省一体化平台回执无法识别：{problem}"
        return receipts, ""

    def deliver_batch(self) -> BatchResult:
        """Claim, send and settle one batch. Returns what happened (claimed == 0: nothing was due)."""
        claim = services.outbox_claim(
            batch_size=self.batch_size, lease_seconds=self.lease_seconds, project_ids=self.project_ids
        )
        if not claim.rows:
            return BatchResult()
        started = time.perf_counter()
        try:
            items = [
                protocol.make_item(r.idempotency_key, r.table, r.record_key, r.version, r.payload, r.op)
                for r in claim.rows
            ]
            receipts, error = self.post(items)
        except Exception as exc:
            # A bug or an unserialisable payload must not leave the batch leased and cycling:
            # it fails like a transport error, with backoff, and ends in the dead-letter list.
            log.exception("同步批次处理出错")
            receipts, error = None, f"同步进程内部错误：{type(exc).__name__}: {str(exc)[:300]}"
        if receipts is None:
            return services.outbox_record_failure(claim=claim, error=error)
        result = services.outbox_record_receipts(claim=claim, receipts=receipts)
        log.info(
            "批次 %d 条：已同步 %d，待重试 %d，转人工 %d（%.0f ms）",
            result.claimed,
            result.delivered,
            result.failed,
            result.dead,
            (time.perf_counter() - started) * 1000,
        )
        return result

    def run_until_idle(
        self, stop: threading.Event | None = None, between_batches: Callable[[], None] | None = None
    ) -> BatchResult:
        """Deliver batch after batch until nothing is due (or `stop` is set)."""
        total = BatchResult()
        while stop is None or not stop.is_set():
            if between_batches is not None:
                between_batches()
            result = self.deliver_batch()
            if not result.claimed:
                break
            total.add(result)
        return total

    def run_forever(
        self,
        stop: threading.Event,
        poll_seconds: float | None = None,
        between_batches: Callable[[], None] | None = None,
    ) -> None:
        """Deliver until `stop` is set; sleep a jittered poll interval whenever nothing is due."""
        poll = float(poll_seconds if poll_seconds is not None else settings.SYNC_POLL_SECONDS)
        last_prune = 0.0
        while not stop.is_set():
            if between_batches is not None:
                between_batches()
            if time.monotonic() - last_prune > 60:
                services.inbound_prune_replays()
                last_prune = time.monotonic()
            try:
                result = self.deliver_batch()
            except Exception:
                # A database hiccup must not end the worker; the lease brings the rows back.
                log.exception("同步批次处理出错，稍后重试")
                stop.wait(poll)
                continue
            if not result.claimed:
                stop.wait(poll * random.uniform(0.8, 1.2))  # noqa: S311
