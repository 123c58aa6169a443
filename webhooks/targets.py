"""Where a webhook may be sent: http(s) to a host whose every address is public. Loopback, private,
link-local (the cloud metadata address 169.254.169.254 among them), shared, reserved and multicast
addresses are refused when the endpoint is saved and again, after a fresh resolution, before every
delivery (a name can be re-pointed), unless WEBHOOK_ALLOW_PRIVATE_TARGETS is true."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class TargetRefused(ValueError):
    pass


def parse(url: str):
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 (parses the netloc: a bad IPv6 literal raises here)
    except ValueError:
        raise TargetRefused("The URL is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("The URL must be absolute http or https with a host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("The URL's port is not a number from 1 to 65535.") from None
    return parts, port


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(url: str) -> tuple[object, int, str]:
    """(the URL's parts, its port, the address to connect to); TargetRefused when it may not be used."""
    parts, port = parse(url)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:
        raise TargetRefused(f"The host {parts.hostname} does not resolve ({error}).") from None
    addresses = [info[4][0] for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise TargetRefused(
                f"The host {parts.hostname} resolves to a non-public address ({refused[0]}): refused "
                "(WEBHOOK_ALLOW_PRIVATE_TARGETS=true allows it)."
            )
    return parts, port, addresses[0]
