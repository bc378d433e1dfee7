"""The one error type that reaches the user.

Every module raises :class:`AdaError` for bad input (a malformed file, a wrong flag, an output directory
that would be overwritten). The CLI prints it as a single line and exits with status 2, so a user sees
*which file, which line or record, what is wrong* instead of a traceback.
"""

from __future__ import annotations


class AdaError(Exception):
    """A problem with the user's input or environment, reported as one clear line."""


def located(path: object, line: int | None, message: str) -> AdaError:
    """Build an :class:`AdaError` that names the file and (when known) the line."""
    where = f"{path}:{line}" if line is not None else f"{path}"
    return AdaError(f"{where}: {message}")
