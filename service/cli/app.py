"""The ``passerelle`` application: every command group assembled under one typer app.

This is the only module that imports the command modules (:mod:`~service.cli.engine`,
:mod:`~service.cli.admin`, :mod:`~service.cli.db`, :mod:`~service.cli.batch`,
:mod:`~service.cli.event`, :mod:`~service.cli.trades`, :mod:`~service.cli.outcomes`, :mod:`~service.cli.learn`); they share :mod:`~service.cli.common` and never import one another.
"""

from __future__ import annotations

import typer

from service.cli import admin, batch, db, engine, event, learn, outcomes, trades
from service.logs import install_log_filter

install_log_filter()  # no SQL parameters nor exception messages in any log line of a command

app = typer.Typer(
    name="passerelle",
    help="Passerelle : métiers et offres pour les jeunes des Missions Locales, avec mixité.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("demo")(engine.demo)
engine.trades_app.command("infer")(trades.trades_infer)
app.add_typer(engine.trades_app, name="trades")
app.command("suggest")(engine.suggest)
app.command("candidates")(engine.candidates)
app.add_typer(engine.index_app, name="index")
app.add_typer(engine.data_app, name="data")
app.add_typer(db.db_app, name="db")
app.add_typer(admin.ml_app, name="ml")
app.add_typer(admin.users_app, name="users")
app.command("purge")(admin.purge)
app.command("serve")(admin.serve)
app.add_typer(batch.batch_app, name="batch")
batch.batch_app.command("plan-event")(event.plan_event)
outcomes.outcomes_app.command("simulate")(outcomes.simulate)
app.add_typer(outcomes.outcomes_app, name="outcomes")
app.add_typer(learn.ranker_app, name="ranker")


def main() -> None:  # pragma: no cover
    app(prog_name="passerelle")
