"""Strict YAML for untrusted files (``planner.yaml``, device profiles): one implementation.

PyYAML's pure-Python safe loader, composing a node tree with four extra rules enforced while
composing, so a hostile file is stopped at the offending node with its line:

- no aliases (``*name``): a "billion laughs" cannot be built, and every value is written once;
- only the core tags: string, integer, float, boolean, null, sequence, mapping (no Python
  tags, no ``!!binary``, no timestamps, no custom tags);
- at most ``MAX_YAML_NODES`` nodes and ``MAX_YAML_DEPTH`` levels of nesting;
- a time limit.

``load_yaml`` then builds plain Python values (refusing duplicate keys and keys that are not
strings); ``StrictLoader`` is also usable directly by readers that keep the node tree.
"""

from __future__ import annotations

import time
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from planner.errors import PlannerError

MAX_YAML_NODES = 50_000
"""Values one YAML document may hold (a real matrix or profile has a few hundred, a matrix
reaches 200,000 checks through ``defaults``). PyYAML's pure-Python composer takes 30-50 µs a
value, so this also bounds the time (~2 s)."""
MAX_YAML_DEPTH = 64
YAML_SECONDS = 20.0
"""Wall time composing one document may take (a 1 MiB file takes well under a second)."""

CORE_SCALAR_TAGS = frozenset(
    {
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:null",
    }
)
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _problem(message: str, mark: Any) -> yaml.composer.ComposerError:
    return yaml.composer.ComposerError(None, None, message, mark)


class StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing aliases, non-core tags, huge and deep documents while composing
    (so errors point at the offending ``*ref`` or tag)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0
        self._depth = 0
        self._deadline = time.monotonic() + YAML_SECONDS

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _problem("YAML aliases (*name) are not allowed", event.start_mark)
        self._nodes += 1
        if self._nodes > MAX_YAML_NODES or time.monotonic() > self._deadline:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _problem(
                f"the document holds more than {MAX_YAML_NODES} values (or takes too long to "
                "read); planner's limit",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                event = self.peek_event()  # type: ignore[no-untyped-call]
                raise _problem(
                    f"nested too deeply (over {MAX_YAML_DEPTH} levels)", event.start_mark
                )
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if node is not None:
            _check_tag(node)
        return node


def _check_tag(node: Node) -> None:
    tag = node.tag
    if isinstance(node, ScalarNode):
        if tag in CORE_SCALAR_TAGS:
            return
        if tag == _TIMESTAMP and node.style is None and not str(node.value).startswith("!"):
            raise _problem(
                f"invalid YAML value {str(node.value)[:40]!r}: a date (quote it to use it as text)",
                node.start_mark,
            )
    elif (isinstance(node, SequenceNode) and tag == _SEQ) or (
        isinstance(node, MappingNode) and tag == _MAP
    ):
        return
    raise _problem(f"unsupported YAML tag {tag!r}", node.start_mark)


def compose(text: str) -> Node | None:
    """The node tree of one YAML document under the strict rules (``yaml.YAMLError`` on a
    violation, with the line in its mark)."""
    loader = StrictLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def load_yaml(text: str, path: str, error: type[PlannerError]) -> Any:
    """Plain values (dict, list, str, int, float, bool, None) of a strict YAML document.

    Every problem is an ``error`` naming ``path`` and, where known, the line.
    """
    try:
        node = compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1})" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        prefix = "" if problem.startswith("invalid YAML") else "invalid YAML: "
        raise error(f"{prefix}{problem}{where}", path=path) from None
    except yaml.YAMLError as exc:
        raise error(f"invalid YAML: {' '.join(str(exc).split())[:200]}", path=path) from None
    except RecursionError:
        raise error("invalid YAML: nested too deeply", path=path) from None
    if node is None:
        return None
    return _plain(node, path, error)


def _plain(node: Node, path: str, error: type[PlannerError]) -> Any:
    """Construct the values of a checked node tree (iteratively: no recursion limit)."""
    constructor = SafeConstructor()

    def scalar(n: ScalarNode) -> Any:
        try:
            return constructor.construct_object(n)
        except (ValueError, TypeError, OverflowError, yaml.YAMLError):  # "!!float x", 5000 digits
            line = n.start_mark.line + 1
            raise error(
                f"invalid YAML value {str(n.value)[:40]!r} (line {line})", path=path
            ) from None

    def container(n: Node) -> Any:
        return {} if isinstance(n, MappingNode) else []

    if isinstance(node, ScalarNode):
        return scalar(node)
    root = container(node)
    stack: list[tuple[Node, Any]] = [(node, root)]
    while stack:
        current, into = stack.pop()
        if isinstance(current, SequenceNode):
            for child in current.value:
                value = scalar(child) if isinstance(child, ScalarNode) else container(child)
                into.append(value)
                if not isinstance(child, ScalarNode):
                    stack.append((child, value))
        elif isinstance(current, MappingNode):
            for key_node, value_node in current.value:
                line = key_node.start_mark.line + 1
                if not isinstance(key_node, ScalarNode):
                    raise error(f"invalid YAML: keys must be plain values (line {line})", path=path)
                key = scalar(key_node)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise error(f"invalid YAML: keys must be plain values (line {line})", path=path)
                if key in into:
                    raise error(f"invalid YAML: duplicate key {key!r} (line {line})", path=path)
                if isinstance(value_node, ScalarNode):
                    into[key] = scalar(value_node)
                else:
                    into[key] = container(value_node)
                    stack.append((value_node, into[key]))
    return root
