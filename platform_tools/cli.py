"""`platform-tools`: the ops CLI. Each concern registers its own command group here."""

import typer

app = typer.Typer(help="Campus Platform operations: backups, archives, rollovers, runbooks, gates.")


@app.callback()
def main() -> None:
    """Campus Platform operations."""


if __name__ == "__main__":
    app()
