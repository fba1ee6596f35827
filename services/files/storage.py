"""Files in S3-compatible object storage through boto3 (R-JRN-1: homework attachments).

The app is async and boto3 is not: every call runs in a worker thread (boto3 clients are thread-safe).
Keys are made by `new_key` and never contain the name a person chose; that name is kept in the database,
cleaned by `safe_filename`. `check_upload` says in Russian what is wrong with an upload before it is stored.

Storage is optional in code: `storage_from_settings` gives None when S3_ENDPOINT_URL is unset (the run command
always sets it, starting an in-memory S3 when the operator configured none). Whatever needs files calls
`require_storage`, which answers 503 «Хранилище файлов не настроено.» in that case.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import boto3
import botocore.config
from botocore import UNSIGNED
from botocore.exceptions import ClientError
from litestar.exceptions import ServiceUnavailableException

from services.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

__all__ = [
    "NOT_CONFIGURED",
    "FileMissing",
    "FileStorage",
    "check_upload",
    "new_key",
    "require_storage",
    "safe_filename",
    "storage_from_settings",
]

NOT_CONFIGURED = "Хранилище файлов не настроено."
DEFAULT_CONTENT_TYPE = "application/octet-stream"
FALLBACK_FILENAME = "файл"
MAX_FILENAME_CHARS = 120

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 30.0
MAX_ATTEMPTS = 3
MAX_POOL_CONNECTIONS = 20

_MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "404", "NotFound"})


class FileMissing(LookupError):
    """No object under this key."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no file under key {key!r}")


def _error_code(exc: ClientError) -> str:
    error: dict[str, Any] = dict(exc.response.get("Error") or {})
    return str(error.get("Code", ""))


