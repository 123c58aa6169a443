"""Where a webhook may be sent: http(s) to a host whose every address is public. Loopback, private,
link-local (the cloud metadata address 169.254.169.254 among them), shared, reserved and multicast
addresses are refused when the endpoint is saved and again, after a fresh resolution, before every
delivery (a name can be re-pointed), unless WEBHOOK_ALLOW_PRIVATE_TARGETS is true.

An IPv6 address that carries an IPv4 address is judged by that address too, whatever the IPv6 form's own
standing: IPv4-mapped (::ffff:a.b.c.d, judged by the IPv4 alone), 6to4 (2002::/16), NAT64's well-known
prefix (64:ff9b::/96) and Teredo (2001::/32, server and client). The forms no public host is reached by
are refused outright: IPv4-compatible (::a.b.c.d, deprecated), IPv4-translated (::ffff:0:a.b.c.d, used
inside a translator) and NAT64's local-use prefix (64:ff9b:1::/48, which reaches the operator's own
network)."""

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


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NEVER = (
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (and ::, ::1)
    ipaddress.IPv6Network("::ffff:0:0:0/96"),  # IPv4-translated
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # NAT64 local use
)


def _carried_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    carried = []
    if ip.sixtofour is not None:
        carried.append(ip.sixtofour)
    if ip.teredo is not None:
        carried.extend(ip.teredo)
    if ip in _NAT64:
        carried.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return carried


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif any(ip in network for network in _NEVER) or not all(_public(str(v4)) for v4 in _carried_ipv4(ip)):
            return False
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
