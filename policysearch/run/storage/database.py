"""A database URL: Optuna's RDB storage (PostgreSQL for teams, SQLite, MySQL).

* ``postgresql://user:pass@host:port/db``: the storage for team use. Several drivers may run
  the same job against one study at once (``run.driver``), and ``front``, ``report``,
  ``export`` and ``dashboard`` work from any machine that reaches the server. Its driver is
  the optional extra ``pip install 'policysearch[postgres]'`` (psycopg2); a bare
  ``postgresql://`` (or ``postgres://``) URL uses psycopg2 when it is installed, else psycopg 3.
* ``sqlite:///studies.db``, ``mysql://...``: Optuna's RDB storage too.

Rules for URLs with a password: the password is never printed, stored or written to a file.
Everything shown to a user goes through ``redact`` (``postgresql://user:***@host/db``), and
every error raised here is one line (``BadInput``, exit code 2) naming the redacted URL, with
the password scrubbed from the database's own message too.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from urllib.parse import unquote

import optuna
from optuna.storages import BaseStorage

from policysearch.errors import BadInput
from policysearch.run.storage.base import RunStorage, Storage

CONNECT_TIMEOUT_S = 10
"""A PostgreSQL server that does not answer within this many seconds is an error, not a hang."""

_PASSWORD_PARAM = re.compile(r"(?i)([?&]password=)[^&]*")


def redact(url: str) -> str:
    """``url`` with its password (in the user part or a ``password=`` parameter) as ``***``.

    ``postgresql://user:pass@host:5432/db`` -> ``postgresql://user:***@host:5432/db``. A URL
    without a password comes back unchanged.
    """
    scheme, rest = url.split("://", 1)
    at = rest.rfind("@")  # the last one: an unencoded '@' in a password stays hidden too
    if at >= 0 and ":" in rest[:at]:
        user = rest[:at].split(":", 1)[0]
        rest = f"{user}:***{rest[at:]}"
    return f"{scheme}://" + _PASSWORD_PARAM.sub(r"\1***", rest)


def without_password(url: str) -> str:
    """``url`` with its password (user part and ``password=`` parameter) left out.

    ``postgresql://user:pass@host/db`` -> ``postgresql://user@host/db``: libpq then takes the
    password from ``PGPASSWORD`` or ``~/.pgpass`` of the machine that connects. Anything
    that is not a URL (a journal path) comes back unchanged.
    """
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    rest, _, query = rest.partition("?")
    at = rest.rfind("@")
    if at >= 0 and ":" in rest[:at]:
        rest = rest[:at].split(":", 1)[0] + rest[at:]
    kept = [p for p in query.split("&") if p and not p.lower().startswith("password=")]
    return f"{scheme}://{rest}" + ("?" + "&".join(kept) if kept else "")


def has_password(url: str) -> bool:
    """``url`` is a database URL that holds a password."""
    return "://" in url and redact(url) != url


def _passwords(url: str) -> list[str]:
    """The password of ``url`` as written and decoded (to scrub from a server's messages)."""
    rest = url.split("://", 1)[1]
    found = [m.group(0).split("=", 1)[1] for m in _PASSWORD_PARAM.finditer(rest)]
    at = rest.rfind("@")
    if at >= 0 and ":" in rest[:at]:
        found.append(rest[:at].split(":", 1)[1])
    return [p for raw in found if raw for p in {raw, unquote(raw)}]


def _one_line(text: str, url: str) -> str:
    """A database error as one line, without the password of ``url``."""
    line = "; ".join(part.strip() for part in str(text).splitlines() if part.strip())
    for password in sorted(_passwords(url), key=len, reverse=True):
        line = line.replace(password, "***")
    return line


def _dialect(url: str) -> str:
    return url.split("://", 1)[0].split("+", 1)[0].lower()


def _with_driver(url: str) -> str:
    """A bare ``postgresql://``/``postgres://`` URL with the PostgreSQL driver that is installed.

    SQLAlchemy 2.1 takes psycopg 3 for a bare ``postgresql://``; our extra installs psycopg2.
    """
    scheme, rest = url.split("://", 1)
    if scheme.lower() not in ("postgresql", "postgres"):
        return url
    for module in ("psycopg2", "psycopg"):
        with contextlib.suppress(ImportError, ValueError):
            if importlib.util.find_spec(module) is not None:
                return f"postgresql+{module}://{rest}"
    return f"postgresql+psycopg2://{rest}"  # the missing-driver error then names psycopg2


_RACES = ("already exists", "database is locked", "duplicate key value")


def _transient(reason: str) -> bool:
    """A failure of two drivers creating Optuna's tables at once, not of the database:
    SQLite says "table studies already exists" or "database is locked" to the loser."""
    return any(race in reason for race in _RACES)


def _open_rdb(url: str, *, attempts: int = 6) -> BaseStorage:
    """Optuna's RDB storage for ``url``; every failure becomes one ``BadInput`` line.

    Two drivers opening a fresh database at the same moment both create Optuna's tables; the
    loser of that race gets an integrity error and simply tries again (the tables now exist).
    """
    # imported on use: SQLAlchemy takes a while to import and a journal file needs none of it
    import sqlalchemy.exc

    shown = redact(url)
    engine_kwargs: dict = {}
    if _dialect(url) in ("postgresql", "postgres"):
        engine_kwargs["pool_pre_ping"] = True  # a long run outlives idle connections
        if "connect_timeout" not in url:
            engine_kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S}
    for attempt in range(attempts):
        try:
            return optuna.storages.RDBStorage(_with_driver(url), engine_kwargs=engine_kwargs)
        except ImportError as exc:
            module = getattr(exc.__cause__, "name", None) or "its database driver"
            if module == "psycopg2":
                fix = "pip install 'policysearch[postgres]'"
            elif _dialect(url) in ("postgresql", "postgres"):
                fix = (
                    f"pip install {module}, or drop '+{module}' from the URL "
                    "and pip install 'policysearch[postgres]'"
                )
            else:
                fix = f"pip install the package that provides {module!r}"
            raise BadInput(
                "--storage",
                "",
                f"{shown} needs the Python module {module!r}, which is not installed; "
                f"install it with {fix}",
            ) from None
        except sqlalchemy.exc.ArgumentError as exc:
            raise BadInput(
                "--storage",
                "",
                f"cannot use {shown}: {_one_line(exc, url)}; expected a journal file path or "
                "an Optuna database URL such as postgresql://user:password@host:5432/db",
            ) from None
        except sqlalchemy.exc.OperationalError as exc:  # cannot connect, bad login, no such db
            reason = _one_line(getattr(exc, "orig", None) or exc, url)
            if _transient(reason) and attempt + 1 < attempts:
                time.sleep(0.2 * (attempt + 1))
                continue
            raise BadInput("--storage", "", f"cannot reach {shown}: {reason}") from None
        except (sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError) as exc:
            if attempt + 1 < attempts:
                time.sleep(0.2 * (attempt + 1))
                continue
            reason = _one_line(getattr(exc, "orig", None) or exc, url)
            raise BadInput("--storage", "", f"cannot open {shown}: {reason}") from None
        except Exception as exc:
            raise BadInput("--storage", "", f"cannot open {shown}: {_one_line(exc, url)}") from None
    raise AssertionError("unreachable")


