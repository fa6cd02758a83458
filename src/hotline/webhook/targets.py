"""Where a webhook may point: public addresses only, unless ``webhooks.allow_private_targets``.

Without this an admin could aim deliveries, and ``ping``, inside: at the cloud's metadata
service (169.254.169.254), at this host's own ports, at the county's network. The host is
resolved and every address it has is checked when a URL is subscribed or changed, and again
before each post, since a name can be pointed elsewhere in between (DNS rebinding). A plain
http post then goes to the very address that was checked; an https one is held to its name by
the certificate, which no inside service has for an outside name.
"""

from __future__ import annotations

import asyncio
import socket
from ipaddress import IPv4Address, IPv6Address, ip_address

import httpx

from hotline.errors import Unprocessable

IPAddress = IPv4Address | IPv6Address
# Seconds a subscription waits for its host to resolve; a delivery's own timeout covers it.
RESOLVE_WITHIN = 5.0


class RefusedTarget(Unprocessable):
    code = "webhook_target_refused"
    title, title_en = "Webhook 目标不是公网地址", "The webhook target is not a public address"


UNRESOLVED, UNRESOLVED_EN = "无法解析目标主机", "target host does not resolve"


def refusal(address: IPAddress) -> str | None:
    """What kind of inside address this is ("loopback", "link-local" …); None if public."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        # ::ffff:127.0.0.1 reaches 127.0.0.1; Python before 3.13 judges it as IPv6 only.
        address = address.ipv4_mapped
    for kind, inside in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        # is_global holds for most multicast groups and for ::/8 (IPv4-compatible) addresses
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),
    ):
        if inside:
            return kind
    return None


async def resolve(url: httpx.URL) -> list[IPAddress]:
    """Every address the URL's host has (an IP literal: itself), checked; raises RefusedTarget
    naming the first inside one, or saying the host does not resolve. Never blocks the loop."""
    host = url.raw_host.decode("ascii")  # IDNA-encoded, IPv6 without brackets
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        literal = ip_address(host)
    except ValueError:
        literal = None
    try:
        async with asyncio.timeout(RESOLVE_WITHIN):
            found = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
    except (OSError, TimeoutError):
        raise RefusedTarget(UNRESOLVED, en=UNRESOLVED_EN, reason="unresolvable") from None
    addresses = [ip_address(info[4][0]) for info in found]
    if not addresses:
        raise RefusedTarget(UNRESOLVED, en=UNRESOLVED_EN, reason="unresolvable")
    for address in addresses:
        kind = refusal(address)
        if kind is not None:
            verb = "is" if literal is not None else "resolves to"
            verb_zh = "是" if literal is not None else "解析为"
            raise RefusedTarget(
                f"目标地址{verb_zh}内部地址（{kind}）",
                en=f"target {verb} a {kind} address",
                reason=kind,
            )
    return addresses


async def pinned(url: httpx.URL) -> tuple[httpx.URL, dict[str, str]]:
    """The URL to post to and the headers to add, once every address of ``url`` is checked:
    plain http goes to the first checked address, its name kept in ``Host``, so a second
    lookup cannot lead elsewhere. Raises RefusedTarget."""
    addresses = await resolve(url)
    if url.scheme == "https":
        return url, {}
    return url.copy_with(host=str(addresses[0])), {"Host": url.netloc.decode("ascii")}
