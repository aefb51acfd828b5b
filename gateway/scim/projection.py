"""Apply `attributes` / `excludedAttributes` to SCIM JSON dicts (RFC 7644 section 3.9).

Works on the dicts vendors return, without model validation, so a plain GET
stays cheap. Attribute names are case-insensitive (RFC 7643 section 2.1) and
may be written in full URN form. `id` and `schemas` are always returned;
`password` never is (RFC 7643 section 4.1.1, returned "never").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

_ALWAYS = frozenset({"id", "schemas"})
_NEVER = frozenset({"password"})

Spec = tuple[str | None, str, str | None]  # (extension URN or None for core, attribute, sub-attribute)


def parse_specs(names: Iterable[str], core_urn: str, extension_urns: Sequence[str] = ()) -> list[Spec]:
    """Split `name.givenName` or `urn:...:User:department` into (urn, attribute, sub).

    A URN is matched against the known schema URNs first, because a schema URN
    itself ends in a segment that looks like an attribute (`...:enterprise:2.0:User`).
    """
    known = sorted((core_urn, *extension_urns), key=len, reverse=True)
    specs: list[Spec] = []
    for raw in names:
        name = raw.strip()
        urn: str | None = None
        if name.lower().startswith("urn:"):
            urn, name = _split_urn(name, known)
            if urn is not None and urn.lower() == core_urn.lower():
                urn = None
            if not name:  # the whole extension was named
                specs.append((None, (urn or "").lower(), None))
                continue
        attribute, _, sub = name.partition(".")
        specs.append((urn, attribute.lower(), sub.lower() or None))
    return specs


def _split_urn(name: str, known: Sequence[str]) -> tuple[str, str]:
    """(schema URN, attribute path) of a fully qualified name; an unknown URN splits at its last ':'."""
    lowered = name.lower()
    for urn in known:
        if lowered == urn.lower():
            return urn, ""
        if lowered.startswith(urn.lower() + ":"):
            return urn, name[len(urn) + 1 :]
    urn, _, attribute = name.rpartition(":")
    return urn, attribute


def project(resource: dict[str, Any], include: Sequence[Spec], exclude: Sequence[Spec]) -> dict[str, Any]:
    """A copy of `resource` restricted by the include list (if any) minus the exclude list."""
    result = {k: v for k, v in resource.items() if k.lower() not in _NEVER}
    if include:
        result = _keep(result, include)
    if exclude:
        _drop(result, exclude)
    return result


def _keep(resource: dict[str, Any], specs: Sequence[Spec]) -> dict[str, Any]:
    kept: dict[str, Any] = {k: v for k, v in resource.items() if k.lower() in _ALWAYS}
    for urn, attribute, sub in specs:
        source = resource if urn is None else _child(resource, urn)
        if not isinstance(source, dict):
            continue
        key = _key(source, attribute)
        if key is None:
            continue
        target = kept if urn is None else kept.setdefault(_key(resource, urn) or urn, {})
        value = source[key]
        if sub is None:
            target[key] = value
        else:
            picked = _pick_sub(value, sub)
            if picked is not None:
                _merge(target, key, picked)
    return kept


def _drop(resource: dict[str, Any], specs: Sequence[Spec]) -> None:
    for urn, attribute, sub in specs:
        source = resource if urn is None else _child(resource, urn)
        if not isinstance(source, dict) or (urn is None and attribute in _ALWAYS):
            continue
        key = _key(source, attribute)
        if key is None:
            continue
        if sub is None:
            del source[key]
        else:
            source[key] = _without_sub(source[key], sub)


def _child(resource: dict[str, Any], urn: str) -> Any:
    key = _key(resource, urn.lower())
    return resource.get(key) if key else None


def _key(mapping: dict[str, Any], lowered: str) -> str | None:
    for key in mapping:
        if key.lower() == lowered:
            return key
    return None


def _pick_sub(value: Any, sub: str) -> Any:
    if isinstance(value, dict):
        key = _key(value, sub)
        return {key: value[key]} if key else None
    if isinstance(value, list):
        picked = [p for item in value if (p := _pick_sub(item, sub))]
        return picked or None
    return None


def _without_sub(value: Any, sub: str) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k.lower() != sub}
    if isinstance(value, list):
        return [_without_sub(item, sub) for item in value]
    return value


def _merge(target: dict[str, Any], key: str, picked: Any) -> None:
    """Combine two sub-attribute picks of the same attribute (`emails.value,emails.type`)."""
    existing = target.get(key)
    if existing is None:
        target[key] = picked
    elif isinstance(existing, dict) and isinstance(picked, dict):
        existing.update(picked)
    elif isinstance(existing, list) and isinstance(picked, list):
        target[key] = [a | b for a, b in zip(existing, picked, strict=False)]
