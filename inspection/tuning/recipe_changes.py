"""What changed between two recipe texts, in one line a person reads in a version list.

"surface.threshold 0.50 → 0.62": a tool's settings are named by the tool's id, other lists'
items by their id (``cameras.cam1.source.rate_hz``) or position; the version itself is left out
(every change has a new one).
"""

from __future__ import annotations

from typing import Any

import yaml

# More changes than this are counted, not listed: the line must stay one line.
MAX_LISTED = 3
NOT_SET = "(default)"  # left out: the tool's own (a threshold: the taught one)


def _item_key(items: list[Any]) -> str | None:
    """What names each item of a list: its id (tools, cameras) or its name (a label's fields)."""
    for key in ("id", "name"):
        if all(isinstance(v, dict) and key in v for v in items):
            return key
    return None


def _flatten(value: Any, prefix: str, out: dict[str, Any], items: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out, items)
    elif value and isinstance(value, list) and (named_by := _item_key(value)):
        for item in value:
            rest = {k: v for k, v in item.items() if k != named_by}
            # tools are what engineers name ("surface.threshold"); other lists keep their name
            # ("cameras.cam1.source.rate_hz", a label's "label.fields.lot.region.x")
            name = str(item[named_by]) if prefix == "tools" else f"{prefix}.{item[named_by]}"
            items.add(name)
            _flatten(rest, name, out, items)
    else:
        out[prefix] = value


def flat_settings(text: str) -> tuple[dict[str, Any], set[str]]:
    """A recipe's YAML text as ``{"surface.threshold": 0.62, ...}`` and the names of its tools
    and other listed items (``{"surface", "cameras.cam1"}``); empty when it is not YAML."""
    try:
        doc = yaml.safe_load(text) if text else {}
    except yaml.YAMLError:
        return {}, set()
    if not isinstance(doc, dict):
        return {}, set()
    doc = {k: v for k, v in doc.items() if k != "version"}
    out: dict[str, Any] = {}
    items: set[str] = set()
    _flatten(doc, "", out, items)
    return out, items


def show_value(value: Any) -> str:
    """A setting as the summary shows it: 0.5 as "0.50", 0.625 as "0.625"."""
    if value is None:
        return NOT_SET
    if isinstance(value, float):
        return f"{value:.2f}" if round(value, 2) == value else f"{value:g}"
    if value == "":
        return "(empty)"
    if isinstance(value, list | dict):
        return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return str(value)


def change_summary(old_text: str, new_text: str) -> str:
    """One line saying what changed from ``old_text`` to ``new_text`` (recipe YAML texts)."""
    if not old_text:
        return "first version kept"
    (old, old_items), (new, new_items) = flat_settings(old_text), flat_settings(new_text)
    gone, added = old_items - new_items, new_items - old_items
    changes = [f"{name} removed" for name in sorted(gone)]
    changes += [f"{name} added" for name in sorted(added)]
    whole = tuple(f"{name}." for name in gone | added)  # their settings went or came with them
    for key in [*old, *(k for k in new if k not in old)]:
        if key.startswith(whole):
            continue
        before, after = old.get(key), new.get(key)
        if before != after:
            changes.append(f"{key} {show_value(before)} → {show_value(after)}")
    if not changes:
        return "no setting changed"
    listed = "; ".join(changes[:MAX_LISTED])
    more = len(changes) - MAX_LISTED
    return f"{listed}; and {more} more" if more > 0 else listed
