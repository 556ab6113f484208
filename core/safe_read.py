"""Reading untrusted files: regular files only, sizes checked first, zips by strict rules.

- `read_regular_file`: refuses FIFOs, devices, sockets and directories (from
  `stat`, before opening, so a FIFO cannot block), refuses a file larger than
  the cap before reading it, and reads at most cap + 1 bytes in case it grows.
- `read_zip_members`: the archive's members must be exactly the expected
  names (each once), plain relative names (no absolute path, no `..`, no
  backslash, no symlink), stored or deflated, not encrypted, each within a
  size cap, all together within a total cap, and no deflated member may
  expand more than MAX_RATIO times. Everything is checked from the central
  directory before any member is decompressed, and zipfile stops reading a
  member at its declared size.

Errors are raised as the caller's PatchwiseError subclass (one line, naming
the file and the rule).
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from core.errors import PatchwiseError

MAX_RATIO = 200  # a deflated JSON manifest compresses ~5-10x; a zip bomb ~1000x


def read_regular_file(
    path: str | os.PathLike, max_bytes: int, error: type[PatchwiseError], what: str
) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `max_bytes`."""
    source = Path(path)
    try:
        info = source.stat()
    except FileNotFoundError:
        raise error(f"{source}: no such file (cannot read the {what})") from None
    except OSError as exc:
        raise error(f"{source}: cannot read the {what} ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise error(f"{source}: the {what} is {kind} (FIFOs, devices and folders are refused)")
    if info.st_size > max_bytes:
        raise error(f"{source}: the {what} is {info.st_size} bytes, over the {max_bytes} limit")
    try:
        with open(source, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{source}: cannot read the {what} ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise error(f"{source}: the {what} grew over the {max_bytes}-byte limit while read")
    return data


def _name_problem(name: str) -> str | None:
    if not name or "\\" in name or "\x00" in name:
        return "an empty name, a backslash or a NUL"
    pure = PurePosixPath(name)
    if pure.is_absolute() or name.startswith("/"):
        return "an absolute path"
    if any(part in ("..", ".", "") for part in name.split("/")):
        return "'..', '.' or an empty path part"
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def check_zip_directory(
    archive: zipfile.ZipFile,
    is_expected: Callable[[str], bool],
    *,
    max_member: int,
    max_total: int,
    where: str,
    error: type[PatchwiseError],
) -> list[zipfile.ZipInfo]:
    """The archive's members after checking every rule in the module docstring."""
    infos = archive.infolist()
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        shown = repr(name[:80])
        problem = _name_problem(name)
        if problem:
            raise error(f"{where}: member {shown} has {problem}")
        if name in seen:
            raise error(f"{where}: member {shown} appears twice")
        seen.add(name)
        if not is_expected(name):
            raise error(f"{where}: unexpected member {shown}")
        if _is_symlink(info) or info.is_dir():
            raise error(f"{where}: member {shown} is a symlink or a folder")
        if info.flag_bits & 0x1:
            raise error(f"{where}: member {shown} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise error(
                f"{where}: member {shown} uses compression method {info.compress_type} "
                "(only stored or deflate are accepted)"
            )
        if info.file_size > max_member:
            raise error(f"{where}: member {shown} is {info.file_size} bytes (limit {max_member})")
        if info.compress_type == zipfile.ZIP_DEFLATED and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise error(f"{where}: member {shown} expands more than {MAX_RATIO} times (zip bomb?)")
        total += info.file_size
        if total > max_total:
            raise error(f"{where}: the members total more than {max_total} bytes")
    return infos


def read_zip_members(
    data: bytes,
    is_expected: Callable[[str], bool],
    *,
    max_member: int,
    max_total: int,
    where: str,
    error: type[PatchwiseError],
    what: str = "zip archive",
) -> dict[str, bytes]:
    """{name: bytes} of a zip held in memory, checked by `check_zip_directory`."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise error(f"{where}: not a {what} (not a zip: {exc})") from None
    with archive:
        infos = check_zip_directory(
            archive,
            is_expected,
            max_member=max_member,
            max_total=max_total,
            where=where,
            error=error,
        )
        members = {}
        for info in infos:
            try:
                members[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
                raise error(f"{where}: member {info.filename!r} is damaged ({exc})") from None
            except (RuntimeError, NotImplementedError) as exc:  # encrypted, unknown method
                raise error(f"{where}: member {info.filename!r} cannot be read ({exc})") from None
    return members


def names_in(allowed: Iterable[str]) -> Callable[[str], bool]:
    """An `is_expected` predicate for a fixed set of names."""
    names = frozenset(allowed)
    return names.__contains__
