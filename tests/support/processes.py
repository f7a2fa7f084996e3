"""Start the services as real processes on loopback, watch their output, signal them, and always reap them.

`ServiceProcess` is one `python -m <package>` process (cwd apps/<name>, like the images run it) whose stdout and
stderr go to files, so a chatty process never blocks on a full pipe and a failing test can show what it printed.
`ProcessGroup` owns every process a test starts and stops them all (SIGKILL as a last resort), even when the test fails.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Mapping

from tests.support.http import free_port, http_get
from tests.support.wait import wait_until

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {"recipe-api": "recipe_api", "web-api": "web_api"}
# The contract's variables: a value in the developer's or CI's shell must not leak into a test's service.
CONTRACT_VARIABLES = (
    "HOST", "PORT", "APP_VERSION", "LOG_LEVEL", "SHUTDOWN_DELAY_SECONDS", "HEADER_TIMEOUT_SECONDS", "RECIPE_API_URL",
    "RECIPE_API_TIMEOUT_SECONDS",
)
READY_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 20.0


def service_environment(env: Mapping[str, str]) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if key not in CONTRACT_VARIABLES}
    base["PYTHONUNBUFFERED"] = "1"
    base.update(env)
    return base


class ServiceProcess:
    def __init__(self, service: str, env: Mapping[str, str], port: int | None) -> None:
        if service not in PACKAGES:
            raise ValueError(f"unknown service {service!r}: expected one of {sorted(PACKAGES)}")
        self.service = service
        self.env = dict(env)
        self.port = port
        self._stdout = tempfile.TemporaryFile()
        self._stderr = tempfile.TemporaryFile()
        self.started_at = time.monotonic()
        self.popen = subprocess.Popen(
            [sys.executable, "-m", PACKAGES[service]],
            cwd=REPO / "apps" / service,
            env=service_environment(self.env),
            stdin=subprocess.DEVNULL,
            stdout=self._stdout,
            stderr=self._stderr,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def stdout(self) -> str:
        return _read(self._stdout)

    def rss_bytes(self) -> int:
        """The process's resident memory now (VmRSS in /proc/<pid>/status)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError(f"no VmRSS for {self.service} (pid {self.pid}): has it exited?")

    def stderr(self) -> str:
        return _read(self._stderr)

    def describe(self) -> str:
        return (f"{self.service} (pid {self.pid}, exit code {self.popen.poll()}) env={self.env}\n"
                f"--- stdout ---\n{self.stdout()}--- stderr ---\n{self.stderr()}")

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> "ServiceProcess":
        # "exited" ends the wait at once: wait_until treats a probe's exception as "not yet", so raising here would
        # only be reported when the whole timeout had passed.
        def ready_or_exited() -> str | None:
            if self.popen.poll() is not None:
                return "exited"
            return "ready" if http_get(self.url("/ready"), timeout=1.0).status == 200 else None

        try:
            outcome = wait_until(ready_or_exited, timeout=timeout, what=f"{self.service} to answer 200 on /ready")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.describe()}") from None
        if outcome == "exited":
            raise AssertionError(f"{self.service} exited before it was ready:\n{self.describe()}")
        return self

    def wait_for_output(self, text: str, timeout: float = 10.0) -> None:
        try:
            wait_until(lambda: text in self.stdout(), timeout=timeout, what=f"{text!r} in {self.service}'s stdout")
        except AssertionError as error:
            raise AssertionError(f"{error}\n{self.describe()}") from None

    def send(self, signum: int) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signum)

    def wait_exit(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.service} did not exit within {timeout}s:\n{self.describe()}") from None

    def stop(self) -> int:
        """SIGTERM, wait, SIGKILL if it hangs; always reaps the process and releases its files."""
        if self.popen.poll() is None:
            self.send(signal.SIGCONT)  # a test may have stopped it with SIGSTOP
            self.send(signal.SIGTERM)
            try:
                self.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
        return self.popen.returncode

    def close(self) -> None:
        self.stop()
        self._stdout.close()
        self._stderr.close()


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _read(file) -> str:
    file.flush()
    file.seek(0)
    return file.read().decode(errors="replace")


class ProcessGroup:
    """Every service process a test (or module) started; `close` stops and reaps them all."""

    def __init__(self) -> None:
        self.processes: list[ServiceProcess] = []

    def start(self, service: str, env: Mapping[str, str] | None = None, *, port: int | None = None,
              set_port: bool = True, wait_ready: bool = True) -> ServiceProcess:
        """Start `service` with `env` over the contract's defaults, listening on `port` (a free one by default).

        set_port=False leaves PORT unset, to test the service's default port (pass that port as `port`)."""
        env = dict(env or {})
        if "PORT" in env:
            port = int(env["PORT"])
        elif set_port:
            port = port or free_port()
            env["PORT"] = str(port)
        process = ServiceProcess(service, env, port)
        self.processes.append(process)
        return process.wait_ready() if wait_ready else process

    def run_to_exit(self, service: str, env: Mapping[str, str], timeout: float = 10.0) -> ServiceProcess:
        """Start `service` expecting it to exit by itself (e.g. on bad configuration) within `timeout`."""
        process = ServiceProcess(service, env, None)
        self.processes.append(process)
        process.wait_exit(timeout)
        return process

    def output(self) -> str:
        return "\n".join(process.describe() for process in self.processes)

    def close(self) -> None:
        for process in self.processes:
            process.close()
        self.processes.clear()
