"""What every greenlink command shares: consoles, the error guard, the progress bar.

Sub-command modules import from here (not from :mod:`greenlink.cli.main`, which imports them).

Exit codes: 0 success, 1 a rule (or a check the command names) fails, 2 bad input — and any
unexpected error: one line naming it and the hint to rerun with ``--debug`` (or
``GREENLINK_DEBUG=1``) for the traceback. :class:`GuardedGroup` applies that to every command of
the ``greenlink`` app; :func:`user_errors` to the block it wraps.

User text (names, paths, messages) is printed with Rich markup off: ``[[battery]]`` stays
``[[battery]]``. Use :func:`say` / :func:`warn` or ``markup=False``, and :class:`rich.text.Text`
for table cells.
"""

from __future__ import annotations

import contextvars
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

from greenlink.errors import GreenlinkError, Problem
from greenlink.i18n import N_, check_lang, set_lang
from greenlink.i18n import gettext as _

console = Console()
err_console = Console(stderr=True)
#: For commands that print only user text (names, paths, statements): Rich markup off.
plain_console = Console(markup=False)

# user-facing texts of this module (in the catalogue, translated where printed)
_MSG_PROBLEMS = N_("error: {n} problem(s)")
_MSG_UNEXPECTED = N_("error: unexpected {kind}: {detail} — this is a bug in greenlink or an "
                     "input it does not yet check; rerun with --debug for the traceback")
_MSG_WARNING = N_("warning: {problem}")
_MSG_FORMAT = N_("unknown format {fmt!r}")
_EXPECTED_FORMAT = N_("xlsx (or leave --format out)")
_MSG_LANG = N_("unknown language {lang!r}; one of: en, zh-CN")
_MSG_WROTE = N_("wrote {path}")
DEBUG_ENV = "GREENLINK_DEBUG"
LANG_HELP = N_("language of messages and of the reports written: en or zh-CN (else "
                "GREENLINK_LANG, else the locale: LC_ALL, LC_MESSAGES, LANG; else en)")


_debug = {"on": False}


def set_debug(on: bool) -> None:
    """Set by the ``greenlink`` app's ``--debug`` option (each invocation)."""
    _debug["on"] = on


def choose_lang(lang: str | None) -> None:
    """Set by the ``greenlink`` app's ``--lang`` option (each invocation; None: the environment
    decides, see :mod:`greenlink.i18n`)."""
    if lang is not None:
        try:
            check_lang(lang)
        except ValueError:
            set_lang(None)
            raise typer.BadParameter(_(_MSG_LANG).format(lang=lang), param_hint="--lang"
                                     ) from None
    set_lang(lang)


def wrote(path: object) -> str:
    """``wrote PATH`` in the current language."""
    return _(_MSG_WROTE).format(path=path)


def debug_enabled() -> bool:
    """``--debug`` on the command line or ``GREENLINK_DEBUG=1`` in the environment."""
    return _debug["on"] or os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes")


