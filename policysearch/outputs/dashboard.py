"""Serve a study in optuna-dashboard, the web UI of Optuna: ``policysearch dashboard STUDY``.

The storage and the study are checked first, as ``front`` checks them, so a typo gives one line
and exit code 2 rather than an empty dashboard. Then optuna-dashboard's WSGI application
(``optuna_dashboard.wsgi``) is served by a threaded ``wsgiref`` server, as the
``optuna-dashboard`` command serves it, bound to 127.0.0.1 unless ``--host`` says otherwise.

We bind the socket ourselves rather than call ``optuna_dashboard.run_server``: that goes
through ``bottle.run``, which prints a banner before it binds (so a port in use could not be
reported in one line), logs every request the page's polling makes, and swallows Ctrl-C.

The objectives show under their metric names because the search stores them with
``Study.set_metric_names`` (see ``policysearch.run.study_meta.record``); the dashboard serves them
as ``objective_names`` in ``/api/studies/<id>``.
"""

from __future__ import annotations

import errno
import socket
import sys
from socketserver import ThreadingMixIn
from typing import Any, TextIO
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from policysearch.errors import BadInput
from policysearch.run.storage import load_study, open_storage

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def serve(
    study_name: str,
    storage_url: str,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    out: TextIO = sys.stdout,
) -> None:
    """Serve the dashboard of study ``study_name`` until Ctrl-C.

    Args:
        study_name: a study in the storage.
        storage_url: a journal file or an Optuna RDB URL (``policysearch.run.storage``).
        host: the address to listen on; 127.0.0.1 keeps the dashboard on this machine.
        port: the TCP port; 0 picks a free one (the printed address names it).
        out: where the address is printed.

    Raises:
        BadInput: the storage or study does not exist, the port is out of range or in use,
            or the host cannot be listened on.
    """
    if not 0 <= port <= 65535:
        raise BadInput("--port", "", f"found {port}, expected a TCP port from 0 to 65535")
    storage = open_storage(storage_url, must_exist=True)
    load_study(storage, study_name, storage_url)
    study_id = storage.get_study_id_from_name(study_name)

    import optuna_dashboard

    server = _bind(optuna_dashboard.wsgi(storage), host, port)
    try:
        bound = server.server_address[1]
        where = f"[{host}]" if ":" in host else host
        print(
            f"serving study {study_name!r} at http://{where}:{bound}/dashboard/studies/{study_id}"
            " (Ctrl-C to stop)",
            file=out,
            flush=True,
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            # Ctrl-C is how a dashboard is meant to stop, so it is a success, not exit 130.
            print("dashboard stopped", file=out, flush=True)
    finally:
        server.server_close()


class _Server(ThreadingMixIn, WSGIServer):
    # A browser keeps connections open; Ctrl-C must not wait for them.
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        # The page polls the API every few seconds; one log line per request would bury the
        # address line. Application errors still reach stderr through wsgiref's handler.
        pass


def _bind(app: Any, host: str, port: int) -> WSGIServer:
    server_class = _Server6 if ":" in host else _Server
    try:
        return make_server(host, port, app, server_class=server_class, handler_class=_QuietHandler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BadInput(
                "--port",
                "",
                f"port {port} on {host} is already in use; pass another --port "
                "(--port 0 picks a free one)",
            ) from None
        if exc.errno == errno.EACCES:
            raise BadInput(
                "--port", "", f"no permission to listen on port {port}; pass --port 1024 or above"
            ) from None
        raise BadInput(
            "--host", "", f"cannot listen on {host!r}: {exc.strerror or exc}; try 127.0.0.1"
        ) from None
