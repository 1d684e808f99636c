"""The one opener for slow-query log files: plain, gzip, bzip2 or xz, told apart by their magic bytes.

Both the MySQL and the PostgreSQL readers open logs here, so a format one of them can
read the other can read too, and a damaged archive is reported the same way by both.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from pathlib import Path
from typing import IO, cast

from datatruth.errors import LogFormatError, present

# What a damaged or cut-off archive raises while it is read (gzip.BadGzipFile is an OSError).
COMPRESSION_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, zlib.error, lzma.LZMAError)
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"))


def compression_of(head: bytes) -> str | None:
    """'gzip', 'bzip2' or 'xz' when `head` (the first bytes of a file) starts like one, else None."""
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None


def file_compression(path: Path) -> str | None:
    """The compression of a file on disk, from its magic bytes (None: plain text)."""
    with open(path, "rb") as fh:
        return compression_of(fh.read(6))


class OpenedLog:
    """A log opened for reading as bytes (or, for a text stream handed in, as text); close() closes what it opened."""

    def __init__(
        self, binary: IO[bytes] | None, text: IO[str] | None, compression: str | None, owned: list[IO]
    ) -> None:
        self.binary = binary
        self.text = text
        self.compression = compression
        self._owned = owned

    def close(self) -> None:
        """Close the handles this opener created (never a stream the caller handed in)."""
        for handle in reversed(self._owned):
            handle.close()
        self._owned = []

    def __enter__(self) -> OpenedLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_log(source: str | Path | IO) -> OpenedLog:
    """Open a path or wrap a stream; compressed input is decompressed on the fly (by magic bytes, not by name)."""
    owned: list[IO] = []
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise LogFormatError(f"log file {path.name} does not exist or is not a file", "check the path")
        raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by OpenedLog.close
        owned.append(raw)
    elif isinstance(source, io.TextIOBase):
        return OpenedLog(None, source, None, owned)
    else:
        raw = source
    buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[type-var]  # a raw stream
    if buffered is not raw:
        owned.append(buffered)
    compression = compression_of(buffered.peek(6)[:6])
    wrapper: IO[bytes] | None = None
    # the decompressors are binary file objects; their stubs type them as BufferedIOBase, not IO[bytes]
    if compression == "gzip":
        wrapper = cast("IO[bytes]", gzip.GzipFile(fileobj=buffered, mode="rb"))
    elif compression == "bzip2":
        wrapper = cast("IO[bytes]", bz2.BZ2File(buffered))
    elif compression == "xz":
        wrapper = cast("IO[bytes]", lzma.LZMAFile(buffered))
    if wrapper is None:
        return OpenedLog(buffered, None, None, owned)
    owned.append(wrapper)
    return OpenedLog(wrapper, None, compression, owned)


def read_some(stream: IO[bytes], size: int) -> bytes:
    """Up to `size` bytes; from an archive, what has been decompressed so far (so a cut-off file keeps it)."""
    read1 = getattr(stream, "read1", None)
    if read1 is not None and isinstance(stream, gzip.GzipFile | bz2.BZ2File | lzma.LZMAFile):
        return read1(size)
    return stream.read(size)


def head_bytes(path: Path, size: int = 65536) -> bytes:
    """The first `size` bytes of a log, decompressed; empty when the archive cannot be read at all."""
    with open_log(path) as opened:
        binary = present(opened.binary, "the opened log's byte stream")
        try:
            return read_some(binary, size)
        except COMPRESSION_ERRORS:
            return b""
