"""`lineside cameras scan|test`: what an engineer runs over SSH before writing a recipe."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.gige_peer import running_fake_camera

from inspection.cli import main
from inspection.simulators.peers import free_port


@pytest.fixture
def fake_gige() -> Iterator[Any]:
    yield from running_fake_camera("SCANME01")


def test_scan_finds_the_gige_camera_on_its_network(fake_gige: Any):
    # the scan broadcasts on every interface, so it runs inside the fake camera's namespace
    done = subprocess.run(
        ["ip", "netns", "exec", fake_gige.namespace, sys.executable, "-m", "app.launch",
         "cameras", "scan", "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)["gige"]
    assert [(c["serial"], c["address"]) for c in found] == [("SCANME01", fake_gige.address)]


def test_cameras_test_reports_each_camera_and_fails_when_one_is_down(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    recipe = tmp_path / "two.yaml"
    recipe.write_text(
        "name: two\ncameras:\n"
        "  - {id: sim, source: {type: synthetic, rate_hz: 20}}\n"
        f"  - {{id: door, source: {{type: http, url: 'http://op:pw@127.0.0.1:{free_port()}/x', "
        "timeout_s: 1}}\n",
        encoding="utf-8",
    )
    assert main(["cameras", "test", "--recipe", str(recipe), "--timeout", "2", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)["cameras"]
    assert out["sim"]["ok"] is True and out["sim"]["frames"] == 10
    assert out["door"]["ok"] is False and out["door"]["message"].startswith("cannot connect")
    assert ":pw@" not in out["door"]["message"]
