"""The photo store: a directory (by default ``attachments/`` in the data directory), shared by
every process and replica that mounts it.

A photo's files are named by its random key, never by anything the uploader sent:
``<dir>/<key[:2]>/<key>.<variant>`` with the variants ``original`` (the bytes as sent, never
served), ``jpg`` (the served copy) and ``thumb.jpg``. Each is written to a temporary file in the
same directory, fsync-ed and renamed into place (``os.replace`` is atomic on one file system),
so a reader on any replica sees a whole file or none, and a crash leaves at most a stray
temporary file.

Blocking file work: call these through ``asyncio.to_thread``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

VARIANTS = ("original", "jpg", "thumb.jpg")


def new_key() -> str:
    return secrets.token_hex(16)


class DirectoryStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str, variant: str) -> Path:
        if variant not in VARIANTS or not key.isalnum():
            raise ValueError(f"not a stored file: {key}.{variant}")
        return self.root / key[:2] / f"{key}.{variant}"

    def put(self, key: str, files: dict[str, bytes]) -> None:
        """Write every variant of ``key`` whole (temporary file, fsync, rename)."""
        folder = self.root / key[:2]
        folder.mkdir(parents=True, exist_ok=True)
        for variant, data in files.items():
            final = self.path(key, variant)
            temporary = folder / f".{final.name}.{secrets.token_hex(4)}.tmp"
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(temporary, final)
            except BaseException:
                temporary.unlink(missing_ok=True)
                raise
        # The renames themselves are durable once the directory is.
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def get(self, key: str, variant: str) -> bytes:
        return self.path(key, variant).read_bytes()

    def delete(self, key: str) -> None:
        """Remove every variant of ``key`` (a photo whose row was never committed)."""
        for variant in VARIANTS:
            self.path(key, variant).unlink(missing_ok=True)
