"""A bounded background load loop that counts every request's outcome.

Used wherever a test must show that no request is lost: SIGTERM drains, rolling updates, rollbacks.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Mapping

from tests.support.http import HttpResult, http_get
from tests.support.wait import wait_until


@dataclass
class LoadReport:
    ok: int = 0
    failed: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seen: Counter = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.ok + self.failed


class LoadLoop:
    """Send GETs to `url` from `concurrency` threads until stopped (or `max_seconds` pass).

    `classify` maps a successful (status 200) result to a label counted in `report.seen`, e.g. the version served.
    Use as a context manager; the report is complete once the block exits.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        concurrency: int = 4,
        timeout: float = 5.0,
        max_seconds: float = 120.0,
        classify: Callable[[HttpResult], str] | None = None,
    ) -> None:
        self.url = url
        self.headers = dict(headers or {})
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_seconds = max_seconds
        self.classify = classify
        self.report = LoadReport()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> "LoadLoop":
        deadline = time.monotonic() + self.max_seconds
        for index in range(self.concurrency):
            thread = threading.Thread(target=self._run, args=(deadline,), name=f"load-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> LoadReport:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)
        return self.report

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> None:
        wait_until(lambda: self.report.total >= count, timeout=timeout, interval=0.01,
                   what=f"the load loop to make {count} requests (made {self.report.total} so far)")

    def _run(self, deadline: float) -> None:
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                result = http_get(self.url, headers=self.headers, timeout=self.timeout)
            except OSError as error:
                self._record(None, f"no answer: {error!r}")
                continue
            if result.status == 200:
                self._record(result, None)
            else:
                self._record(result, f"HTTP {result.status}: {result.body[:200]!r}")

    def _record(self, result: HttpResult | None, failure: str | None) -> None:
        label = self.classify(result) if (self.classify and result is not None and failure is None) else None
        with self._lock:
            if result is not None:
                self.report.statuses[result.status] += 1
            if failure is None:
                self.report.ok += 1
                if label is not None:
                    self.report.seen[label] += 1
            else:
                self.report.failed += 1
                if len(self.report.failures) < 20:
                    self.report.failures.append(failure)
