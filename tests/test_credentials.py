"""Where the sign-in is kept: a 0600 file refused when others can read it, never inside the
archive, damaged files said in one line; the keyring path through keyring itself (keyrings.alt's
file backend in a temporary folder, chosen explicitly; `auto` never takes such a backend)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.signin_helpers import cli, login_pasting, signin_env
from webex_archive.credentials import (
    Credentials,
    CredentialsError,
    FileStore,
    KeyringStore,
    open_store,
)


@pytest.fixture
def env(emu, tmp_path):
    return signin_env(emu, tmp_path)


def one_error(result, message: str, code: int = 1) -> None:
    assert (result.returncode, result.stderr) == (code, f"Error: {message}\n"), result.stderr


def test_a_credentials_file_others_can_read_is_refused_in_one_line(env, tmp_path):
    assert login_pasting(env)[0].returncode == 0
    path = tmp_path / "config" / "credentials.json"
    path.chmod(0o644)
    message = (
        f"{path} can be read by others (mode 0644): run `chmod 600 {path}`, then "
        "`webex-archive login` again if others may have read it"
    )
    for args in (["sync", "--all"], ["auth", "status"], ["logout"]):
        one_error(cli(*args, env=env), message)
    path.chmod(0o640)
    assert "(mode 0640)" in cli("spaces", env=env).stderr
    path.chmod(0o600)
    assert cli("spaces", env=env).returncode == 0


def test_the_credentials_folder_may_not_be_inside_the_archive(env, tmp_path):
    env["WEBEX_ARCHIVE_CONFIG_DIR"] = str(tmp_path / "archive" / "config")
    one_error(
        cli("login", "--no-browser", env=env),
        f"the credentials folder {tmp_path / 'archive' / 'config'} is inside the archive "
        f"{tmp_path / 'archive'}: set WEBEX_ARCHIVE_CONFIG_DIR to a folder outside it",
    )
    assert not (tmp_path / "archive").exists()


def test_a_damaged_file_and_an_unknown_backend_are_one_line(env, tmp_path):
    folder = tmp_path / "config"
    folder.mkdir(mode=0o700)
    (folder / "credentials.json").write_text("{not json")
    (folder / "credentials.json").chmod(0o600)
    one_error(
        cli("auth", "status", env=env),
        f"{folder / 'credentials.json'} is damaged: remove it and run `webex-archive login` again",
    )
    env["WEBEX_ARCHIVE_CREDENTIALS"] = "vault"
    one_error(
        cli("auth", "status", env=env),
        "WEBEX_ARCHIVE_CREDENTIALS='vault': use file, keyring or auto (the default)",
    )


def sample(api_url: str = "https://webexapis.com/v1") -> Credentials:
    return Credentials(api_url, "Cid", "secret-s", "access-a", 2e9, 1209600.0, "refresh-r",
                       2.1e9, ["spark:rooms_read"], 1.7e9)  # fmt: skip


def test_the_file_keeps_one_signin_per_api_and_is_written_0600(tmp_path):
    store = FileStore(tmp_path / "config")
    store.save(sample())
    store.save(sample("http://127.0.0.1:1/v1"))
    assert (tmp_path / "config" / "credentials.json").stat().st_mode & 0o777 == 0o600
    assert store.load("https://webexapis.com/v1") == sample()
    assert store.delete("https://webexapis.com/v1") and not store.delete("https://x/v1")
    assert store.load("https://webexapis.com/v1") is None
    assert store.load("http://127.0.0.1:1/v1") == sample("http://127.0.0.1:1/v1")
    assert [p.name for p in (tmp_path / "config").iterdir()] == ["credentials.json"]
    assert "secret-s" not in repr(sample()) and "access-a" not in repr(sample())


@pytest.fixture
def keyring_env(monkeypatch, tmp_path):
    """keyrings.alt's plaintext backend, its file in a temporary XDG data folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("WEBEX_ARCHIVE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    import keyring
    import keyring.core

    previous = keyring.get_keyring()
    keyring.core._keyring_backend = None  # chosen again, from the environment above
    yield tmp_path
    keyring.set_keyring(previous)


def test_the_keyring_backend_keeps_the_signin_through_keyring(keyring_env, monkeypatch):
    monkeypatch.setenv("WEBEX_ARCHIVE_CREDENTIALS", "keyring")
    store = open_store(keyring_env / "archive")
    assert isinstance(store, KeyringStore) and "PlaintextKeyring" in store.where
    store.save(sample())
    import keyring

    kept = json.loads(keyring.get_password("webex-archive", "https://webexapis.com/v1"))
    assert kept["refresh_token"] == "refresh-r"
    assert store.load("https://webexapis.com/v1") == sample()
    assert store.delete("https://webexapis.com/v1")
    assert store.load("https://webexapis.com/v1") is None
    assert not (keyring_env / "config" / "credentials.json").exists()


def test_auto_never_takes_a_plaintext_keyring_and_falls_back_to_the_file(keyring_env, monkeypatch):
    monkeypatch.delenv("WEBEX_ARCHIVE_CREDENTIALS", raising=False)
    store = open_store(keyring_env / "archive")
    assert isinstance(store, FileStore)
    assert store.path == keyring_env / "config" / "credentials.json"


def test_a_signin_through_the_keyring_in_subprocesses(emu, tmp_path):
    env = signin_env(emu, tmp_path)
    env |= {"WEBEX_ARCHIVE_CREDENTIALS": "keyring", "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
            "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}  # fmt: skip
    done, _ = login_pasting(env)
    assert done.returncode == 0, done.stderr
    assert "kept in the keyring (keyrings.alt.file.PlaintextKeyring)" in done.stderr
    assert any(Path(tmp_path / "data").rglob("*.cfg"))
    assert not (tmp_path / "config" / "credentials.json").exists()
    assert cli("spaces", env=env).returncode == 0
    assert cli("logout", env=env).returncode == 0
    assert cli("spaces", env=env).returncode == 2


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_a_file_of_another_mode_is_refused_by_the_store_too(tmp_path):
    store = FileStore(tmp_path)
    store.save(sample())
    store.path.chmod(0o604)
    with pytest.raises(CredentialsError, match=r"can be read by others \(mode 0604\)"):
        store.load("https://webexapis.com/v1")
