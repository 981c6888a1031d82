"""Connecting to a Ray cluster: which address, which token, and one-line errors.

Which cluster a run uses (first that applies):

1. ``--address`` on the command line, else the job's ``address``;
2. the ``RAY_ADDRESS`` environment variable (a submitted job's driver has it: Ray sets it);
3. none: a private Ray on this machine (``address="local"``).

Accepted forms: ``HOST:PORT`` (the head's GCS port, 6379 by default), ``auto`` (the cluster a
``ray start`` on this machine started; Ray finds it through its temp folder, so set
``RAY_TMPDIR`` if the head was started with ``--temp-dir``), ``ray://HOST:PORT`` (Ray Client,
port 10001 by default) and ``local`` (a private Ray). A dashboard URL (``http://HOST:8265``) is
refused with a pointer to ``policysearch submit``, which is where it belongs.

Ray 2.60 turns token authentication on for a cluster whose head found a token. A driver that
holds a token (``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``) but runs
with Ray's default ``RAY_AUTH_MODE`` (disabled) is refused by such a cluster after 20 s, so a
driver holding a token sets ``RAY_AUTH_MODE=token`` for itself unless the user chose a mode,
and makes Ray read it even if Ray was imported before (``use_token_if_held``). A
refused token, an unreachable head and a port where nothing listens are each one line that
says "cannot connect to the Ray cluster at ADDR:" and what to do. An address where nothing
answers within seconds is bad input (exit code 2, like a malformed one); a head that answers
but refuses the driver is a failure at run time (exit code 1).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from policysearch.errors import BadInput, RunFailure

CONNECT_TIMEOUT_S = 5.0
"""How long to wait for the head's port to answer (Ray itself retries for minutes)."""

AUTH_FIX = (
    "the cluster wants Ray's authentication token: copy the head's token to ~/.ray/auth_token "
    "(or set RAY_AUTH_TOKEN) and set RAY_AUTH_MODE=token"
)


def cluster_address(address: str | None) -> str | None:
    """The cluster a run connects to: ``address``, else ``RAY_ADDRESS``; ``None`` for a private Ray.

    Raises:
        BadInput: a malformed address, or a dashboard URL (which is for ``submit``).
    """
    chosen = (address or os.environ.get("RAY_ADDRESS") or "").strip()
    if not chosen or chosen == "local":
        return None
    check_address(chosen, "--address" if address else "RAY_ADDRESS")
    return chosen


def check_address(address: str, source: str = "--address") -> None:
    """Refuse an address ``ray.init`` cannot use, with the forms it can.

    Raises:
        BadInput: naming ``source`` (the argument or variable the address came from).
    """
    forms = (
        "expected HOST:PORT (the head's GCS port, e.g. 10.0.0.5:6379), auto, or ray://HOST:10001"
    )
    if address.startswith(("http://", "https://")):
        raise BadInput(
            source,
            "",
            f"found the dashboard URL {address!r}, which is for `policysearch submit`; {forms}",
        )
    if address == "auto":
        return
    rest = address.removeprefix("ray://")
    if "://" in rest or not _host_port(rest):
        raise BadInput(source, "", f"found {address!r}, {forms}")


def _host_port(text: str) -> tuple[str, int] | None:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


def use_token_if_held() -> None:
    """Set ``RAY_AUTH_MODE=token`` when a token is at hand and the user chose no mode.

    Ray reads the mode once, into its C++ ``RayConfig``, when ``ray._raylet`` is first imported
    (``import ray`` does it), and ``ray.init`` with an explicit address never turns the mode on
    by itself (Ray 2.60, ``ray/_private/worker.py``: only ``address`` None or "auto" does). So
    when Ray is already imported its config is read again, as Ray itself does after setting the
    variable (``_enable_token_auth`` in ``ray/_private/authentication/
    authentication_token_setup.py``: ``Config.initialize("")``).
    """
    if os.environ.get("RAY_AUTH_MODE"):
        return
    if token_path() is None and not os.environ.get("RAY_AUTH_TOKEN"):
        return
    os.environ["RAY_AUTH_MODE"] = "token"
    raylet = sys.modules.get("ray._raylet")
    if raylet is None or sys.modules["ray"].is_initialized():
        return
    # Ray read the mode (disabled) when it was imported; a Ray without this hook has no tokens.
    reread = getattr(getattr(raylet, "Config", None), "initialize", None)
    if reread is not None:
        reread("")


def token_path() -> Path | None:
    """The token file Ray would read (``RAY_AUTH_TOKEN_PATH`` or ``~/.ray/auth_token``), if any."""
    path = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token")
    return path if path.is_file() else None


def connect(
    ray: Any, address: str, runtime_env: dict[str, Any], *, source: str = "--address"
) -> None:
    """``ray.init`` on the cluster at ``address``; any failure is one line.

    Ray's C++ client prints its retries (one line a second) on the process's stderr while it
    tries; they are held back and read for the cause instead.

    Raises:
        BadInput: nothing answers at ``address`` within ``CONNECT_TIMEOUT_S`` (Ray itself would
            retry for minutes): "SOURCE: cannot connect to the Ray cluster at ADDR: why; what
            to do", exit code 2, like a malformed address.
        RunFailure: "cannot connect to the Ray cluster at ADDR: why; what to do" (a port that
            answers but refuses the driver, such as a refused token).
    """
    use_token_if_held()
    hostport = None if address == "auto" else _host_port(address.removeprefix("ray://"))
    if hostport is not None:
        _check_reachable(address, *hostport, source=source)
    with _stderr_held() as held:
        try:
            ray.init(
                address=address,
                runtime_env=runtime_env,
                log_to_driver=False,
                logging_level=logging.ERROR,
                configure_logging=True,
            )
        except Exception as exc:
            error = exc
            said = held.read_text(errors="replace")
        else:
            return
    if "InvalidAuthToken" in said or "uthenticat" in str(error):
        why = AUTH_FIX
    else:
        why = _first_line(error)
        if address == "auto":
            why += (
                " (auto finds a cluster started on this machine; if its head was started with "
                "--temp-dir=DIR, set RAY_TMPDIR=DIR)"
            )
    raise RunFailure(f"cannot connect to the Ray cluster at {address}: {why}") from None


def _check_reachable(address: str, host: str, port: int, *, source: str) -> None:
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            return
    except TimeoutError:
        reason = f"no answer within {CONNECT_TIMEOUT_S:g} s"
    except OSError as exc:  # refused, no route, unknown host
        reason = exc.strerror or type(exc).__name__
    raise BadInput(
        source,
        "",
        f"cannot connect to the Ray cluster at {address}: {host}:{port}: {reason}; "
        "is `ray start --head` running there, and is that its port?",
    )


@contextlib.contextmanager
def _stderr_held() -> Iterator[Path]:
    """Send file descriptor 2 (where Ray's C++ code logs) to a temporary file meanwhile."""
    with tempfile.TemporaryDirectory(prefix="policysearch-ray-") as folder:
        path = Path(folder) / "stderr"
        saved = os.dup(2)
        try:
            with path.open("wb") as sink:
                os.dup2(sink.fileno(), 2)
                try:
                    yield path
                finally:
                    os.dup2(saved, 2)
        finally:
            os.close(saved)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def free_cpus(ray: Any) -> int:
    """CPUs of the connected cluster no task or actor holds now."""
    return int(ray.available_resources().get("CPU", 0))
