"""The errors a command raises; the runner turns each into a message and its exit code."""

from __future__ import annotations

from platform_tools.run.exit_codes import ExitCode


class ToolError(Exception):
    """A failure the user can act on: `message` says what and where, `exit_code` how bad."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProblemFound(ToolError):
    """The command did its job and found a problem (exit 1)."""

    exit_code = ExitCode.PROBLEM


class UsageError(ToolError):
    """Unusable input: an option, a file, a refusal without --yes (exit 2).

    `option` names the option or variable at fault; it starts the message.
    """

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(f"{option}: {message}" if option else message)
        self.option = option


class EnvironmentFailure(ToolError):
    """A dependency failed: database, external program, disk, network (exit 3)."""

    exit_code = ExitCode.ENVIRONMENT
