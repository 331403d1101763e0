"""Nothing leaves the machine: the headless demo, started through the real `lineside` entry point
in a network namespace of its own (loopback only), makes no attempt to reach another machine.

Every network call of the process and its children is traced (strace: connect, sendto, sendmsg,
native code included: onnxruntime, rapidocr, zxing-cpp, OpenCV), and a Python audit hook records
every name look-up and connection from Python. The run lasts well past the ~9 s after which
onnxruntime 1.32 starts looking up its event-collection host when its telemetry is on.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# the run: the demo taught on first use, then 140 parts at its line rate (4 parts/s, ~35 s)
PARTS = 140
HOOKED_RUN = """
import json, sys
out = open(sys.argv[1], "w", encoding="utf-8")
WATCHED = {"socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo",
           "socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr",
           "urllib.Request", "http.client.connect"}
def hook(event, args):
    if event in WATCHED:
        # a socket call's address alone (a host and port, or a local socket's path)
        what = args[1] if event.startswith(("socket.connect", "socket.send")) else args
        out.write(json.dumps([event, repr(what)]) + "\\n")
        out.flush()
sys.addaudithook(hook)
from app.launch import main
sys.exit(main(sys.argv[2:]))
"""
LOOPBACK = re.compile(r"127\.\d+\.\d+\.\d+|::1|::ffff:127\.")
# a name look-up through a local resolver is an attempt to reach out too
RESOLVERS = ("/run/systemd/resolve", "/var/run/nscd", "/run/nscd")


def _need(tool: str, package: str) -> str:
    found = shutil.which(tool)
    if found is None:
        pytest.fail(f"{tool} is missing: install the Debian package {package} (.ci/run does)")
    return found


def reaching_out(trace: str) -> list[str]:
    """strace lines that try to reach another machine (or a resolver)."""
    bad = []
    for line in trace.splitlines():
        if not re.search(r"\b(connect|sendto|sendmsg|sendmmsg)\(", line):
            continue
        if "AF_INET" in line:  # AF_INET or AF_INET6
            addresses = re.findall(r'inet6?_(?:addr|pton)\((?:AF_INET6?, )?"([^"]+)"', line)
            if not addresses or not all(LOOPBACK.fullmatch(a) for a in addresses):
                bad.append(line)
        elif "AF_UNIX" in line and any(r in line for r in RESOLVERS):
            bad.append(line)
    return bad


def looked_up_or_connected(events: list[list[str]]) -> list[list[str]]:
    """Audit events that name another machine: a look-up of any name but the local host's, any
    URL opened, a connection or datagram to an address that is not loopback."""
    local = r"\(('localhost'|'127\.[\d.]+'|'::1'|None|''|b'localhost')"
    bad = []
    for event, args in events:
        if event.startswith("socket.gethost") or event == "socket.getaddrinfo":
            if not re.match(local, args):
                bad.append([event, args])
        elif event in ("urllib.Request", "http.client.connect") or (
            args.startswith("(") and not re.match(local, args)
        ):
            bad.append([event, args])
    return bad


def test_the_headless_demo_reaches_no_other_machine(tmp_path: Path) -> None:
    unshare = _need("unshare", "util-linux")
    strace = _need("strace", "strace")
    _need("ip", "iproute2")
    if os.geteuid() != 0:
        pytest.fail("a network namespace of its own needs root (CI runs as root)")
    script = tmp_path / "hooked_run.py"
    script.write_text(HOOKED_RUN, encoding="utf-8")
    events_file, trace_file = tmp_path / "audit.jsonl", tmp_path / "strace.log"
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env["LINESIDE_HOME"] = str(tmp_path / "home")  # the entry point must switch it off itself
    command = [
        unshare, "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
        strace, "-f", "-qq", "-e", "trace=socket,connect,sendto,sendmsg,sendmmsg", "-o", str(trace_file),
        sys.executable, str(script), str(events_file),
        "run", "--headless", "--realtime", "--parts", str(PARTS), "--json",
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: the demo's escapes, not a crash
    result = json.loads(done.stdout)
    assert result["parts"] == PARTS and result["elapsed_s"] > 30  # long enough to be heard
    trace = trace_file.read_text(encoding="utf-8", errors="replace")
    assert "socket(AF_" in trace  # the tracer saw the process make its sockets
    events = [json.loads(line) for line in events_file.read_text(encoding="utf-8").splitlines()]
    assert reaching_out(trace) == []
    assert looked_up_or_connected(events) == []


def test_the_checks_catch_an_attempt() -> None:
    """The judges themselves: a look-up and a connection elsewhere are caught, loopback is not."""
    trace = "\n".join(
        [
            "12 connect(7, {sa_family=AF_INET, sin_port=htons(53), "
            'sin_addr=inet_addr("10.255.255.53")}, 16) = -1 ENETUNREACH',
            "12 connect(8, {sa_family=AF_INET, sin_port=htons(8080), "
            'sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
            '13 connect(9, {sa_family=AF_UNIX, sun_path="/run/systemd/resolve/io.systemd.Resolve"}'
            ", 42) = -1 ENOENT",
            '13 connect(9, {sa_family=AF_UNIX, sun_path="/tmp/x/trigger.sock"}, 20) = 0',
        ]
    )
    assert len(reaching_out(trace)) == 2
    events = [
        ["socket.getaddrinfo", "('mobile.events.data.microsoft.com', 443, 0, 1, 6)"],
        ["socket.getaddrinfo", "('localhost', 8554, 0, 1, 0)"],
        ["socket.connect", "('93.184.216.34', 80)"],
        ["socket.connect", "('127.0.0.1', 8554)"],
        ["socket.connect", "'/tmp/x/trigger.sock'"],
    ]
    assert [e[1][:20] for e in looked_up_or_connected(events)] == [
        "('mobile.events.data",
        "('93.184.216.34', 80",
    ]
