"""How `ugc` ends when something goes wrong: one or two lines that say what to do,
and an exit code a script can tell apart; the traceback only with `--debug`.

- 2: the command line itself is wrong (an unknown option, a value out of range, a
  setting it needs is missing), as click and the shells have it;
- 69 (EX_UNAVAILABLE, sysexits.h): a server it needs did not answer;
- 1: anything else, said in one line;
- 130: interrupted (Ctrl-C).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

import typer

USAGE, FAILED, UNAVAILABLE, INTERRUPTED = 2, 1, 69, 130
DEBUG_FLAG = "--debug"


def _unavailable(exc: BaseException) -> bool:
    """A server that did not answer: refused or timed-out connections, whichever
    driver noticed (aiokafka, pymongo, httpx, a ugc service)."""
    from ugc.errors import Unavailable  # noqa: PLC0415

    if isinstance(exc, ConnectionError | TimeoutError | Unavailable):
        return True
    kind = type(exc)
    names = {f"{k.__module__}.{k.__name__}" for k in kind.__mro__}
    return any(
        name.startswith(("aiokafka.errors.", "httpx."))
        or name.endswith(("ServerSelectionTimeoutError", "ConnectionFailure", "NetworkTimeout"))
        for name in names
    )


def run(app: Callable[..., object], argv: list[str]) -> int:
    """Run the command line `argv` (without the program name); the exit code."""
    debug = DEBUG_FLAG in argv
    if not debug:  # drivers' own complaints (retries, unclosed clients) stay out of the line
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    try:
        # Outside standalone mode a command's `typer.Exit(code)` comes back as its code.
        code = app(
            args=[a for a in argv if a != DEBUG_FLAG], prog_name="ugc", standalone_mode=False
        )
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as exc:
        if debug and not isinstance(exc, typer.Exit | typer.TyperException):
            raise
        return ending(exc)
    return code if isinstance(code, int) else 0


def ending(exc: Exception) -> int:
    """The exit code of a command that raised `exc`, its line said."""
    if isinstance(exc, typer.Exit):
        return int(exc.exit_code)
    if isinstance(exc, typer.Abort):
        return _say("interrupted", INTERRUPTED)
    if isinstance(exc, typer.TyperException):  # what the command line got wrong
        context = getattr(exc, "ctx", None)
        hint = f"; see `{context.command_path} --help`" if context is not None else ""
        format_message = getattr(exc, "format_message", None)
        message = (format_message() if callable(format_message) else str(exc)).rstrip(".")
        code = getattr(exc, "exit_code", None) or USAGE
        return _say(f"{message}{hint}", code) if message else code  # help was printed
    message = _first_line(exc)
    from ugc.cli.app import Refused  # noqa: PLC0415
    from ugc.devstack.ports import PortsTaken  # noqa: PLC0415
    from ugc.errors import NotSetUp  # noqa: PLC0415

    if isinstance(exc, Refused | PortsTaken | NotSetUp):  # it says what to do already
        return _say(message, FAILED)
    if _unavailable(exc):
        return _say(f"{message} (a server it needs did not answer: is it running?)", UNAVAILABLE)
    return _say(f"{message} (run again with --debug for the details)", FAILED)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())[:400]


def _say(message: str, code: int) -> int:
    print(f"ugc: {message}", file=sys.stderr)
    return code