def _check_holds_studies(url: str) -> None:
    """For reading commands: the database exists and holds Optuna's tables; create nothing.

    Optuna's RDB storage creates its tables (and SQLite its file) on first use; a reading
    command pointed at the wrong place must not leave them behind.
    """
    import sqlalchemy  # imported on use, as in _open_rdb

    shown = redact(url)
    if _dialect(url) == "sqlite":
        database = sqlalchemy.engine.make_url(url).database
        if database and database != ":memory:" and not Path(database).is_file():
            raise BadInput("--storage", "", f"no database file {database!r} ({shown})")
    try:
        engine = sqlalchemy.create_engine(_with_driver(url))
        try:
            has_studies = sqlalchemy.inspect(engine).has_table("studies")
        finally:
            engine.dispose()
    except ImportError:
        return  # the opening below reports the missing driver with its fix
    except Exception as exc:
        raise BadInput("--storage", "", f"cannot open {shown}: {_one_line(exc, url)}") from None
    if not has_studies:
        raise BadInput(
            "--storage",
            "",
            f"{shown} holds no Optuna studies (no 'studies' table); pass the storage the "
            "study was run with",
        )


class Database(Storage):
    """An Optuna RDB URL (the module doc)."""

    kind = "database"

    @property
    def shown(self) -> str:
        return redact(self.url)

    @property
    def description(self) -> str:
        return redact(self.url)

    @property
    def pasteable(self) -> tuple[str, str | None]:
        shown = without_password(self.url)
        if shown == self.url:
            return shown, None
        return shown, (
            "the password is left out: the database client reads it from PGPASSWORD or "
            "~/.pgpass, or put the whole URL in POLICYSEARCH_STORAGE and drop --storage"
        )

    @property
    def key(self) -> str:
        return self.url

    def open(self, *, must_exist: bool = False) -> BaseStorage:
        if must_exist:
            _check_holds_studies(self.url)
        return _open_rdb(self.url)

    def open_for_run(self) -> RunStorage:
        """The database commits every write itself."""
        return RunStorage(self.open(), lambda: None, None)

    def run_lock(self) -> AbstractContextManager[None]:
        return nullcontext()  # several drivers may share a study in a database


_DRIVERS = ("sqlalchemy", "psycopg2", "psycopg", "sqlite3", "pymysql", "MySQLdb")


def database_failure(exc: BaseException) -> str | None:
    """One line for a database that failed during a command (a lost or restarted server,
    a full disk on its side), or ``None`` when ``exc`` is not a database's error.

    The line names the database's own reason (its first line); Optuna's wrapper
    (``StorageInternalError``: "invalid data in the commit...") is seen through.
    """
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    found = [e for e in chain if type(e).__module__.split(".")[0] in _DRIVERS]
    if not found:
        return None
    root = getattr(found[-1], "orig", None) or found[-1]
    lines = [line.strip() for line in str(root).splitlines() if line.strip()]
    reason = lines[0][:300] if lines else type(root).__name__
    if any(type(e).__name__ in ("OperationalError", "InterfaceError") for e in found):
        return (
            f"lost the database server: {reason}; finished trials are stored, run the same "
            "command to continue once it answers again"
        )
    return f"the database refused a write: {reason}"
