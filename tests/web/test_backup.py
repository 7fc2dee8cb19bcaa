"""备份与恢复: `flask backup PATH` then `flask restore PATH` brings every row back; a
damaged or unchecked file is refused and changes nothing."""
from __future__ import annotations

import os

from sqlalchemy import func, select


def _counts(app) -> dict:
    from flask_appbuilder import Model

    from app.extensions import db

    with app.app_context():
        return {table.name: db.session.execute(select(func.count()).select_from(table)).scalar()
                for table in Model.metadata.sorted_tables}


def _client_names(app) -> set:
    from app.extensions import db
    from app.models import Client

    with app.app_context():
        return set(db.session.execute(select(Client.name)).scalars())


def _run(app, *args):
    from app.extensions import db

    with app.app_context():
        db.session.remove()
    return app.test_cli_runner().invoke(args=list(args))


def test_a_restore_brings_back_every_row(app, make_client, tmp_path):
    for n in range(3):
        make_client(name=f"备份测试有限公司{n}")
    before = _counts(app)
    path = str(tmp_path / "agencydesk.backup")
    made = _run(app, "backup", path)
    assert made.exit_code == 0, made.output
    assert os.path.getsize(path) > 0 and os.path.exists(path + ".sha256")
    make_client(name="备份之后新增有限公司")
    assert "备份之后新增有限公司" in _client_names(app)

    restored = _run(app, "restore", path, "--yes")
    assert restored.exit_code == 0, restored.output
    assert _counts(app) == before
    names = _client_names(app)
    assert {f"备份测试有限公司{n}" for n in range(3)} <= names
    assert "备份之后新增有限公司" not in names


def test_a_damaged_or_unchecked_backup_is_refused(app, make_client, tmp_path):
    make_client(name="原有客户有限公司")
    path = str(tmp_path / "agencydesk.backup")
    assert _run(app, "backup", path).exit_code == 0
    make_client(name="恢复前新增有限公司")
    before = _counts(app)

    with open(path, "r+b") as fh:  # one flipped byte in the middle
        fh.seek(os.path.getsize(path) // 2)
        byte = fh.read(1)
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte[0] ^ 0xFF]))
    damaged = _run(app, "restore", path, "--yes")
    assert damaged.exit_code != 0 and "损坏" in damaged.output
    os.remove(path + ".sha256")
    unchecked = _run(app, "restore", path, "--yes")
    assert unchecked.exit_code != 0 and "校验文件" in unchecked.output
    assert _counts(app) == before
    assert "恢复前新增有限公司" in _client_names(app)
