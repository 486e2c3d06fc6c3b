"""`dunning run`: the whole engine in the foreground."""

from __future__ import annotations

from typing import Annotated

import typer

verbs = typer.Typer()


@verbs.command()
def run(
    port: Annotated[int, typer.Option(help="Port of the Prefect server and UI.")] = 4200,
    smtp_port: Annotated[int, typer.Option(help="Port of the local mail sink.")] = 8025,
    demo: Annotated[bool, typer.Option(help="Load demo invoices into an empty database.")] = True,
    host: Annotated[str, typer.Option(
        help="Address the Prefect server and UI listen on. Other than loopback it needs "
             "PREFECT_SERVER_API_AUTH_STRING (or --behind-proxy).")] = "127.0.0.1",
    behind_proxy: Annotated[bool, typer.Option(
        "--behind-proxy", help="A reverse proxy in front asks for a password: --host may be any address.")] = False,
) -> None:
    """Start everything in the foreground: Prefect server, the served deployments and a local mail sink."""
    from dunning.cli.engine import run_engine

    run_engine(port=port, smtp_port=smtp_port, demo=demo, host=host, behind_proxy=behind_proxy)
