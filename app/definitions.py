"""Reading definition files (journeys, survey instruments) with precise problems.

A problem names the file, the place in it (a key path such as
`phases[0].stages[1].steps[2].prompts`, and the line where it can be found) and
the reason, in words an author can act on. Never a traceback.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: str
    where: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        return f"{place}: {self.where}: {self.reason}" if self.where else f"{place}: {self.reason}"


class DefinitionError(Exception):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Source:
    path: Path
    text: str
    data: Any
    content_hash: str  # SHA-256 of the file's bytes: the version of a definition


def read_yaml(path: Path) -> Source:
    """The parsed file, or DefinitionError with the line of the YAML mistake."""
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = f"cannot read the file: {error}"
        raise DefinitionError([Problem(str(path), "", None, reason)]) from None
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        reason = f"not valid YAML: {error.problem or error}"
        raise DefinitionError([Problem(str(path), "", line, reason)]) from None
    except YAMLError as error:
        reason = f"not valid YAML: {error}"
        raise DefinitionError([Problem(str(path), "", None, reason)]) from None
    if not isinstance(data, dict):
        raise DefinitionError([Problem(str(path), "", 1, "the file must be a mapping of keys")])
    return Source(path=path, text=text, data=data, content_hash=hashlib.sha256(raw).hexdigest())


def plain(data: Any) -> Any:
    """ruamel's commented containers as plain dicts and lists."""
    if isinstance(data, dict):
        return {str(key): plain(value) for key, value in data.items()}
    if isinstance(data, list):
        return [plain(item) for item in data]
    return data


def parse(model: type[M], source: Source) -> M:
    try:
        return model.model_validate(plain(source.data))
    except ValidationError as error:
        raise DefinitionError(problems_from(error, source)) from None


def problems_from(error: ValidationError, source: Source) -> list[Problem]:
    problems = []
    for item in error.errors():
        path = _data_path(source.data, item["loc"])
        problems.append(
            Problem(str(source.path), key_path(path), line_of(source.data, path), _reason(item))
        )
    return problems


def _data_path(data: Any, loc: Iterable[Any]) -> list[str | int]:
    """Pydantic's location without the discriminator tags it inserts for unions."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if _is_tag(node, part):
            continue
        path.append(part)
        node = _child(node, part)
    return path


def _is_tag(node: Any, part: Any) -> bool:
    if not (isinstance(node, dict) and isinstance(part, str)) or part in node:
        return False
    return bool(node.get("kind") == part or part.startswith("function-"))


def _child(node: Any, part: Any) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    return None


def key_path(path: Sequence[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def line_of(data: Any, path: Sequence[str | int]) -> int | None:
    """The line (1-based) of the deepest part of `path` found in the parsed YAML."""
    line = None
    node = data
    for part in path:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _reason(item: Any) -> str:
    kind = item["type"]
    if kind == "missing":
        return "this required key is missing"
    if kind == "extra_forbidden":
        return "unknown key (check its spelling against the documented format)"
    if kind == "union_tag_invalid":
        return (f"unknown step kind {item['ctx']['tag']!r}; "
                f"the known kinds are {item['ctx']['expected_tags']}")
    if kind == "union_tag_not_found":
        return "this step has no 'kind'"
    if kind == "value_error":
        return str(item["ctx"]["error"])
    if kind == "string_pattern_mismatch":
        return ("must be a short id of lower-case letters, digits, '-' or '_', "
                "starting with a letter or digit")
    return str(item["msg"])
