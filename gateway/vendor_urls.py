"""Which vendor URLs the gateway refuses to call, decided once at config time.

A vendor URL comes from whoever writes the config (or the environment it
interpolates). Pointed at the pod's own loopback, a cloud metadata service or a
plain-http host, the gateway would send the app's credentials there and relay
the answers. So, unless the app sets `allow_insecure_url: true` (local
simulators, tests), a vendor URL must be https, and its host must not be a
loopback, link-local, unspecified or metadata address, written as an IP in any
form the resolver accepts (`127.1`, `2130706433`, `::ffff:127.0.0.1`) or as a
well-known name (`localhost`, `metadata.google.internal`).

Host names are NOT resolved: `check-config` must work offline (CI), and a
name's address can change after start-up (DNS rebinding), so a start-up lookup
would prove little. The runtime control for names is the network: the Helm
chart's egress policy lets the pods reach only HTTPS on public addresses.

A URL with credentials in it (`https://user:pass@host`) is refused whatever
the flag: credentials belong under `credentials:` (secret references), where
they are masked; a URL is logged and shown on /status.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

#: Cloud metadata services on addresses that are not link-local (AWS IPv6, Alibaba Cloud).
_METADATA_ADDRESSES = frozenset({ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")})
#: Names of metadata services and of the local machine.
_LOCAL_NAMES = frozenset(
    {"localhost", "metadata", "metadata.google.internal", "metadata.goog"}
    | {"instance-data", "instance-data.ec2.internal"}
)
_LOCAL_SUFFIXES = (".localhost",)  # RFC 6761: always the local machine


def url_problem(url: str, *, allow_insecure: bool) -> str | None:
    """Why the gateway must not call `url` (a sentence naming the rule), or None when it may."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if parts.username is not None or parts.password is not None:
        return "carries credentials (user:password@); put them under credentials: as secret references"
    if parts.scheme not in ("https", "http") or not host:
        return "must be an https:// URL with a host"
    if allow_insecure:
        return None
    if parts.scheme != "https":
        return "plain http is refused: use https (allow_insecure_url: true allows it, for local simulators only)"
    reason = _host_problem(host.rstrip(".").lower())
    if reason is not None:
        return f"{reason} is refused (allow_insecure_url: true allows it, for local simulators only)"
    return None


def _host_problem(host: str) -> str | None:
    address = _as_address(host)
    if address is None:
        if host in _LOCAL_NAMES or host.endswith(_LOCAL_SUFFIXES):
            return f"host {host} (the local machine or a metadata service)"
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA_ADDRESSES:
        return f"address {address} (a cloud metadata service)"
    if address.is_loopback or address.is_unspecified:
        return f"loopback address {address}"
    if address.is_link_local:
        return f"link-local address {address} (where cloud metadata services live)"
    return None


def _as_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP a literal host means, including the short and numeric IPv4 forms that resolvers accept."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))  # 127.1, 0x7f.0.0.1, 2130706433
    except OSError:
        return None
