"""``webex-archive emulator`` and ``demo`` as a user runs them: real processes, real ports."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import requests
from click.testing import CliRunner

from webex_archive.cli import main

CLI = [sys.executable, "-m", "webex_archive"]


def test_emulator_serves_what_it_prints(tmp_path):
    process = subprocess.Popen(
        [*CLI, "emulator", "--port", "0", "--messages", "30"], stdout=subprocess.PIPE, text=True
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        api_url = re.search(r"serving (http://127\.0\.0\.1:\d+/v1)", lines[0]).group(1)
        token = lines[2].split("=", 1)[1].strip()
        rooms = requests.get(
            f"{api_url}/rooms", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert rooms.status_code == 200 and len(rooms.json()["items"]) == 4
    finally:
        process.terminate()
        process.wait(5)


def test_dump_writes_a_loadable_data_set(tmp_path):
    path = tmp_path / "set.json"
    result = CliRunner().invoke(
        main, ["emulator", "--dump", str(path), "--messages", "10", "--spaces", "1", "--no-hostile"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(path.read_text())
    assert data["format"] == "webex-emulator-dataset"
    assert len(data["messages"]) == 15  # 10 in the group space, 5 in the direct one
    again = CliRunner().invoke(
        main, ["emulator", "--data", str(path), "--dump", str(tmp_path / "copy.json")]
    )
    assert again.exit_code == 0
    assert json.loads((tmp_path / "copy.json").read_text()) == data


def test_bad_options_are_one_line_errors(tmp_path):
    runner = CliRunner()
    bad_fault = runner.invoke(main, ["emulator", "--fail-at", "soon=429"])
    assert bad_fault.exit_code == 2 and "N=WHAT" in bad_fault.output
    bad_rate = runner.invoke(main, ["emulator", "--fail-429", "5"])
    assert bad_rate.exit_code == 2 and "between 0 and 1" in bad_rate.output
    missing = runner.invoke(main, ["emulator", "--data", str(tmp_path / "none.json")])
    assert missing.exit_code == 2  # a usage error naming the option (tests/test_cli_options.py)
    assert "Invalid value for '--data'" in missing.output and "Traceback" not in missing.output


def test_port_in_use_is_a_clear_error():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["emulator", "--port", str(port)])
    assert result.exit_code == 1 and "pass --port 0" in result.output


def test_python_m_webex_emulator_is_the_same_command(tmp_path):
    """The package was renamed from ``emulator`` (a name another package on the index takes);
    ``python -m webex_emulator`` is still the emulator's own command line."""
    options = ["--messages", "4", "--spaces", "1", "--no-hostile", "--seed", "3"]
    alone = subprocess.run(
        [sys.executable, "-m", "webex_emulator", *options, "--dump", str(tmp_path / "a.json")],
        capture_output=True,
        text=True,
    )
    assert alone.returncode == 0, alone.stderr
    through = CliRunner().invoke(main, ["emulator", *options, "--dump", str(tmp_path / "b.json")])
    assert through.exit_code == 0, through.output
    # The data sets end "now": two runs a second apart differ in their times alone.
    first = json.loads(untimed((tmp_path / "a.json").read_text()))
    second = json.loads(untimed((tmp_path / "b.json").read_text()))
    assert first["format"] == "webex-emulator-dataset"
    assert len(first["messages"]) == 9  # 4 in the group space, 5 (the least) in the direct one
    assert first == second


def untimed(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "<time>", text)
