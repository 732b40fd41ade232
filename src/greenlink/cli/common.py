"""What every greenlink command shares: consoles, the user-error guard, the progress bar.

Sub-command modules import from here (not from :mod:`greenlink.cli.main`, which imports them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from greenlink.errors import GreenlinkError

console = Console()
err_console = Console(stderr=True)


def fail(exc: GreenlinkError) -> None:
    err_console.print(f"[bold red]error:[/] {len(exc.problems)} problem(s)")
    for problem in exc.problems:
        err_console.print(f"  • {problem}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn user errors into a clear message and exit code 2 (never a traceback)."""
    try:
        yield
    except GreenlinkError as exc:
        fail(exc)


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
        task = bar.add_task("starting", total=total_steps)

        def say(message: str) -> None:
            bar.update(task, description=message, advance=1)

        yield say
        bar.update(task, description="done", completed=total_steps)
