"""A Codex home on disk: layout, rollout file names, discovery and file moves (spec §2, §6.5).

::

    $CODEX_HOME/sessions/YYYY/MM/DD/rollout-YYYY-MM-DDThh-mm-ss-<uuid>.jsonl   active threads
    $CODEX_HOME/archived_sessions/rollout-...-<uuid>.jsonl[.zst]               archived (flat)
    $CODEX_HOME/session_index.jsonl                                           names (see session_index.py)

Directory names and the stamp in a file name are the machine's **local** time; every
timestamp inside a file is UTC. A ``.zst`` sibling of a plain ``.jsonl`` is ignored, as
Codex does, and a compressed file is decompressed back to plain JSONL before any append.
New files appear atomically: they are written under a temporary name that no reader
lists, then hard-linked into place without clobbering anything.

Everything here is synchronous and does plain file I/O; ``store.files`` calls it from its
worker thread and the ``rollout`` command uses it to find files. Must not import: replay,
store, rollout.cli, rich, asyncio.
"""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, NamedTuple

from .compression import open_decompressed
from .errors import RolloutError, StoreError, UnreadableRollout, WriterError
from .writer import RolloutWriter

__all__ = [
    "ARCHIVED",
    "SESSIONS",
    "SESSION_INDEX",
    "CodexHome",
    "RolloutFile",
    "RolloutName",
    "fsync_dir",
    "is_codex_home",
    "parse_rollout_name",
    "rollout_name",
    "touch",
    "utc_stamp",
    "write_new_file",
]

SESSIONS = "sessions"
ARCHIVED = "archived_sessions"
SESSION_INDEX = "session_index.jsonl"
_PREFIX = "rollout-"
_STAMP = "%Y-%m-%dT%H-%M-%S"
_STAMP_LEN = 19  # YYYY-MM-DDThh-mm-ss
_CHUNK = 1 << 20


class RolloutName(NamedTuple):
    """The parts of ``rollout-<stamp>-<uuid>[_<segment uuid>].jsonl[.zst]``."""

    stamp: str
    thread_id: str
    compressed: bool
    segment_id: str | None = None  # a paginated thread's later segment (Codex 0.152+)


@dataclass(frozen=True, slots=True)
class RolloutFile:
    """A rollout file found on disk."""

    path: Path
    thread_id: str
    stamp: str
    archived: bool


def parse_rollout_name(name: str) -> RolloutName | None:
    """Split a rollout file name, or return None when it is not one (spec §2.1).

    The part after ``rollout-`` is scanned from the right for a ``-`` whose suffix is a
    UUID; what precedes it must be a ``YYYY-MM-DDThh-mm-ss`` stamp. A second id after an
    underscore (``<uuid>_<uuid>``) names a later segment of a paginated thread
    (:attr:`RolloutName.segment_id`); the thread is the first id.
    """
    if not name.startswith(_PREFIX):
        return None
    compressed = name.endswith(".jsonl.zst")
    if compressed:
        core = name[len(_PREFIX) : -len(".jsonl.zst")]
    elif name.endswith(".jsonl"):
        core = name[len(_PREFIX) : -len(".jsonl")]
    else:
        return None
    core, segment = _second_id(core)
    pos = len(core)
    while (pos := core.rfind("-", 0, pos)) > 0:
        if _is_uuid(core[pos + 1 :]):
            stamp = core[:pos]
            if _is_stamp(stamp):
                return RolloutName(stamp, core[pos + 1 :], compressed, segment)
            return None
    return None


def _second_id(core: str) -> tuple[str, str | None]:
    """``<stamp>-<uuid>`` and the segment id of a name that ends in ``<uuid>_<uuid>``."""
    head, sep, tail = core.rpartition("_")
    return (head, tail.lower()) if sep and _is_uuid(tail) else (core, None)


def _is_uuid(text: str) -> bool:
    if len(text) not in (32, 36):
        return False
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _is_stamp(text: str) -> bool:
    if len(text) != _STAMP_LEN:
        return False
    try:
        datetime.strptime(text, _STAMP)
    except ValueError:
        return False
    return True


def is_codex_home(path: str | os.PathLike[str]) -> bool:
    """True for a folder laid out like ``~/.codex`` (it has ``sessions/`` or ``archived_sessions/``)."""
    root = Path(path)
    return (root / SESSIONS).is_dir() or (root / ARCHIVED).is_dir()


def rollout_name(thread_id: str, created: datetime, segment_id: str | None = None) -> str:
    """The file name Codex gives a thread created at ``created`` (rendered in local time), or
    one of its later segments, created then."""
    tail = f"_{segment_id}" if segment_id else ""
    return f"{_PREFIX}{created.astimezone().strftime(_STAMP)}-{thread_id}{tail}.jsonl"


