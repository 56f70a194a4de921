"""Located, fixable problems: every input fault becomes a Problem, never a traceback."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable

from .characters import codepoint_difference


class _Missing:
    """The value of a required key that is absent."""

    def __repr__(self) -> str:
        return "nothing"


MISSING = _Missing()


@dataclass(frozen=True, order=True)
class Location:
    """Where a value came from: a file and a 1-based line and column (0 when unknown)."""

    file: str
    line: int = 0
    column: int = 0
    path: str = field(default="", compare=False)  # the YAML field path, e.g. events[3].status

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file


@dataclass(frozen=True)
class Problem:
    """One input fault: where, which field, the bad value, what was expected, and a fix."""

    location: Location
    field: str
    value: Any
    expected: str
    suggestion: str = ""

    def __str__(self) -> str:
        value = _show(self.value)
        text = f"{self.location}: {self.field}: got {value}; expected {self.expected.rstrip('.')}"
        return text + (f". {self.suggestion}" if self.suggestion else "")


class BuildError(Exception):
    """Raised with every problem found, so a run reports all of them at once."""

    def __init__(self, problems: Iterable[Problem]):
        unique = {(p.location, p.field, repr(p.value), p.expected, p.suggestion): p for p in problems}  # values may be lists
        self.problems = sorted(unique.values(), key=lambda p: (p.location, p.field, str(p.value)))
        super().__init__(f"{len(self.problems)} problem(s)")

    def report(self) -> str:
        lines = [str(p) for p in self.problems]
        lines.append(f"{len(self.problems)} problem(s); nothing was written.")
        return "\n".join(lines)


@dataclass
class Problems:
    """Collects problems during a stage; `check()` raises them together."""

    items: list[Problem] = field(default_factory=list)

    def add(self, location: Location, field: str, value: Any, expected: str, suggestion: str = "") -> None:
        self.items.append(Problem(location, field, value, expected, suggestion))

    def extend(self, other: "Problems") -> None:
        self.items.extend(other.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def check(self) -> None:
        if self.items:
            raise BuildError(self.items)


def did_you_mean(value: Any, choices: Iterable[str]) -> str:
    """A 'did you mean' hint for a mistyped code or ID, or '' when nothing is close."""
    if not isinstance(value, str):
        return ""
    choices = sorted(set(choices))
    lookalike = next(((c, why) for c in choices if (why := codepoint_difference(value, c))), None)
    if lookalike:
        return f"did you mean {lookalike[0]!r}? {lookalike[1]}"
    close = difflib.get_close_matches(value, choices, n=3, cutoff=0.6)
    if not close:
        lower = {c.lower(): c for c in choices}
        close = [lower[value.lower()]] if value.lower() in lower else []
    return "did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _escaped(text: str, properties: bool = False) -> str:
    """GitHub workflow command escaping (data: % CR LF; properties also : and ,)."""
    text = str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if properties else text


def github_annotations(problems: Iterable[Problem]) -> str:
    """One `::error file=...,line=...,col=...::...` workflow command per problem, so that GitHub shows
    each on the offending line of a pull request."""
    lines = []
    for p in problems:
        where = [f"file={_escaped(p.location.file, True)}"]
        if p.location.line:
            where += [f"line={p.location.line}", f"col={p.location.column}"]
        where.append(f"title={_escaped(p.field, True)}")
        message = str(p).split(": ", 1)[1] if str(p).startswith(str(p.location)) else str(p)
        lines.append(f"::error {','.join(where)}::{_escaped(message)}")
    return "\n".join(lines)
