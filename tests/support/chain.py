"""What the deployed chain answers through an ingress: both services' versions, and whether only some are served."""

from __future__ import annotations

from tests.support.http import HttpResult, http_get


def through_ingress(url: str, host: str) -> HttpResult:
    return http_get(url, headers={"Host": host}, timeout=5)


def versions(result: HttpResult) -> tuple[str, str]:
    """(web-api's version, recipe-api's version) from web-api's answer."""
    body = result.json()
    return body["consumer_version"], body["producer_data"]["producer_version"]


def serves(url: str, host: str, expected: tuple[str, str], times: int = 10) -> bool:
    """True once `times` answers in a row are 200 with the expected versions (old pods may still be draining)."""
    for _ in range(times):
        result = through_ingress(url, host)
        if result.status != 200 or versions(result) != expected:
            return False
    return True
