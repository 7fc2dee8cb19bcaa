"""客户账号密码: the key that encrypts the clients' logins at rest.

The key is a Fernet key (AES-128-CBC + HMAC-SHA256, ``cryptography``) read from the
environment (``AGENCYDESK_VAULT_KEY``) or from ``instance/vault.key``. Without one
the app does not start: there is no plaintext fallback. ``make setup`` creates the
instance key once (``python -m app.security.vault new-key``); production sets the
environment variable. ``flask vault rotate`` re-encrypts every secret under a new
key in one transaction (:func:`rotate`).
"""
from __future__ import annotations

import os
import sys

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

ENV = "AGENCYDESK_VAULT_KEY"
FILE = "vault.key"
EXTENSION = "agencydesk_vault"


class VaultKeyMissing(RuntimeError):
    """No key: the app refuses to start rather than store secrets in plain text."""


class VaultError(ValueError):
    """A secret could not be decrypted (wrong key, damaged value)."""


def key_path(instance_path: str) -> str:
    return os.path.join(instance_path, FILE)


def read_key(config: dict, instance_path: str) -> tuple[bytes, str]:
    """(key, where it came from): the config / environment, else the instance file."""
    raw = config.get("VAULT_KEY") or os.environ.get(ENV)
    source = "env"
    if not raw:
        path = config.get("VAULT_KEY_PATH") or key_path(instance_path)
        if not os.path.exists(path):
            raise VaultKeyMissing(
                f"客户账号密码的加密密钥缺失：请设置环境变量 {ENV}，或运行 "
                f"`python -m app.security.vault new-key` 生成 {path}。")
        with open(path, "rb") as fh:
            raw = fh.read().strip()
        source = path
    key = raw.encode() if isinstance(raw, str) else raw
    try:
        Fernet(key)
    except (ValueError, TypeError) as exc:
        raise VaultKeyMissing(f"客户账号密码的加密密钥无效（{source}）: {exc}") from None
    return key, source


class Vault:
    """Encrypts and decrypts with the current key."""

    def __init__(self, key: bytes, source: str):
        self.key = key
        self.source = source
        self._fernet = Fernet(key)

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError, UnicodeError):
            raise VaultError("密文无法解密：密钥不符或数据已损坏。") from None


def install(app) -> Vault:
    key, source = read_key(app.config, app.instance_path)
    vault = Vault(key, source)
    app.extensions[EXTENSION] = vault
    return vault


def current() -> Vault:
    from flask import current_app

    return current_app.extensions[EXTENSION]


def rotate(session, old: bytes, new: bytes) -> int:
    """Re-encrypt every stored secret from ``old`` to ``new`` (the caller commits).

    :return: how many secrets were re-encrypted.
    :raises VaultError: a secret that the old key cannot read (nothing is changed
        when the caller rolls back).
    """
    from sqlalchemy import select, update

    from ..models import ClientCredential

    table = ClientCredential.__table__
    multi = MultiFernet([Fernet(new), Fernet(old)])
    count = 0
    rows = session.execute(select(table.c.id, table.c.secret_enc)
                           .where(table.c.secret_enc.is_not(None))).all()
    for row_id, token in rows:
        try:
            fresh = multi.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, ValueError):
            raise VaultError(f"第 {row_id} 条账号的密文无法用旧密钥解密，未轮换任何密钥。") from None
        session.execute(update(table).where(table.c.id == row_id).values(secret_enc=fresh))
        count += 1
    return count


def write_key(path: str, key: bytes) -> None:
    """Write a key file readable by its owner only, atomically."""
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key + b"\n")
    os.replace(tmp, path)


def main(argv: list[str]) -> int:
    """``python -m app.security.vault new-key``: create instance/vault.key if absent."""
    if argv[:1] != ["new-key"]:
        print("usage: python -m app.security.vault new-key", file=sys.stderr)
        return 2
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    instance = os.path.join(root, "instance")
    os.makedirs(instance, exist_ok=True)
    path = key_path(instance)
    if os.path.exists(path):
        print(f"{path} 已存在，未改动。")
        return 0
    write_key(path, Fernet.generate_key())
    print(f"已生成 {path}（请备份：丢失后已保存的账号密码无法解密）。")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