@dataclass(frozen=True, slots=True)
class FileStorage:
    """One bucket of an S3-compatible store; the async methods run boto3 in a worker thread."""

    client: Any  # mypy_boto3_s3.S3Client; Any at run time: Litestar resolves the hints of what it injects
    bucket: str
    region: str

    @classmethod
    def from_settings(cls, settings: Settings, *, endpoint_url: str) -> FileStorage:
        outbound = settings.outbound
        signing: dict[str, Any] = {"signature_version": "s3v4"}
        credentials: dict[str, Any] = {}
        if outbound.s3_access_key_id or outbound.s3_secret_access_key:
            credentials = {"aws_access_key_id": outbound.s3_access_key_id,
                           "aws_secret_access_key": outbound.s3_secret_access_key}
        else:
            # No keys: anonymous requests, never boto3's credential chain (it would ask cloud metadata hosts
            # outside the residency allow-list).
            signing = {"signature_version": UNSIGNED}
        config = botocore.config.Config(
            **signing,
            region_name=outbound.s3_region,
            s3={"addressing_style": "path"},
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
            max_pool_connections=MAX_POOL_CONNECTIONS,
            # Checksums only where S3 requires them: many S3-compatible stores refuse boto3's newer defaults.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        session = boto3.session.Session()
        client: S3Client = session.client(
            "s3", endpoint_url=endpoint_url, region_name=outbound.s3_region, config=config, **credentials
        )
        return cls(client=client, bucket=outbound.s3_bucket, region=outbound.s3_region)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await anyio.to_thread.run_sync(partial(
            self.client.put_object, Bucket=self.bucket, Key=key, Body=data, ContentLength=len(data),
            ContentType=content_type or DEFAULT_CONTENT_TYPE,
        ))

    async def get(self, key: str) -> tuple[bytes, str]:
        """The file's bytes and content type; FileMissing if there is no object under `key`."""

        def fetch() -> tuple[bytes, str]:
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _error_code(exc) in _MISSING_CODES:
                    raise FileMissing(key) from None
                raise
            with response["Body"] as body:
                data = body.read()
            return data, response.get("ContentType") or DEFAULT_CONTENT_TYPE

        return await anyio.to_thread.run_sync(fetch)

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a key that is not there is not an error."""
        await anyio.to_thread.run_sync(partial(self.client.delete_object, Bucket=self.bucket, Key=key))

    async def ensure_bucket(self) -> None:
        """Create the bucket unless it exists; safe to call from every process at every start."""
        await anyio.to_thread.run_sync(self.ensure_bucket_sync)

    def ensure_bucket_sync(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _error_code(exc) not in _MISSING_CODES:
                raise
        try:
            if self.region == "us-east-1":
                self.client.create_bucket(Bucket=self.bucket)
            else:
                self.client.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={"LocationConstraint": self.region},
                )
        except ClientError as exc:
            if _error_code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    def close(self) -> None:
        self.client.close()


def storage_from_settings(settings: Settings) -> FileStorage | None:
    """The configured storage, or None when S3_ENDPOINT_URL is unset (callers answer 503: `require_storage`)."""
    endpoint = settings.outbound.s3_endpoint_url
    return FileStorage.from_settings(settings, endpoint_url=endpoint) if endpoint else None


def require_storage(storage: FileStorage | None) -> FileStorage:
    """The storage, or HTTP 503 «Хранилище файлов не настроено.» when there is none."""
    if storage is None:
        raise ServiceUnavailableException(detail=NOT_CONFIGURED)
    return storage


# --- keys and names ---------------------------------------------------------------------------------------------

_PREFIX = re.compile(r"[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*")


def new_key(school_id: int, prefix: str, filename: str) -> str:
    """`school-<id>/<prefix>/<uuid4 hex>`: unguessable, and free of the name a person chose for the file
    (`filename` is accepted so callers pass what they have; it never goes into the key)."""
    if school_id < 1:
        raise ValueError(f"school id must be positive, not {school_id}")
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"key prefix {prefix!r} must be lower-case words (letters, digits, '-', '_') joined by '/'")
    return f"school-{school_id}/{prefix}/{uuid.uuid4().hex}"


_UNSAFE_CHARS = re.compile(r'[<>:"|?*]')


def safe_filename(name: str) -> str:
    """The name to show and offer on download: the last path part, without control or path characters,
    at most 120 characters (the extension is kept), «файл» if nothing is left."""
    name = unicodedata.normalize("NFC", name or "")
    # Control and format characters (new lines, right-to-left overrides) go: they hide what a name is.
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_CHARS.sub("", name)
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_FILENAME_CHARS:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= 10:
            name = stem[: MAX_FILENAME_CHARS - len(extension) - 1].rstrip(" .") + "." + extension
        else:
            name = name[:MAX_FILENAME_CHARS].rstrip(" .")
    return name or FALLBACK_FILENAME


# --- what may be uploaded ---------------------------------------------------------------------------------------

EXECUTABLE_EXTENSIONS = frozenset({
    "exe", "bat", "cmd", "sh", "js", "msi", "com", "scr", "ps1", "vbs",
    "dll", "jar", "apk", "app", "vbe", "jse", "wsf", "hta", "cpl", "pif", "lnk",
})
ALLOWED_EXTENSIONS = frozenset({
    # documents and office files
    "pdf", "doc", "docx", "odt", "rtf", "txt", "md", "xls", "xlsx", "ods", "csv", "ppt", "pptx", "odp", "odg",
    "djvu", "djv", "epub", "fb2",
    # images (no SVG: it may carry scripts)
    "jpg", "jpeg", "png", "gif", "webp", "bmp", "tif", "tiff", "heic", "heif",
    # archives
    "zip", "7z", "rar", "tar", "gz", "tgz", "bz2", "xz",
    # audio and video
    "mp3", "wav", "ogg", "oga", "opus", "m4a", "aac", "flac", "wma",
    "mp4", "m4v", "webm", "mov", "avi", "mkv", "ogv", "3gp", "wmv",
})
_ALLOWED_TYPE_FAMILIES = ("image/", "audio/", "video/")
_ALLOWED_TYPES = frozenset({
    "", DEFAULT_CONTENT_TYPE, "binary/octet-stream",
    "application/pdf", "application/rtf", "text/rtf", "text/plain", "text/csv", "text/markdown",
    "application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation", "application/vnd.oasis.opendocument.graphics",
    "image/vnd.djvu", "image/x-djvu", "application/epub+zip", "application/x-fictionbook+xml",
    "application/zip", "application/x-zip-compressed", "application/x-7z-compressed", "application/vnd.rar",
    "application/x-rar-compressed", "application/x-tar", "application/gzip", "application/x-gzip",
    "application/x-bzip2", "application/x-xz", "application/ogg",
})
_REFUSED_TYPES = frozenset({"image/svg+xml"})


def _megabytes(max_bytes: int) -> str:
    return f"{max_bytes / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",")


def check_upload(filename: str, data: bytes, content_type: str, max_bytes: int) -> list[str]:
    """What is wrong with an upload, in Russian; empty when it may be stored."""
    problems: list[str] = []
    if not data:
        problems.append("Файл пустой.")
    elif len(data) > max_bytes:
        problems.append(f"Файл больше {_megabytes(max_bytes)} МБ.")
    name = safe_filename(filename)
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if extension in EXECUTABLE_EXTENSIONS:
        problems.append(f"Программы и скрипты загружать нельзя (.{extension}).")
    elif not extension:
        problems.append("У файла нет расширения: непонятно, что это за файл. Добавьте расширение, например .pdf.")
    elif extension not in ALLOWED_EXTENSIONS:
        problems.append(f"Файлы с расширением .{extension} загружать нельзя: подойдут документы, изображения, "
                        "PDF, архивы, аудио и видео.")
    if media_type in ("text/html", "application/xhtml+xml"):
        problems.append("Веб-страницы (text/html) загружать нельзя.")
    elif extension in ALLOWED_EXTENSIONS and (media_type in _REFUSED_TYPES or not (
        media_type in _ALLOWED_TYPES or media_type.startswith(_ALLOWED_TYPE_FAMILIES)
    )):
        problems.append(f"Файлы типа {media_type} загружать нельзя.")
    return problems
