"""The stack's updates, parsed from `pulumi stack history --json` into checked, typed records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class HistoryFormatError(ValueError):
    """The history JSON does not have the shape `pulumi stack history --json` prints."""


@dataclass(frozen=True)
class ConfigEntry:
    value: str | None  # None when the value is a secret and the CLI was not asked to show it
    secret: bool
    # An object or list (`objectValue`), which this project never uses. Numbers and booleans written unquoted in
    # Pulumi.<stack>.yaml also come with an `objectValue`, but their `value` is the plain text ("3", "true").
    structured: bool = False


@dataclass(frozen=True)
class Revision:
    number: int
    kind: str
    start_time: str
    message: str
    result: str
    config: Mapping[str, ConfigEntry] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.result == "succeeded"

    def started(self) -> str:
        """'2026-11-25T08:01:02.000Z' -> '2026-11-25 08:01:02' (the CLI prints UTC)."""
        text = self.start_time.replace("T", " ")
        return text.split(".")[0].rstrip("Z")


def parse_history(raw: Any) -> list[Revision]:
    """Parse the CLI's list of updates (newest first, as the CLI prints it); the result is sorted by revision
    number, oldest first."""
    if not isinstance(raw, list):
        raise HistoryFormatError(f"expected a JSON list of updates, got {type(raw).__name__}")
    if raw and all(isinstance(update, dict) and update.get("version") == 0 for update in raw):
        # The DIY backends (file://, as this project uses, s3://, ...) do not number their updates: every
        # `version` is 0 (pulumi pkg/backend/diy). Number them as Pulumi Cloud does: 1 for the oldest.
        raw = [{**update, "version": len(raw) - index} for index, update in enumerate(raw)]
    revisions = [_parse_update(update, index) for index, update in enumerate(raw)]
    return sorted(revisions, key=lambda revision: revision.number)


def _parse_update(update: Any, index: int) -> Revision:
    if not isinstance(update, dict):
        raise HistoryFormatError(f"update #{index} is {type(update).__name__}, not an object")
    number = update.get("version")
    if not isinstance(number, int) or isinstance(number, bool):
        raise HistoryFormatError(f"update #{index} has no integer 'version': {update.get('version')!r}")
    raw_config = update.get("config") or {}
    if not isinstance(raw_config, dict):
        raise HistoryFormatError(f"revision {number}: 'config' is {type(raw_config).__name__}, not an object")
    return Revision(
        number=number,
        kind=str(update.get("kind", "")),
        start_time=str(update.get("startTime", "")),
        message=str(update.get("message", "")),
        # An update still running has no result yet.
        result=str(update.get("result") or "in-progress"),
        config={key: _parse_entry(number, key, entry) for key, entry in raw_config.items()},
    )


def _parse_entry(number: int, key: str, entry: Any) -> ConfigEntry:
    if not isinstance(entry, dict):
        raise HistoryFormatError(f"revision {number}: config '{key}' is {type(entry).__name__}, not an object")
    value = entry.get("value")
    return ConfigEntry(
        value=None if value is None else str(value),
        secret=bool(entry.get("secret", False)),
        structured=isinstance(entry.get("objectValue"), (dict, list)),
    )


def effective_value(config: Mapping[str, ConfigEntry], key: str, defaults: Mapping[str, str]) -> str:
    """What the program saw for `key`: the stack's value, else Pulumi.yaml's default, else '-'."""
    entry = config.get(key)
    if entry is None:
        return defaults.get(key, "-")
    if entry.secret:
        return "[secret]"
    return entry.value if entry.value is not None else "-"
