"""Files in S3-compatible storage: a real round trip over HTTP (moto's server, or the store S3_ENDPOINT_URL names),
and the rules for what may be uploaded."""

from __future__ import annotations

import httpx
import pytest

from services.config import Settings
from services.files.storage import (
    FileMissing,
    FileStorage,
    check_upload,
    new_key,
    require_storage,
    safe_filename,
    storage_from_settings,
)

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MIB = 1024 * 1024


async def test_put_then_get_returns_the_same_bytes_and_type_over_http(storage: FileStorage, settings: Settings) -> None:
    data = "Домашнее задание: §12, упр. 5".encode() + bytes(range(256))
    key = new_key(7, "homework", "задание.pdf")
    await storage.put(key, data, PDF)

    assert await storage.get(key) == (data, PDF)
    # It really is on the server at the configured address, not in a mock inside this process.
    assert settings.outbound.s3_endpoint_url
    head = storage.client.head_object(Bucket=storage.bucket, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ResponseMetadata"]["HTTPHeaders"]["content-type"] == PDF


async def test_the_store_is_reached_through_its_http_address(storage: FileStorage, settings: Settings) -> None:
    endpoint = settings.outbound.s3_endpoint_url
    assert endpoint
    key = new_key(7, "homework", "a.txt")
    await storage.put(key, b"plain", "text/plain")
    url = storage.client.generate_presigned_url("get_object", Params={"Bucket": storage.bucket, "Key": key})
    assert url.startswith(f"{endpoint}/{storage.bucket}/")  # path-style addressing
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.content == b"plain"


async def test_get_of_a_missing_key_raises_file_missing(storage: FileStorage) -> None:
    key = new_key(7, "homework", "нет.pdf")
    with pytest.raises(FileMissing) as caught:
        await storage.get(key)
    assert caught.value.key == key


async def test_delete_removes_the_file_and_may_be_repeated(storage: FileStorage) -> None:
    key = new_key(7, "homework", "x.pdf")
    await storage.put(key, b"%PDF-1.4", PDF)
    await storage.delete(key)
    with pytest.raises(FileMissing):
        await storage.get(key)
    await storage.delete(key)  # deleting what is gone is not an error


async def test_ensure_bucket_is_idempotent(storage: FileStorage) -> None:
    await storage.ensure_bucket()
    await storage.ensure_bucket()


async def test_a_new_bucket_is_created_when_missing(settings: Settings, storage: FileStorage) -> None:
    other = FileStorage(client=storage.client, bucket=f"{storage.bucket}-extra", region=storage.region)
    await other.ensure_bucket()
    key = new_key(1, "homework", "a.pdf")
    await other.put(key, b"x", PDF)
    assert await other.get(key) == (b"x", PDF)
    await other.delete(key)
    storage.client.delete_bucket(Bucket=other.bucket)


def test_keys_are_per_school_unique_and_never_hold_the_filename() -> None:
    name = "Иванов Пётр — сочинение.docx"
    keys = {new_key(42, "homework", name) for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        school, prefix, tail = key.split("/")
        assert (school, prefix) == ("school-42", "homework")
        assert len(tail) == 32
        assert int(tail, 16) >= 0
        assert "Иванов" not in key
        assert "docx" not in key
    with pytest.raises(ValueError, match="prefix"):
        new_key(42, "../other", name)
    with pytest.raises(ValueError, match="school id"):
        new_key(0, "homework", name)


def test_storage_is_optional_and_callers_answer_503_without_it(settings: Settings) -> None:
    from dataclasses import replace

    from litestar.exceptions import ServiceUnavailableException

    unconfigured = replace(settings, outbound=replace(settings.outbound, s3_endpoint_url=None))
    assert storage_from_settings(unconfigured) is None
    with pytest.raises(ServiceUnavailableException) as caught:
        require_storage(None)
    assert caught.value.status_code == 503
    assert caught.value.detail == "Хранилище файлов не настроено."


def test_check_upload_refuses_an_empty_file() -> None:
    assert check_upload("пусто.pdf", b"", PDF, 20 * MIB) == ["Файл пустой."]


def test_check_upload_refuses_a_file_over_the_limit() -> None:
    assert check_upload("big.pdf", b"x" * (20 * MIB + 1), PDF, 20 * MIB) == ["Файл больше 20 МБ."]
    assert check_upload("exact.pdf", b"x" * (2 * MIB), PDF, 2 * MIB) == []
    assert check_upload("half.pdf", b"x" * (MIB // 2 + 1), PDF, MIB // 2) == ["Файл больше 0,5 МБ."]


@pytest.mark.parametrize("name", ["setup.exe", "run.BAT", "x.cmd", "install.sh", "app.js", "a.msi", "a.com",
                                  "a.scr", "a.ps1", "a.vbs"])
def test_check_upload_refuses_programs(name: str) -> None:
    problems = check_upload(name, b"MZ\x90\x00", "application/octet-stream", 20 * MIB)
    assert len(problems) == 1
    assert problems[0].startswith("Программы и скрипты загружать нельзя")


def test_check_upload_refuses_html_whatever_the_name() -> None:
    assert check_upload("page.pdf", b"<html>", "text/html; charset=utf-8", 20 * MIB) == [
        "Веб-страницы (text/html) загружать нельзя."]
    assert "Веб-страницы (text/html) загружать нельзя." in check_upload("page.html", b"<html>", "text/html", 20 * MIB)


def test_check_upload_refuses_unknown_kinds_and_svg() -> None:
    assert check_upload("noext", b"x", PDF, 20 * MIB)
    assert check_upload("a.xyz", b"x", "application/octet-stream", 20 * MIB)
    assert check_upload("a.png", b"<svg>", "image/svg+xml", 20 * MIB) == ["Файлы типа image/svg+xml загружать нельзя."]


@pytest.mark.parametrize(("name", "content_type"), [
    ("контрольная.pdf", PDF),
    ("сочинение.docx", DOCX),
    ("фото.JPG", "image/jpeg"),
    ("таблица.xlsx", "application/octet-stream"),
    ("проект.zip", "application/zip"),
    ("запись.mp3", "audio/mpeg"),
    ("опыт.mp4", "video/mp4"),
])
def test_check_upload_accepts_documents_images_archives_and_media(name: str, content_type: str) -> None:
    assert check_upload(name, b"content", content_type, 20 * MIB) == []


def test_safe_filename_keeps_only_the_last_path_part() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\Петя\\Домашка.docx") == "Домашка.docx"
    assert safe_filename("../..") == "файл"
    assert safe_filename("") == "файл"


def test_safe_filename_strips_control_characters() -> None:
    assert safe_filename("отчёт\n\r\t.pdf") == "отчёт.pdf"
    assert safe_filename("evil\u202egpj.exe") == "evilgpj.exe"
    cleaned = safe_filename("line1\nline2/\x00name.txt")
    assert "\n" not in cleaned
    assert "/" not in cleaned
    assert "\x00" not in cleaned
    assert cleaned == "name.txt"


def test_safe_filename_is_at_most_120_characters_and_keeps_the_extension() -> None:
    long = safe_filename("я" * 300 + ".pdf")
    assert len(long) == 120
    assert long.endswith(".pdf")
    assert len(safe_filename("b" * 500)) == 120
