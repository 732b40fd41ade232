"""One exception family for every error a user can cause.

Each error names *where* (file, row or field) and *what was expected*, so the CLI can print it
without a traceback and exit with code 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from greenlink.i18n import gettext as _


@dataclass
class Problem:
    """One thing wrong with an input: where it is and what was expected."""

    message: str
    file: str | None = None
    location: str | None = None  # "line 12", "row 340", "users[2].load.column", ...
    expected: str | None = None

    def __str__(self) -> str:
        where = ":".join(p for p in (self.file, self.location) if p)
        # a message in the catalogue is shown in the current language; others stay as written
        message = _(self.message) if self.message else ""
        text = f"{where}: {message}" if where else message
        if self.expected:
            text += _(" (expected {expected})").format(expected=self.expected)
        return text


class GreenlinkError(Exception):
    """Base of every error greenlink reports to a user; carries one or more problems."""

    def __init__(self, problems: list[Problem] | Problem | str) -> None:
        if isinstance(problems, str):
            problems = [Problem(problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = problems
        super().__init__("\n".join(str(p) for p in problems))


class InputError(GreenlinkError):
    """A scenario, series, weather, rule-set or data file is missing or wrong."""


@dataclass
class ProblemList:
    """Collects problems so that validation can report all of them at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, message: str, file: str | None = None, location: str | None = None,
            expected: str | None = None) -> None:
        self.problems.append(Problem(message, file, location, expected))

    def raise_if_any(self, cls: type[GreenlinkError] = InputError) -> None:
        if self.problems:
            raise cls(list(self.problems))
