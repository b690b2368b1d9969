"""Private keys in PEM files: written once, atomically, readable by the owner only.

`create_exclusive` writes to a temporary file (mode 0600) in the target's
folder and hard-links it to the target name, which fails if the target
exists: of several hub processes racing to create the same key, exactly one
wins and the others read the winner's file. A file is never overwritten.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from central.certificates.errors import KeyFileUnreadable

OWNER_ONLY = 0o600


def read_key_file(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist.

    Raises `KeyFileUnreadable` for a file that exists but cannot be read.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyFileUnreadable(path=str(path), problem=exc.strerror or str(exc)) from exc


def create_exclusive(path: Path, content: bytes) -> bytes:
    """Write `content` to `path` unless it exists; return what `path` holds afterwards."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".key-", dir=path.parent)
    try:
        os.fchmod(descriptor, OWNER_ONLY)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            existing = read_key_file(path)
            if existing is None:  # removed between the link and the read: an operator's doing
                raise KeyFileUnreadable(
                    path=str(path), problem="it vanished while being read"
                ) from None
            return existing
        return content
    finally:
        os.unlink(temporary)
