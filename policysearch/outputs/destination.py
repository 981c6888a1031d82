"""Where an output file goes (``--out``, ``--plot``), and how it is written there safely.

Rules, the same for every command that writes a file:

* The file is written whole or not at all: the bytes go to a temporary file beside the
  target, which is then renamed over it. A reader never sees half a file, and a failure (a
  full disk) leaves the old file as it was.
* A symbolic link is written through: the file it points to gets the new content, the link
  stays a link.
* An existing regular file is replaced, and the command says so (``replaced the previous
  FILE``): scripts that rewrite the same report every night keep working, and a person sees
  that a file was there.
* Refused with one line (``BadInput``, exit code 2) before any work: a folder, a device, a
  pipe or anything else that is not a regular file (``--out /dev/full`` must never replace
  the device), a missing folder, a name longer than the file system allows, a file or folder
  this user cannot write.
* A failure while writing (a full disk, a read-only file system) is one ``RunFailure`` line
  (exit code 1) naming the file and the cause.
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from policysearch.errors import BadInput, RunFailure, os_cause


@dataclass(frozen=True)
class Destination:
    """A checked output path.

    Attributes:
        given: the path as the user gave it (what messages show).
        target: the file the bytes go to (a symbolic link resolved).
        existed: a regular file was there and is replaced.
    """

    given: Path
    target: Path
    existed: bool

    @property
    def note(self) -> str:
        """What to tell the user beyond ``wrote FILE``: empty, or that a file was replaced."""
        return f" (replaced the previous {self.given})" if self.existed else ""


def check(path: Path | str, flag: str = "--out") -> Destination:
    """The destination ``path`` names, or one line saying why nothing can be written there.

    Args:
        path: the output path as given.
        flag: the option that named it (for the message).

    Raises:
        BadInput: the module doc's refusals.
    """
    given = Path(path)
    shown = str(given)
    for name in (given.name, *given.parent.parts):
        limit = _name_max(given.parent)
        if len(os.fsencode(name)) > limit:
            raise BadInput(
                flag,
                "",
                f"the name {_short(name)} in {_short(shown)} is {len(os.fsencode(name))} bytes, "
                f"longer than this file system allows ({limit})",
            )
    try:
        target = Path(os.path.realpath(given)) if given.is_symlink() else given
    except OSError as exc:
        raise BadInput(flag, "", f"cannot write {_short(shown)}: {os_cause(exc)}") from None
    folder = target.parent if str(target.parent) else Path(".")
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise BadInput(flag, "", f"cannot write {_short(shown)}: {os_cause(exc)}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise BadInput(flag, "", f"{_short(shown)} is a folder, expected a file name")
    if mode is not None and not stat.S_ISREG(mode):
        raise BadInput(
            flag,
            "",
            f"{_short(shown)} is {_kind(mode)}, not a regular file; expected a file name "
            "(nothing was written)",
        )
    if not folder.is_dir():
        raise BadInput(flag, "", f"the folder of {_short(shown)} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise BadInput(
            flag, "", f"cannot write {_short(shown)}: its folder {str(folder)!r} is not writable"
        )
    if mode is not None and not os.access(target, os.W_OK):
        raise BadInput(flag, "", f"cannot write {_short(shown)}: the file is read-only")
    return Destination(given, target, mode is not None)


def write(path: Path | str, data: bytes | str, flag: str = "--out") -> Destination:
    """Write ``data`` to ``path`` by the module's rules; the destination (for its ``note``).

    Raises:
        BadInput: ``path`` cannot take a file (``check``).
        RunFailure: the machine refused the write (a full disk, a read-only file system).
    """
    where = check(path, flag)
    if isinstance(data, str):
        data = data.encode("utf-8")
    target = where.target
    tmp = target.with_name(f".{target.name[:200]}.{os.getpid()}.tmp")
    try:
        # O_EXCL rather than mkstemp: the file gets the usual umask permissions, not 0600
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if where.existed:
            with contextlib.suppress(OSError):
                os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise RunFailure(f"cannot write {where.given}: {os_cause(exc)}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return where


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder if str(folder) and folder.is_dir() else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _short(text: str) -> str:
    """A path for a message: a very long one is cut in the middle."""
    return repr(text if len(text) <= 120 else f"{text[:60]}...{text[-40:]}")
