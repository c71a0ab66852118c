"""Episode media uploaded to the file store, streamed to learners' players in byte ranges.

A lesson plays its chapter by seeking into the episode, so players ask for parts of the file
(HTTP Range) rather than the whole of it. The file store may be a folder on this machine or a
private S3 bucket: either way the site reads only the bytes asked for, never the whole episode,
and nothing in the bucket is made public.

Only the episodes folder is served here. Certificate PDFs and transcripts live in the same
store but are learners' records, served only by their own views to those entitled to them.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.core.files.storage import Storage, default_storage

# Where uploaded episode media lives in the file store, and the one part of it anyone may read.
PUBLIC_MEDIA_FOLDER = "episodes/"
# An open-ended range ("bytes=N-", what a player asks for when it starts or seeks) is answered
# with at most this much. Players ask again for the next part, so a web worker is never held
# for the whole length of an episode by one slow listener.
MAX_RANGE_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 64 * 1024

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(Exception):
    """The range asked for lies wholly past the end of the file (answered with 416)."""


@dataclass(frozen=True)
class MediaInfo:
    name: str
    size: int
    modified: datetime | None
    # The store's own fingerprint of this version of the file, when it gives one.
    fingerprint: str
    content_type: str


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as Content-Range counts

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def is_public(name: str) -> bool:
    """Whether a file-store name is episode media anyone may play."""
    if not name or "\\" in name or "\x00" in name:
        return False
    normalised = posixpath.normpath(name)
    return (
        normalised == name
        and not name.startswith("/")
        and name.startswith(PUBLIC_MEDIA_FOLDER)
        and ".." not in name.split("/")
    )


def describe(name: str, storage: Storage | None = None) -> MediaInfo | None:
    """Size, date and fingerprint of a public media file; None when there is no such file."""
    storage = storage or default_storage
    if not is_public(name):
        return None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    bucket = _s3_bucket(storage)
    if bucket is not None:
        from botocore.exceptions import ClientError

        try:
            head = bucket.meta.client.head_object(Bucket=bucket.name, Key=_s3_key(storage, name))
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                return None
            raise
        return MediaInfo(
            name=name,
            size=head["ContentLength"],
            modified=head.get("LastModified"),
            fingerprint=head.get("ETag", "").strip('"'),
            content_type=content_type,
        )
    try:
        if not storage.exists(name):
            return None
        size = storage.size(name)
        modified = storage.get_modified_time(name)
    except (OSError, NotImplementedError, ValueError):
        return None
    return MediaInfo(
        name=name,
        size=size,
        modified=modified,
        fingerprint=f"{size:x}-{int(modified.timestamp() * 1000):x}" if modified else f"{size:x}",
        content_type=content_type,
    )


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The one range a Range header asks for, trimmed to the file; None for the whole file.

    Several ranges at once, other units and malformed headers are answered with the whole file,
    as RFC 9110 allows; a range starting past the end is refused."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        # "bytes=-N": the last N bytes.
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable
    if last:
        end = int(last)
        if end < start:
            return None  # not a valid range: ignored, the whole file
        return ByteRange(start, min(end, size - 1))
    return ByteRange(start, min(start + MAX_RANGE_BYTES, size) - 1)


def read(
    info: MediaInfo, byte_range: ByteRange | None, storage: Storage | None = None
) -> Iterator[bytes]:
    """The file's bytes in `byte_range` (or all of them), in chunks, read as they are sent."""
    storage = storage or default_storage
    start, length = (byte_range.start, byte_range.length) if byte_range else (0, info.size)
    bucket = _s3_bucket(storage)
    if bucket is not None:
        yield from _read_s3(bucket, _s3_key(storage, info.name), start, length)
        return
    with storage.open(info.name, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


def _read_s3(bucket, key: str, start: int, length: int) -> Iterator[bytes]:
    # A ranged GET: the bucket sends only these bytes (django-storages' file object would
    # first download the whole object to this machine).
    if length <= 0:
        return
    answer = bucket.meta.client.get_object(
        Bucket=bucket.name, Key=key, Range=f"bytes={start}-{start + length - 1}"
    )
    body = answer["Body"]
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()


def _s3_bucket(storage: Storage):
    """The boto3 bucket behind an S3 storage, or None for any other store."""
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # django-storages is optional when files stay on this machine
        return None
    return storage.bucket if isinstance(storage, S3Storage) else None


def _s3_key(storage: Storage, name: str) -> str:
    # The storage's own rule for its folder prefix (AWS_LOCATION) and name cleaning.
    from storages.utils import clean_name

    return storage._normalize_name(clean_name(name))
