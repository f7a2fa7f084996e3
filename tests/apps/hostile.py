"""What the hostile-client and hostile-upstream tests measure a service by: its memory growth (VmRSS), and whether
/health keeps answering within the liveness probe's timeout while the attack runs."""

from __future__ import annotations

import socket
import select
import threading
import time

from tests.support.http import http_get
from tests.support.processes import ServiceProcess

MiB = 1 << 20
# "A few MiB" per hostile connection, the bound the services must hold.
MAX_GROWTH_PER_CONNECTION = 4 * MiB
# The liveness probe's timeoutSeconds (stack/workload.py): slower than this, Kubernetes restarts the pod.
HEALTH_TIMEOUT_SECONDS = 2.0


class HealthWatch:
    """Polls GET /health in a thread while the `with` block runs; `problems` lists every answer that was not a 200
    within HEALTH_TIMEOUT_SECONDS."""

    def __init__(self, service: ServiceProcess) -> None:
        self.service = service
        self.problems: list[str] = []
        self.answers = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> "HealthWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=HEALTH_TIMEOUT_SECONDS + 5)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                result = http_get(self.service.url("/health"), timeout=HEALTH_TIMEOUT_SECONDS)
                if result.status != 200:
                    self.problems.append(f"/health answered {result.status}")
                self.answers += 1
            except Exception as error:  # noqa: BLE001 - every failure is a finding
                self.problems.append(f"/health: {error!r}")
            self._stop.wait(0.05)


def stream_until_answered(sock: socket.socket, piece: bytes, limit: int) -> int:
    """Send `piece` again and again until the server answers (or closes), at most `limit` bytes; return how many
    were sent. Each piece is sent only once the server has read the last, so it closes with an answer, not a reset."""
    sent = 0
    while not select.select([sock], [], [], 0.01)[0]:
        assert sent < limit, f"{sent} bytes sent and the server still reads on"
        try:
            sock.sendall(piece)
        except OSError:
            break
        sent += len(piece)
    return sent


def settle(read, *, quiet_for: float = 1.0, timeout: float = 30.0) -> int:
    """Wait until `read()` stops changing for `quiet_for` seconds; return its last value."""
    deadline = time.monotonic() + timeout
    last = read()
    last_change = time.monotonic()
    while time.monotonic() - last_change < quiet_for:
        assert time.monotonic() < deadline, f"still changing after {timeout}s (now {last})"
        time.sleep(0.1)
        value = read()
        if value != last:
            last, last_change = value, time.monotonic()
    return last
