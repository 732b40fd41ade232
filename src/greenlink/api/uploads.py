"""Reading multipart uploads: every route that takes files goes through :func:`read_uploads`,
so an odd file name (empty, too long, not UTF-8, NUL or other control characters, a folder
part) is refused with 422 before anything is stored."""

from __future__ import annotations

from fastapi import UploadFile

from greenlink.service.uploads import UploadedFile, check_upload_name


def _sent_as_utf8(upload: UploadFile) -> bool:
    """Whether the part's ``Content-Disposition`` (with the file name) was UTF-8: Starlette
    decodes other bytes as Latin-1, which would hide them."""
    for key, value in upload.headers.raw:
        if key.lower() == b"content-disposition":
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return False
    return True


def read_uploads(files: list[UploadFile], field: str = "files") -> list[UploadedFile]:
    """The uploaded files, each name checked (:func:`check_upload_name`)."""
    names = [check_upload_name(f.filename, field, utf8=_sent_as_utf8(f)) for f in files]
    return [UploadedFile(name, f.file.read()) for name, f in zip(names, files, strict=True)]


def read_upload(file: UploadFile, field: str = "file") -> UploadedFile:
    return read_uploads([file], field)[0]
