"""`platform-tools`: the ops CLI. Each concern registers its own command group here."""

import typer

from platform_tools.backup.cli import app as backup_app
from platform_tools.drift.cli import drift
from platform_tools.exam_period.cli import app as exam_period_app
from platform_tools.exams.cli import app as exams_app
from platform_tools.kube_bench.cli import app as kube_bench_app
from platform_tools.outbox.cli import app as outbox_app
from platform_tools.requests.cli import app as requests_app
from platform_tools.rollover.cli import curriculum_app, year_app
from platform_tools.run.exit_codes import EXIT_CODES_HELP
from platform_tools.runbook.cli import app as runbook_app

app = typer.Typer(
    help="Campus Platform operations: backups, archives, rollovers, runbooks, gates, drift.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
)


@app.callback()
def main() -> None:
    """Campus Platform operations.

    Every run logs JSON lines on stderr; read commands take --json; destructive commands only
    show what they would do unless given --yes.
    """


app.add_typer(backup_app, name="backup")
app.add_typer(kube_bench_app, name="kube-bench")
app.add_typer(exams_app, name="exams")
app.add_typer(exam_period_app, name="exam-period")
app.add_typer(requests_app, name="requests")
app.add_typer(outbox_app, name="outbox")
app.add_typer(year_app, name="year")
app.add_typer(curriculum_app, name="curriculum")
app.add_typer(runbook_app, name="runbook")
app.command(epilog=EXIT_CODES_HELP)(drift)


if __name__ == "__main__":
    app()
