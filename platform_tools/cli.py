"""`platform-tools`: the ops CLI. Each concern registers its own command group here."""

import typer

from platform_tools.kube_bench.cli import app as kube_bench_app
from platform_tools.rollover.cli import curriculum_app, year_app

app = typer.Typer(help="Campus Platform operations: backups, archives, rollovers, runbooks, gates.")


@app.callback()
def main() -> None:
    """Campus Platform operations."""


app.add_typer(kube_bench_app, name="kube-bench")
app.add_typer(year_app, name="year")
app.add_typer(curriculum_app, name="curriculum")


if __name__ == "__main__":
    app()
