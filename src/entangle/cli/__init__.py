"""The ``entangle`` command line: a thin Typer shell over the Python API.

Each command group lives in its own module and registers itself on the main app.
Heavy libraries are imported inside commands, so ``entangle --help`` stays fast.
"""

from __future__ import annotations

import sys
import traceback

import typer
from typer.exceptions import Abort, Exit, TyperException

from entangle.cli import data, estimate, fetch, mechanisms, panel, registry, run
from entangle.errors import EntangleError

app = typer.Typer(
    name="entangle",
    help="Measure how international interventions become entangled, and what it does to civilians.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_state = {"debug": False}


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks for unexpected errors."),
) -> None:
    _state["debug"] = debug


for _module in (registry, data, fetch, panel, estimate, mechanisms, run):
    _module.register(app)


def run_cli(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` and return the exit code (0 ok, 2 user error, 1 bug)."""
    _state["debug"] = False
    try:
        # standalone_mode=False: click *returns* the code of a `raise typer.Exit(n)` instead of raising it
        code = app(args=argv, prog_name="entangle", standalone_mode=False)
    except EntangleError as exc:
        if _state["debug"]:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exit as exc:
        return exc.exit_code
    except Abort:
        print("error: aborted", file=sys.stderr)
        return 1
    except TyperException as exc:  # usage errors: unknown command, bad option, missing argument
        exc.show()
        return exc.exit_code
    except Exception as exc:
        if _state["debug"]:
            raise
        print(
            f"error: internal: {type(exc).__name__}: {exc} (a bug in entangle; rerun with --debug "
            "for the traceback and report it)",
            file=sys.stderr,
        )
        return 1
    return code if isinstance(code, int) else 0


def main() -> None:
    sys.exit(run_cli(sys.argv[1:]))
