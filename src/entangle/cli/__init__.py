"""The ``entangle`` command line: a thin Typer shell over the Python API.

Each command group lives in its own module and registers itself on the main app.
Heavy libraries are imported inside commands, so ``entangle --help`` stays fast.
"""

from __future__ import annotations

import signal
import sys
import traceback

import typer
from typer.exceptions import Abort, Exit, TyperException

from entangle import interrupts
from entangle.cli import data, estimate, fetch, mechanisms, panel, registry, run
from entangle.errors import EntangleError, environment_error, is_interrupt, redact

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
    """Run the CLI on ``argv`` and return the exit code: 0 ok, 1 a bug in entangle, 2 bad input or a
    failure of the environment (full disk, read-only output, ...), 130 interrupted (Ctrl-C).

    This is the one place that turns exceptions into exit codes; every message is one line.
    """
    _state["debug"] = False
    with interrupts.watch():
        code = _dispatch(argv)
        # A Ctrl-C ends the command as interrupted, also when something swallowed it on the way
        # (typer returns 130 for a KeyboardInterrupt without a word).
        if code == 130 or interrupts.requested():
            if interrupts.after_commit():
                _fail("error: interrupted after a commit (what was committed is in the store, whole)")
            else:
                _fail("error: interrupted")
            return 130
    return code


def _fail(line: str) -> None:
    print(redact(" ".join(line.split())), file=sys.stderr)


def _dispatch(argv: list[str] | None) -> int:
    try:
        # standalone_mode=False: click *returns* the code of a `raise typer.Exit(n)` instead of raising it
        code = app(args=argv, prog_name="entangle", standalone_mode=False)
    except EntangleError as exc:
        if interrupts.requested():  # an error that only follows from the Ctrl-C
            return 130
        if _state["debug"]:
            traceback.print_exc()
        _fail(f"error: {exc}")
        return 2
    except Exit as exc:  # typer turns Ctrl-C into Exit(130)
        return 130 if isinstance(exc.__context__, KeyboardInterrupt) else exc.exit_code
    except Abort as exc:  # EOF at a prompt (or a Ctrl-C some library turned into Abort)
        if isinstance(exc.__context__, KeyboardInterrupt) or interrupts.requested():
            return 130
        _fail("error: aborted")
        return 1
    except TyperException as exc:
        if hasattr(exc, "ctx"):  # a usage error: unknown command, bad option value, missing argument
            _fail(f"error: {_usage_where(exc)}: {_usage_what(exc)} ({_usage_hint(exc)})")
            return 2
        _fail(f"error: {exc.format_message()}")
        return exc.exit_code
    except BaseException as exc:
        if not isinstance(exc, Exception) and not isinstance(exc, KeyboardInterrupt):
            raise  # SystemExit, GeneratorExit
        if is_interrupt(exc) or interrupts.requested():
            return 130
        if _state["debug"]:
            traceback.print_exc()
        env = environment_error(exc)
        if env is not None:
            _fail(f"error: {env}")
            return 2
        _fail(
            f"error: internal: {type(exc).__name__}: {exc} (a bug in entangle; rerun with --debug "
            "for the traceback and report it)"
        )
        return 1
    return code if isinstance(code, int) else 0


def _usage_what(exc: TyperException) -> str:
    text = exc.format_message() if type(exc).__name__ == "MissingParameter" else exc.message
    return text.replace("Value error, ", "").rstrip(".")


def _usage_where(exc: TyperException) -> str:
    param = getattr(exc, "param", None)
    if param is not None and getattr(param, "opts", None):
        return param.opts[0] if param.param_type_name == "option" else str(param.name).upper()
    return exc.ctx.command_path if exc.ctx is not None else "entangle"


def _usage_hint(exc: TyperException) -> str:
    path = exc.ctx.command_path if exc.ctx is not None else "entangle"
    return f"see '{path} --help'"


def main() -> None:
    code = run_cli(sys.argv[1:])
    # The command is over and its outcome decided: a Ctrl-C during interpreter shutdown must not turn
    # a finished load into a death by signal with no word said.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
