"""YAML that remembers lines, for the drill's scenario and script files.

PyYAML's `safe_load` forgets where each value was, and errors must name the line. This loader
builds the same plain dicts and lists (subclasses that also record the line of every key and
item) and refuses what `safe_load` would let through silently: a key given twice (the last one
would win) and keys that are not strings (`on:` is a boolean in YAML 1.1). Reading a file is
bounded and never raises anything but YamlProblem.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

MAX_FILE_BYTES = 4 * 1024 * 1024  # shipped scenarios are ~12 KB; more is a wrong file
MAX_NUMBER_CHARS = 400  # an integer this long is a mistake (and past 4300 digits, a ValueError)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_INDEX = re.compile(r"\[(\d+)\]\.?")


class YamlProblem(Exception):
    """Where (line, 1-based; None if no line applies) and what is wrong with a YAML source."""

    def __init__(self, line: int | None, problem: str) -> None:
        super().__init__(problem)
        self.line, self.problem = line, problem


class YamlMap(dict[str, Any]):
    """A mapping with the line it starts on and the line of each key."""

    line: int = 1
    key_lines: dict[str, int]


class YamlList(list[Any]):
    """A sequence with the line it starts on and the line of each item."""

    line: int = 1
    item_lines: list[int]


# libyaml's parser when PyYAML has it (6x faster on a shipped scenario), else the pure one.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):  # type: ignore[valid-type,misc]
    def construct_line_map(self, node: MappingNode) -> Any:
        data = YamlMap()
        data.line, data.key_lines = node.start_mark.line + 1, {}
        yield data
        own = [(k, v) for k, v in node.value if k.tag != _MERGE_TAG]
        self.flatten_mapping(node)  # `<<: *base` pairs come first; explicit keys override them
        merged = node.value[: len(node.value) - len(own)]
        seen: set[str] = set()
        for pairs, explicit in ((merged, False), (own, True)):
            for key_node, value_node in pairs:
                key = self.construct_object(key_node, deep=True)
                mark = key_node.start_mark
                if not isinstance(key, str):
                    raise ConstructorError(None, None, _not_a_string(key_node, key), mark)
                if explicit:
                    if key in seen:
                        raise ConstructorError(None, None, f"duplicate key {key[:60]!r}", mark)
                    seen.add(key)
                data[key] = self.construct_object(value_node, deep=False)
                data.key_lines[key] = mark.line + 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        # An explicit tag on a value it does not fit (`!!timestamp soon`, `!!float x`) fails
        # inside PyYAML with a plain ValueError or AttributeError: give it the node's line.
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, AttributeError, OverflowError) as e:
            tag = node.tag.rsplit(":", 1)[-1]
            raise ConstructorError(
                None, None, f"cannot read this value as {tag} ({type(e).__name__})", node.start_mark
            ) from e

    def construct_bounded_int(self, node: ScalarNode) -> int:
        # int("9" * 5000) raises ValueError (Python's 4300-digit limit), not a YAMLError.
        if len(node.value) > MAX_NUMBER_CHARS:
            raise ConstructorError(
                None, None, f"a number of {len(node.value)} characters is too long", node.start_mark
            )
        return int(super().construct_yaml_int(node))

    def construct_line_list(self, node: SequenceNode) -> Any:
        data = YamlList()
        data.line, data.item_lines = node.start_mark.line + 1, []
        yield data
        data.extend(self.construct_object(child, deep=False) for child in node.value)
        data.item_lines.extend(child.start_mark.line + 1 for child in node.value)


def _not_a_string(node: Any, key: Any) -> str:
    if isinstance(node, ScalarNode):  # `on:` is True, `1:` is 1: the source text says which
        return f"key {node.value[:60]!r} reads as {type(key).__name__} {key!r}: quote it"
    return "a key must be a string"


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_line_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_line_list)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_bounded_int)


def load_yaml(text: str) -> Any:
    """The document, with YamlMap/YamlList containers; YamlProblem names the line."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = ", ".join(p for p in (e.context, e.problem) if p) or "syntax error"
        raise YamlProblem(mark.line + 1 if mark else None, f"invalid YAML: {problem}") from None
    except yaml.reader.ReaderError as e:
        line = text[: e.position].count("\n") + 1
        char = e.character if isinstance(e.character, str) else chr(e.character)
        raise YamlProblem(
            line, f"invalid YAML: character #x{ord(char):04x} is not allowed"
        ) from None
    except yaml.YAMLError as e:
        raise YamlProblem(None, f"invalid YAML: {str(e).splitlines()[0]}") from None
    except UnicodeEncodeError as e:  # a lone surrogate ("\ud800") in text given as a str
        line = text[: e.start].count("\n") + 1
        raise YamlProblem(line, "invalid YAML: the text is not valid Unicode") from None
    except RecursionError:
        raise YamlProblem(None, "invalid YAML: nested too deeply") from None


def read_yaml_text(path: Path) -> str:
    """A YAML file's text: a bounded regular file, valid UTF-8 (a BOM is dropped)."""
    try:
        st = path.stat()
        if stat.S_ISDIR(st.st_mode):
            raise YamlProblem(None, "is a directory, not a YAML file")
        if not stat.S_ISREG(st.st_mode):
            raise YamlProblem(None, "is not a regular file")  # a FIFO or device would block
        if st.st_size > MAX_FILE_BYTES:
            raise YamlProblem(
                None, f"is {st.st_size} bytes; the limit is {MAX_FILE_BYTES} bytes (4 MiB)"
            )
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise YamlProblem(None, "file not found") from None
    except PermissionError:
        raise YamlProblem(None, "cannot read: permission denied") from None
    except OSError as e:
        raise YamlProblem(None, f"cannot read: {e.strerror or e}") from None
    except ValueError:  # a NUL in the name
        raise YamlProblem(None, "is not a valid file name") from None
    if len(data) > MAX_FILE_BYTES:
        raise YamlProblem(None, f"is over the limit of {MAX_FILE_BYTES} bytes (4 MiB)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise YamlProblem(line, f"not UTF-8 text (byte 0x{data[e.start]:02x})") from None


def line_of(root: Any, path: str) -> int:
    """The line of `path` ("workloads[0].image") in a loaded document, or of the deepest part
    of it that exists (a missing key is reported where its mapping is)."""
    node, line, rest = root, getattr(root, "line", 1), path
    while rest:
        if isinstance(node, YamlList) and (m := _INDEX.match(rest)):
            i = int(m[1])
            if i >= len(node):
                break
            node, line, rest = node[i], node.item_lines[i], rest[m.end() :]
        elif isinstance(node, YamlMap):
            # The longest key that prefixes the path: keys (profile names) may contain dots.
            keys = [
                k
                for k in node
                if rest.startswith(k) and (len(rest) == len(k) or rest[len(k)] in ".[")
            ]
            if not keys:
                break
            key = max(keys, key=len)
            node, line, rest = node[key], node.key_lines[key], rest[len(key) :].removeprefix(".")
        else:
            break
    return line