def utc_stamp(when: datetime | int | None = None) -> str:
    """A rollout timestamp as Codex writes it inside files: ``YYYY-MM-DDThh:mm:ss.mmmZ`` (UTC).

    Args:
        when: a datetime, unix milliseconds, or None for now.
    """
    if isinstance(when, int):
        moment = datetime.fromtimestamp(when // 1000, tz=UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when % 1000:03d}Z"
    when = (when or datetime.now(UTC)).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class CodexHome:
    """Paths and file operations of one Codex home.

    Args:
        root: the ``$CODEX_HOME`` directory (created with ``sessions/`` if missing).
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.sessions = self.root / SESSIONS
        self.archived = self.root / ARCHIVED
        self.session_index = self.root / SESSION_INDEX
        self.sidecar = self.root / ".rollout-engine"
        self._prefix = os.fspath(self.root) + os.sep

    # ------------------------------------------------------------------ naming

    def active_path(self, thread_id: str, created: datetime | int, segment_id: str | None = None) -> Path:
        """``sessions/YYYY/MM/DD/<name>`` for a thread (or its later segment ``segment_id``)
        created at ``created`` (a datetime or unix ms), dated in local time."""
        if isinstance(created, int):
            created = datetime.fromtimestamp(created / 1000, tz=UTC)
        local = created.astimezone()
        day = self.sessions / f"{local.year:04d}" / f"{local.month:02d}" / f"{local.day:02d}"
        return day / rollout_name(thread_id, created, segment_id)

    def archived_path(self, path: Path) -> Path:
        """Where archiving moves ``path``: flat in ``archived_sessions/``."""
        return self.archived / path.name

    def unarchived_path(self, path: Path) -> Path:
        """Where unarchiving moves ``path``: the date directory named by the file name."""
        stamp = path.name[len(_PREFIX) : len(_PREFIX) + 10]  # YYYY-MM-DD
        year, month, day = stamp.split("-")
        return self.sessions / year / month / day / path.name

    def is_archived(self, path: Path) -> bool:
        return path.parent == self.archived

    def relative(self, path: Path | str) -> str:
        """``path`` relative to the home, with ``/`` separators (the index's key)."""
        text = os.fspath(path)
        if text.startswith(self._prefix):
            return text[len(self._prefix) :].replace(os.sep, "/")
        return Path(text).relative_to(self.root).as_posix()

    def absolute(self, rel: str) -> str:
        """The file-system path of an index key."""
        return self._prefix + rel

    # ------------------------------------------------------------------ discovery

    def rollout_dirs(self) -> Iterator[str]:
        """Every directory that may hold rollouts, relative: day directories, then the archive."""
        for year in _digit_dirs(self._prefix, SESSIONS, 4):
            for month in _digit_dirs(self._prefix, year, 2):
                yield from _digit_dirs(self._prefix, month, 2)
        if self.archived.is_dir():
            yield ARCHIVED

    def files_in(self, rel: str) -> list[RolloutFile]:
        """Rollout files of one directory; a ``.zst`` beside its ``.jsonl`` is skipped."""
        archived = rel == ARCHIVED
        found: dict[str, RolloutFile] = {}
        try:
            entries = list(os.scandir(self.absolute(rel)))
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(f"{self.absolute(rel)}: cannot list: {exc}") from exc
        for entry in entries:
            parsed = parse_rollout_name(entry.name)
            if parsed is None or not entry.is_file():
                continue
            plain = entry.name[:-4] if parsed.compressed else entry.name
            if parsed.compressed and plain in found:
                continue
            found[plain] = RolloutFile(Path(entry.path), parsed.thread_id, parsed.stamp, archived)
        return list(found.values())

    def scan(self) -> Iterator[RolloutFile]:
        """Every rollout file of the home (the slow path: walks every directory)."""
        for rel in self.rollout_dirs():
            yield from self.files_in(rel)

    def find(self, thread_id: str) -> list[RolloutFile]:
        """Files whose name carries ``thread_id``, active ones first (fallback of §6.5)."""
        wanted = thread_id.lower()
        hits = [f for f in self.scan() if f.thread_id.lower() == wanted]
        return sorted(hits, key=lambda f: (f.archived, str(f.path)))

    # ------------------------------------------------------------------ moves

    def place(self, temp: Path, final: Path) -> None:
        """Publish a finished temporary file at ``final`` without clobbering.

        Raises:
            StoreError: ``final`` exists or the file system refused.
        """
        try:
            make_dirs(final.parent)
            _link_or_rename(temp, final)
            fsync_dir(final.parent)
        except FileExistsError as exc:
            raise StoreError(f"{final}: already exists") from exc
        except OSError as exc:
            raise StoreError(f"{final}: cannot create: {exc}") from exc

    def move(self, src: Path, dst: Path) -> None:
        """Move a rollout file, never over an existing one.

        Raises:
            StoreError: ``dst`` exists or the move failed.
        """
        try:
            if dst.exists() and os.path.samefile(src, dst):
                src.unlink()  # finish a move a crash interrupted between link and unlink
                fsync_dir(src.parent)
                return
        except OSError as exc:
            raise StoreError(f"{src}: cannot move: {exc}") from exc
        self.place(src, dst)
        fsync_dir(src.parent)

    def remove(self, path: Path) -> None:
        """Delete a file (gone already is fine), its directory fsynced so the deletion lasts.

        Raises:
            StoreError: the file system refused.
        """
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(f"{path}: cannot delete: {exc}") from exc
        fsync_dir(path.parent)

    def create(self, path: Path, records: list[bytes]) -> None:
        """Write a whole new rollout file atomically: a temporary name, fsync, linked into place.

        Raises:
            StoreError: ``path`` exists or cannot be written.
        """
        temp = self.temp_path(path)
        try:
            make_dirs(path.parent)  # new date folders made durable before the file lands in them
            with RolloutWriter(temp, durability="batch") as writer:
                writer.write_raw(records)
            self.place(temp, path)
        except (WriterError, OSError) as exc:
            raise StoreError(f"{path}: cannot write: {exc}") from exc
        finally:
            temp.unlink(missing_ok=True)

    def temp_path(self, final: Path) -> Path:
        """A temporary name beside ``final`` that discovery never lists."""
        return final.parent / f".tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}-{final.name}"

    def materialize(self, path: Path) -> Path:
        """Turn a ``.jsonl.zst`` file into plain ``.jsonl`` (before an append); returns the plain path.

        Raises:
            UnreadableRollout: the compressed file cannot be read.
            StoreError: the plain file cannot be written.
        """
        if not path.name.endswith(".zst"):
            return path
        plain = path.with_name(path.name[:-4])
        if plain.exists():  # the plain representation wins (spec §2.3)
            return plain
        temp = self.temp_path(plain)
        try:
            with open(path, "rb") as source:
                stat = os.fstat(source.fileno())
                write_new_file(temp, _chunks(open_decompressed(source, str(path))))
            os.utime(temp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            self.place(temp, plain)
        except RolloutError:
            raise
        except OSError as exc:
            raise UnreadableRollout(f"cannot read: {exc}", path=str(path)) from exc
        finally:
            temp.unlink(missing_ok=True)
        try:
            path.unlink()
        except OSError as exc:
            raise StoreError(f"{path}: cannot remove after decompressing: {exc}") from exc
        fsync_dir(path.parent)
        return plain


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(_CHUNK):
        yield chunk


def touch(path: Path, ms: int) -> None:
    """Set a file's mtime to ``ms`` exactly (the coarse file-system clock could tie two writes)."""
    try:
        os.utime(path, ns=(ms * 1_000_000, ms * 1_000_000))
    except OSError as exc:
        raise StoreError(f"{path}: cannot set its time: {exc}") from exc


def write_new_file(path: Path, chunks: Iterable[bytes]) -> None:
    """Create ``path`` (which must not exist) holding the concatenated ``chunks``, fsynced.

    Raises:
        StoreError: the file exists or cannot be written.
        UnreadableRollout: reading the chunks failed (e.g. a corrupt zstd frame).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError as exc:
        raise StoreError(f"{path}: cannot create: {exc}") from exc
    try:
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view) :]
        os.fsync(fd)
    except RolloutError:
        raise
    except OSError as exc:
        raise StoreError(f"{path}: cannot write: {exc}") from exc
    finally:
        os.close(fd)


def _digit_dirs(prefix: str, rel: str, width: int) -> list[str]:
    """Child directories of ``rel`` named by ``width`` digits, newest (largest) first."""
    try:
        entries = [e for e in os.scandir(prefix + rel) if len(e.name) == width and e.name.isdigit()]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreError(f"{prefix + rel}: cannot list: {exc}") from exc
    return [f"{rel}/{e.name}" for e in sorted(entries, key=lambda e: e.name, reverse=True) if e.is_dir()]


def _link_or_rename(src: Path, dst: Path) -> None:
    """Hard-link then unlink (no clobber); rename on file systems without hard links."""
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        if dst.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(dst)) from exc
        os.rename(src, dst)
        return
    os.unlink(src)


def make_dirs(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each new entry made durable (its parent fsynced)."""
    missing = []
    while not directory.is_dir():
        missing.append(directory)
        if directory.parent == directory:
            break
        directory = directory.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue  # made meanwhile by someone else, who makes it durable
        fsync_dir(folder.parent)


def fsync_dir(directory: Path) -> None:
    """Make the entries of ``directory`` durable (new, moved, renamed or deleted files in it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the data itself is synced
    finally:
        os.close(fd)