def fail(exc: GreenlinkError) -> None:
    err_console.print(Text(_(_MSG_PROBLEMS).format(n=len(exc.problems)), style="bold red"))
    for problem in exc.problems:
        err_console.print(f"  • {problem}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def unexpected(exc: BaseException) -> None:
    """One line for an error greenlink did not foresee, then exit code 2 (never 1: 1 means a
    rule fails)."""
    detail = " ".join(str(exc).split()) or "(no message)"
    if len(detail) > 300:
        detail = detail[:300] + "…"
    err_console.print(_(_MSG_UNEXPECTED).format(kind=type(exc).__name__, detail=detail),
                      markup=False, highlight=False, soft_wrap=True, style="red")
    raise typer.Exit(code=2)


#: What a command may raise on purpose: an exit code, a usage error, an abort (Ctrl-C).
_PASS_THROUGH = (typer.Exit, typer.Abort, TyperException)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn user errors into a clear message and exit code 2 (never a traceback); any other
    error into one line and exit code 2 (with ``--debug``: raised, traceback and all)."""
    try:
        yield
    except GreenlinkError as exc:
        fail(exc)
    except _PASS_THROUGH:
        raise
    except Exception as exc:
        if debug_enabled():
            raise
        unexpected(exc)


def lang_in_args(args: Sequence[str]) -> str | None:
    """The value of the ``greenlink`` app's own ``--lang`` option in its arguments (those before
    the subcommand's name), or None."""
    items = list(args)
    for i, arg in enumerate(items):
        if arg == "--lang":
            return items[i + 1] if i + 1 < len(items) else None
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
        if arg == "--" or not arg.startswith("-"):
            return None
    return None


def hoist_lang(args: Sequence[str]) -> list[str]:
    """``args`` with the ``--lang`` options given after the subcommand (``greenlink rules list
    --lang zh-CN``) moved to the front, where the ``greenlink`` app's own option is parsed.
    Arguments after ``--`` stay where they are."""
    items = list(args)
    end = items.index("--") if "--" in items else len(items)
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < end:
        arg = items[i]
        if arg == "--lang":
            front.extend(items[i:i + 2])
            i += 2
            continue
        if arg.startswith("--lang="):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return [*front, *rest, *items[end:]]


#: The English help texts of the click objects whose help :func:`localize_help` translated.
_help_en: weakref.WeakKeyDictionary[Any, tuple[str | None, ...]] = weakref.WeakKeyDictionary()


def _translated(obj: Any, fields: tuple[str, ...]) -> None:
    if obj not in _help_en:
        _help_en[obj] = tuple(getattr(obj, field, None) for field in fields)
    for field, english in zip(fields, _help_en[obj], strict=True):
        if english:
            setattr(obj, field, _(english))


def localize_help(command: Any) -> None:
    """Put the help texts of ``command``, its parameters and its subcommands (all the way
    down) in the current language. Typer takes them from the ``help=`` texts (marked ``N_``)
    and the commands' docstrings (``scripts/i18n_catalogue.py`` extracts those from the command
    tree) when the app is built; click shows whatever the objects hold when it renders help, so
    translating them before the arguments are parsed puts ``--help`` in the chosen language.
    The English originals are kept: translating again in another language is exact."""
    _translated(command, ("help", "short_help"))
    for param in command.params:
        _translated(param, ("help",))
    for sub in getattr(command, "commands", {}).values():
        localize_help(sub)


def _english(obj: Any, fields: tuple[str, ...]) -> None:
    for field, english in zip(fields, _help_en.pop(obj, ()), strict=False):
        setattr(obj, field, english)


def restore_help(command: Any) -> None:
    """Put back the English help texts :func:`localize_help` replaced."""
    _english(command, ("help", "short_help"))
    for param in command.params:
        _english(param, ("help",))
    for sub in getattr(command, "commands", {}).values():
        restore_help(sub)


class GuardedGroup(TyperGroup):
    """The ``greenlink`` command group: whatever a command raises that is not a click exit
    becomes a clear message and exit code 2 (:func:`user_errors` for the whole command).

    Before it parses its arguments it sets the language (``--lang`` among them, before or
    after the subcommand, else the environment) and translates the help texts of the whole
    command tree, so ``greenlink --lang zh-CN simulate --help`` and ``GREENLINK_LANG=zh-CN
    greenlink --help`` are Chinese. Both last as long as the invocation: it runs in a copy of
    the caller's context (the language it sets is gone when it returns) and the English help
    texts are put back, so a program that runs ``greenlink`` in its own process (a test, a
    notebook) keeps its own language."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return contextvars.copy_context().run(super().main, *args, **kwargs)
        finally:
            restore_help(self)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None,
                     **extra: Any) -> Any:  # typer's own click Context
        if parent is None:
            args = hoist_lang(args)
            try:
                set_lang(lang_in_args(args))
            except ValueError:  # the --lang option itself says so, in the language of the env
                set_lang(None)
            localize_help(self)
        return super().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context
        with user_errors():
            return super().invoke(ctx)


def warn(problems: Iterable[Problem]) -> None:
    """Print warnings (inputs that look wrong but may be right) on stderr, markup off."""
    for problem in problems:
        err_console.print(_(_MSG_WARNING).format(problem=problem), markup=False, highlight=False,
                          soft_wrap=True, style="yellow")


def say(text: str) -> None:
    """Print user text (names, paths) on stdout with Rich markup and highlighting off."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def default_store(scenario: Path) -> Path:
    """``greenlink-store/<scenario file stem>/meters.duckdb`` under the working directory."""
    return Path("greenlink-store") / scenario.stem / "meters.duckdb"


@contextmanager
def progress_bar(total_steps: int, enabled: bool = True) -> Iterator[Callable[[str], None]]:
    if not enabled:
        yield lambda _m: None
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TimeElapsedColumn(), console=err_console, transient=False) as bar:
        task = bar.add_task(_("starting"), total=total_steps)

        def say(message: str) -> None:
            bar.update(task, description=message, advance=1)

        yield say
        bar.update(task, description=_("done"), completed=total_steps)



def xlsx_format(fmt: str | None, out: Path | None = None) -> bool:
    """Whether a command writes xlsx: ``--format xlsx``, or an output file named ``*.xlsx``.
    ``None`` (and no such name) is the command's usual output; any other format is refused."""
    from greenlink.errors import InputError

    if fmt is None:
        return out is not None and out.suffix.lower() == ".xlsx"
    if fmt.strip().lower() == "xlsx":
        return True
    raise InputError(Problem(_(_MSG_FORMAT).format(fmt=fmt), location="--format",
                             expected=_(_EXPECTED_FORMAT)))


_MSG_SAME = N_("{a} and {b}: no differences")
_MSG_PRESENT = N_("present")


def shown_value(value: Any) -> str:
    """A rule's or parameter's value as a diff table shows it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "any"
    return str(value)


def print_diff(out: Console, a_id: str, b_id: str, only: Sequence[tuple[str, Sequence[str],
                                                                      Sequence[str]]],
               changed: Iterable[Any]) -> None:
    """The table of a rule-set or regime diff: for each ``(label, only in a, only in b)`` the
    names present on one side only (``label`` a message with ``{name}``), then each changed
    value (``.path``, ``.a``, ``.b``)."""
    from rich.table import Table

    changed = list(changed)
    if not changed and not any(in_a or in_b for _label, in_a, in_b in only):
        out.print(_(_MSG_SAME).format(a=a_id, b=b_id))
        return
    table = Table(title=f"{a_id} → {b_id}")
    for col in (_("what"), a_id, b_id):
        table.add_column(col, overflow="fold")
    for label, in_a, in_b in only:
        for name in in_a:
            table.add_row(_(label).format(name=name), _(_MSG_PRESENT), "—")
        for name in in_b:
            table.add_row(_(label).format(name=name), "—", _(_MSG_PRESENT))
    for change in changed:
        table.add_row(change.path, shown_value(change.a), shown_value(change.b))
    out.print(table)
