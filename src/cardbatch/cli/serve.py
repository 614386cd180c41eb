"""``cardbatch serve``: the API and web console under uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from cardbatch.cli.common import DbOpt, db_url, fail, state


def register(root: typer.Typer) -> None:
    root.command("serve")(serve_cmd)


def serve_cmd(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (each opens its own store).", min=1, max=64)
    ] = 1,
    db: DbOpt = None,
) -> None:
    """Serve the REST API (OpenAPI at /docs) and the web console."""
    import uvicorn

    from cardbatch.api.app import create_app
    from cardbatch.api.settings import ConsoleSettings
    from cardbatch.logs import configure_json_logging

    st = state(ctx, db)
    configure_json_logging()
    settings = ConsoleSettings.from_env(db_url=db_url(st))
    app = create_app(settings)  # opens the store: a bad URL or schema fails here, in one line
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)
        return
    app.state.store.dispose()
    from cardbatch.api.serving import Workers, WorkersKeepDying

    try:
        Workers(host, port, workers, settings.db_url).run()
    except OSError as exc:
        raise typer.BadParameter(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    except WorkersKeepDying as exc:
        fail(str(exc), code=1)
