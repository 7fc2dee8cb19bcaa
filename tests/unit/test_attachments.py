"""What an attachment may be: the name's kind and the first bytes must agree."""
import io
import zipfile

import pytest

from app.domain import attachments as a

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 20


def workbook() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    return buf.getvalue()


@pytest.mark.parametrize("name, content, kind", [
    ("合同.pdf", PDF, "pdf"), ("营业执照.PNG", PNG, "png"), ("身份证.jpeg", JPG, "jpg"),
    ("工资表.xlsx", workbook(), "xlsx")])
def test_allowed_kinds_pass(name, content, kind):
    assert a.check(name, content) == kind


@pytest.mark.parametrize("name, content, reason", [
    ("病毒.exe", b"MZ\x90\x00", "type"),
    ("伪装.pdf", b"MZ\x90\x00", "type"),                    # an .exe renamed .pdf
    ("网页.png", b"<html><script>alert(1)</script>", "type"),  # HTML renamed .png
    ("压缩包.xlsx", b"PK\x03\x04not a zip", "type"),
    ("没有扩展名", PDF, "type"),
    ("空.pdf", b"", "empty"),
])
def test_refused(name, content, reason):
    with pytest.raises(a.AttachmentError) as exc:
        a.check(name, content)
    assert exc.value.reason == reason


def test_a_zip_that_is_no_workbook_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("evil.sh", "rm -rf /")
    with pytest.raises(a.AttachmentError):
        a.check("表.xlsx", buf.getvalue())


def test_the_size_limit_holds():
    with pytest.raises(a.AttachmentError) as exc:
        a.check("大.pdf", PDF + b"x" * 100, max_bytes=50)
    assert exc.value.reason == "size"


@pytest.mark.parametrize("name, shown", [
    ("../../etc/passwd.pdf", "passwd.pdf"), ("..\\..\\win.ini.pdf", "win.ini.pdf"),
    ("a\x00b.pdf", "a_b.pdf"), ("", "file"), ("...", "file")])
def test_display_names_carry_no_path(name, shown):
    assert a.display_name(name) == shown
