"""Comment-keeping changes to ruamel mappings: a key added or deleted in bot.yml leaves
every comment above the key it explains (ruamel keeps a comment with the value before it).
"""

from __future__ import annotations

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

from botbuilder.editing.round_trip import set_key

__all__ = ["delete_keeping_comments", "set_keeping_comments"]


def _tail(parent: CommentedMap, key: object) -> tuple[CommentedMap, object]:
    """The mapping and key of the last scalar of `parent[key]`: where ruamel keeps the
    comment lines that follow it (the comment above the next key)."""
    value = parent[key]
    while isinstance(value, CommentedMap) and value and not value.fa.flow_style():
        parent, key = value, list(value)[-1]
        value = parent[key]
    return parent, key


def _comment_after(parent: CommentedMap, key: object) -> str:
    """Take the comment lines after `parent[key]`'s last line (its end-of-line comment stays)."""
    node, last = _tail(parent, key)
    token = (node.ca.items.get(last) or [None] * 4)[2]
    if token is None or "\n" not in token.value:
        return ""
    eol, _, rest = token.value.partition("\n")
    token.value = eol + "\n"
    return rest


def _put_comment_after(parent: CommentedMap, key: object, lines: str) -> None:
    if not lines:
        return
    node, last = _tail(parent, key)
    slot = node.ca.items.setdefault(last, [None] * 4)
    while len(slot) < 4:
        slot.append(None)
    if slot[2] is None:
        slot[2] = CommentToken("\n" + lines, CommentMark(0), None)
    else:
        slot[2].value = slot[2].value.rstrip("\n") + "\n" + lines


def set_keeping_comments(
    parent: CommentedMap, key: str, value: object, order: tuple[str, ...] = ()
) -> None:
    """`set_key`, keeping the comment above the key the new one goes before where it was.

    ruamel keeps the comment lines above a key with the value before it, so a key
    inserted without care would land between a comment and the key it explains.
    """
    if key in parent or not parent:
        set_key(parent, key, value, order) if order else parent.__setitem__(key, value)
        return
    keys = list(parent)
    later = order[order.index(key) + 1 :] if key in order else ()
    at = next((i for i, k in enumerate(keys) if k in later), len(keys))
    moved = _comment_after(parent, keys[at - 1]) if at else ""
    parent.insert(at, key, value)
    _put_comment_after(parent, key, moved)


def delete_keeping_comments(parent: CommentedMap, key: str) -> None:
    """Delete `key` with its own comment; the comment above the next key stays above it."""
    keys = list(parent)
    at = keys.index(key)
    moved = _comment_after(parent, key)
    if at > 0:
        _comment_after(parent, keys[at - 1])  # the deleted key's own comment goes with it
    del parent[key]
    if at > 0:
        _put_comment_after(parent, keys[at - 1], moved)
