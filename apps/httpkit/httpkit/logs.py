"""Logging to stdout, one line per event, each line starting with the service's name.
"""

from __future__ import annotations

import logging
import sys


class _LineFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            # Keep one event on one line: a log collector must not split a traceback into separate events.
            message = f"{message} {self.formatException(record.exc_info)!r}"
        if record.levelno == logging.INFO:
            return f"{self.service} {message}"
        return f"{self.service} level={record.levelname.lower()} {message}"


def configure(service: str, level: str) -> logging.Logger:
    """Send every logger to stdout at `level`; return the service's logger."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_LineFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    return logging.getLogger(service)
