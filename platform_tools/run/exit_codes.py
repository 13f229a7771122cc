"""The exit codes every `platform-tools` command uses, documented once for the CLI help."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes shared by every command (see platform_tools/README.md)."""

    OK = 0
    # The command ran and found a problem: a gate blocked, a checksum did not match, a drill
    # restored something different. Scripts and schedulers alert on this.
    PROBLEM = 1
    # The input cannot be used: bad option, malformed file, refused without --yes. Fix the call.
    USAGE = 2
    # Something the command depends on failed: database unreachable, pg_dump missing, disk full,
    # object storage refused. Fix the environment, then rerun the same command.
    ENVIRONMENT = 3
    # A bug in the tool: the JSON log of the run carries the traceback.
    INTERNAL = 4


EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 the command found a problem (gate blocked, backup failed "
    "verification); 2 unusable input or usage (the message names the option); 3 environment "
    "or dependency failure (database, pg_dump, disk, object storage); 4 internal error (see "
    "the JSON log on stderr)."
)
