"""The PLC handshake over real Modbus TCP on 127.0.0.1, in both roles: a pymodbus client plays
the PLC against the station's server, and the station's client plays against a pymodbus server
holding the PLC's registers. A real station (simulated camera, software trigger) inspects."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.modbus_plc import PlcPlayer, PlcRegisters, free_port
from support.pipeline_tools import BrightnessTool, Collector, software_recipe_file

from inspection.integrations.plc.link import PlcLink
from inspection.integrations.plc.signals import ControlBit, ErrorCode, Status, StatusBit
from inspection.pipeline.changeover import StationSwitcher
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, load_recipe
from inspection.recipe.plc import PlcSettings
from inspection.types import Frame, ToolResult, Verdict

ACK_TIMEOUT_S = 0.5


class SlowBright(BrightnessTool):
    """Passes every part (``minimum`` 0) or fails every part, after ``line.delay_s``."""

    def __init__(self, minimum: float, delay: list[float]) -> None:
        super().__init__(tool_id="bright", minimum=minimum)
        self._delay = delay

    def inspect(self, frame: Frame) -> ToolResult:
        if self._delay[0]:
            time.sleep(self._delay[0])
        return super().inspect(frame)


@dataclass
class Line:
    role: str
    link: PlcLink
    switcher: StationSwitcher
    player: PlcPlayer
    collector: Collector
    delay: list[float]
    plc: PlcRegisters | None

    @property
    def station(self) -> Station:
        assert self.switcher.station is not None
        return self.switcher.station

    def alarm_texts(self) -> str:
        return "\n".join(u.message for u in self.collector.status)


def start_line(role: str, tmp_path: Path, plc: PlcRegisters | None = None, **extra: float) -> Line:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [unclosed\n", encoding="utf-8")
    recipes = {
        1: software_recipe_file(tmp_path, "product-a", tool_id="bright"),
        2: software_recipe_file(tmp_path, "product-b", tool_id="bright"),
        3: broken,
    }
    common = {"recipes": recipes, "ack_timeout_s": ACK_TIMEOUT_S, "heartbeat_s": 0.1, **extra}
    if role == "server":
        settings = PlcSettings(role="server", port=free_port(), **common)
    else:
        assert plc is not None
        settings = PlcSettings(role="client", port=plc.port, poll_ms=5, retry_s=0.2, **common)
    collector = Collector()
    delay = [0.0]
    switcher: StationSwitcher

    def make_station(recipe: Recipe) -> Station:
        minimum = 0.0 if recipe.name == "product-a" else 1e9
        st = Station(
            recipe,
            store_results=False,
            make_tools=lambda: [SlowBright(minimum, delay)],
            trigger_inputs=[link],
            line_sinks=[link],
        )
        st.add_listener(collector)
        return st

    link = PlcLink(settings, on_changeover=lambda n, p: switcher.changeover(link, n, p))
    switcher = StationSwitcher(make_station, [link])
    link.open()
    switcher.start(load_recipe(recipes[1]), recipes[1])
    wait_until(lambda: switcher.station is not None and switcher.station.camera_connected("cam1"))
    if role == "server":
        player = PlcPlayer(link.port)
    else:
        assert plc is not None
        player = PlcPlayer(plc.port, hold_s=4 * settings.poll_ms / 1000)
    return Line(role, link, switcher, player, collector, delay, plc)


def stop_line(line: Line) -> None:
    line.player.close()
    line.switcher.stop()
    line.link.close()


def wait_until(ok, timeout_s: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not ok():
        assert time.monotonic() < deadline, f"{what} not met within {timeout_s} s"
        time.sleep(0.005)


@pytest.fixture(params=["server", "client"])
def line(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Line]:
    plc = PlcRegisters().start() if request.param == "client" else None
    running = start_line(request.param, tmp_path, plc)
    try:
        yield running
    finally:
        stop_line(running)
        if plc is not None:
            plc.stop()


def test_trigger_result_acknowledge(line: Line) -> None:
    first = line.player.cycle(4711)
    bits = StatusBit(first[Status.WORD])
    assert StatusBit.OK in bits and not bits & (StatusBit.NG | StatusBit.ERROR | StatusBit.BUSY)
    assert first[Status.PART_ID] == 4711
    assert first[Status.ERROR_CODE] == ErrorCode.NONE
    assert first[Status.TOOLS_OK] == 0b1  # the recipe's one tool passed
    assert first[Status.RECIPE] == 1
    inspected = line.collector.inspections
    assert len(inspected) == 1 and inspected[0].verdict is Verdict.PASS
    number = (first[Status.PART_NUMBER_HIGH] << 16) | first[Status.PART_NUMBER_LOW]
    assert number == inspected[0].part_seq + 1
    second = line.player.cycle(4712)
    assert second[Status.PART_ID] == 4712
    assert (second[Status.PART_NUMBER_LOW]) == inspected[1].part_seq + 1
    after = line.player.wait_for(StatusBit.READY)
    assert not StatusBit(after[Status.WORD]) & StatusBit.RESULT_READY  # acknowledged
    assert after[Status.TRIGGERS_REFUSED] == 0 and after[Status.RESULTS_NOT_ACKNOWLEDGED] == 0
    # the operator screen shows the link beside the outputs
    (plc,) = [s for s in line.station.outputs() if s.output_id == "PLC"]
    assert plc.state == "connected" and plc.sent == 2


def test_heartbeat_toggles(line: Line) -> None:
    seen = set()
    counts = set()
    deadline = time.monotonic() + 2.0
    while len(seen) < 2 and time.monotonic() < deadline:
        regs = line.player.status()
        seen.add(bool(StatusBit(regs[Status.WORD]) & StatusBit.HEARTBEAT))
        counts.add(regs[Status.HEARTBEAT_COUNT])
        time.sleep(0.02)
    assert seen == {True, False} and len(counts) >= 2


def test_changeover_between_parts_drops_ready_while_it_loads(line: Line) -> None:
    line.player.cycle(1)
    samples: list[list[int]] = []
    line.player.select_recipe(2)
    deadline = time.monotonic() + 10
    while True:
        regs = line.player.status()
        samples.append(regs)
        if regs[Status.RECIPE] == 2 and StatusBit.READY in StatusBit(regs[Status.WORD]):
            break
        assert time.monotonic() < deadline, f"no changeover: {StatusBit(regs[0])!r}"
        time.sleep(0.002)
    loading = [StatusBit(r[Status.WORD]) for r in samples if r[Status.WORD] & StatusBit.CHANGEOVER]
    assert loading, "the Changeover bit was never seen"
    assert all(StatusBit.READY not in b for b in loading)
    assert line.station.recipe.name == "product-b" and line.station.running
    result = line.player.cycle(2)
    bits = StatusBit(result[Status.WORD])
    assert StatusBit.NG in bits and StatusBit.OK not in bits  # product-b's tool fails every part
    assert result[Status.TOOLS_OK] == 0 and result[Status.RECIPE] == 2
    assert line.switcher.changeovers == 1


def test_a_bad_recipe_number_or_recipe_keeps_the_running_one(line: Line) -> None:
    line.player.select_recipe(7)  # not in the table
    regs = line.player.wait_for(StatusBit.ERROR | StatusBit.ALARM)
    assert regs[Status.ERROR_CODE] == ErrorCode.UNKNOWN_RECIPE and regs[Status.RECIPE] == 1
    wait_until(lambda: "does not have" in line.alarm_texts(), what="the operator's message")
    line.player.select_recipe(3)  # in the table, but the file is not a recipe
    wait_until(lambda: line.player.status()[Status.ERROR_CODE] == ErrorCode.RECIPE_NOT_LOADED)
    assert line.player.status()[Status.RECIPE] == 1
    assert line.station.recipe.name == "product-a" and line.station.running
    wait_until(lambda: "PLC recipe 3 not loaded" in line.alarm_texts())
    # Reset alarms clears them; the line goes on with the running recipe
    line.player.pulse(ControlBit.RESET_ALARMS)
    line.player.wait_for(StatusBit.ERROR | StatusBit.ALARM, clear=True)
    line.player.release(ControlBit.RESET_ALARMS)
    assert StatusBit.OK in StatusBit(line.player.cycle(9)[Status.WORD])


def test_a_plc_that_never_acknowledges_raises_an_alarm(line: Line) -> None:
    line.player.wait_for(StatusBit.READY)
    line.player.trigger(55)
    line.player.wait_for(StatusBit.RESULT_READY)
    t0 = time.monotonic()
    regs = line.player.wait_for(StatusBit.ALARM, timeout_s=5.0)
    assert time.monotonic() - t0 >= ACK_TIMEOUT_S * 0.5
    assert regs[Status.ERROR_CODE] == ErrorCode.NOT_ACKNOWLEDGED
    assert regs[Status.RESULTS_NOT_ACKNOWLEDGED] == 1
    wait_until(lambda: "did not acknowledge" in line.alarm_texts(), what="the operator's alarm")
    # the line may go on: Ready is back, and the next part is taken
    line.player.release(ControlBit.TRIGGER)
    assert StatusBit.OK in StatusBit(line.player.cycle(56)[Status.WORD])


def test_a_trigger_while_busy_or_unacknowledged_is_refused_and_counted(line: Line) -> None:
    line.delay[0] = 0.6  # the part in hand takes a while
    line.player.wait_for(StatusBit.READY)
    line.player.trigger(1)
    line.player.wait_for(StatusBit.BUSY)
    line.player.release(ControlBit.TRIGGER)
    line.player.trigger(2)  # while Busy
    regs = line.player.wait_for(StatusBit.ERROR)
    assert regs[Status.ERROR_CODE] == ErrorCode.TRIGGER_WHILE_BUSY
    assert regs[Status.TRIGGERS_REFUSED] == 1
    line.delay[0] = 0.0
    result = line.player.wait_for(StatusBit.RESULT_READY)
    assert result[Status.PART_ID] == 1  # the part in hand, not the refused one
    line.player.release(ControlBit.TRIGGER)
    line.player.trigger(3)  # its result is not acknowledged yet
    wait_until(lambda: line.player.status()[Status.TRIGGERS_REFUSED] == 2)
    assert len(line.collector.inspections) == 1  # refused triggers took no part
    wait_until(lambda: "PLC trigger refused" in line.alarm_texts())


def test_the_lot_number_from_the_plc_goes_with_the_parts(line: Line) -> None:
    line.player.set_lot("LOT-42A")
    wait_until(lambda: line.station.batch.get("lot") == "LOT-42A", what="the lot")
    line.player.cycle(1)
    assert line.collector.inspections[-1].lot == "LOT-42A"


@pytest.fixture
def server_line(tmp_path: Path) -> Iterator[Line]:
    running = start_line("server", tmp_path)
    try:
        yield running
    finally:
        stop_line(running)


def test_bad_requests_get_exceptions_and_reasons_and_never_stop_the_server(
    server_line: Line,
) -> None:
    line, player = server_line, server_line.player
    got = player.set_word(0x0080)  # an undefined control bit
    assert got.isError() and got.exception_code == 3
    assert line.player.status()[Status.ERROR_CODE] == ErrorCode.BAD_WRITE
    got = player.client.write_register(100, 1)  # the station's own status block
    assert got.isError() and got.exception_code == 2
    got = player.client.write_registers(5000, [1, 2])  # far outside both blocks
    assert got.isError() and got.exception_code == 2
    got = player.client.read_holding_registers(5000, count=2)
    assert got.isError() and got.exception_code == 2
    got = player.client.read_coils(0, count=1)  # holding registers only
    assert got.isError() and got.exception_code == 1
    got = player.write(3, [0xFF41])  # a lot character that is not ASCII
    assert got.isError() and got.exception_code == 3
    # bytes that are no Modbus frame at all, on a connection of their own
    with socket.create_connection(("127.0.0.1", line.link.port), timeout=2) as raw:
        raw.sendall(b"\x00\x01\x00\x00\x00\xff\x01\x03garbage" * 10)
        time.sleep(0.1)
    wait_until(lambda: "outside the control block" in line.alarm_texts())
    assert "undefined bits 0x0080" in line.alarm_texts()
    assert "not a printable ASCII character" in line.alarm_texts()
    player.set_word(0)
    player.pulse(ControlBit.RESET_ALARMS)
    player.release(ControlBit.RESET_ALARMS)
    assert StatusBit.OK in StatusBit(player.cycle(77)[Status.WORD])  # still serving


def test_a_plc_that_goes_silent_or_away_is_an_alarm_and_the_link_shows_it_lost(
    tmp_path: Path,
) -> None:
    """Server role: a connected PLC that stops polling, then one that closes its connection,
    each raise an alarm and show the link failed; a PLC polling again clears it."""
    line = start_line("server", tmp_path, watchdog_s=0.5)
    try:
        player, link = line.player, line.link
        player.cycle(5)
        assert link.state().state == "connected"
        wait_until(lambda: link.state().state == "failed", 3.0, "silence noticed")
        assert "no request from the PLC" in link.state().reason
        wait_until(lambda: "PLC silent" in line.alarm_texts(), 3.0, "silence alarm")
        assert any(a.source == "plc" for a in line.station.alarms())

        player.status()  # polling again
        wait_until(lambda: link.state().state == "connected", 3.0, "back")
        wait_until(lambda: "PLC polling the station again" in line.alarm_texts(), 3.0, "news")
        assert not [a for a in line.station.alarms() if a.source == "plc"]

        player.close()
        wait_until(lambda: link.state().reason == "the PLC closed its connection", 3.0, "gone")
        assert link.state().state == "failed"
        wait_until(lambda: "PLC gone" in line.alarm_texts(), 3.0, "gone alarm")
    finally:
        stop_line(line)


def test_the_client_says_when_the_plc_is_away_and_catches_up_when_it_is_back(
    tmp_path: Path,
) -> None:
    plc = PlcRegisters()  # its port, but nothing listens yet
    recipes = {1: software_recipe_file(tmp_path, "product-a", tool_id="bright")}
    settings = PlcSettings(role="client", port=plc.port, poll_ms=5, retry_s=0.1, recipes=recipes)
    collector = Collector()
    link = PlcLink(settings, on_changeover=lambda n, p: None)

    def make_station(recipe: Recipe) -> Station:
        st = Station(
            recipe,
            store_results=False,
            make_tools=lambda: [SlowBright(0.0, [0.0])],
            trigger_inputs=[link],
            line_sinks=[link],
        )
        st.add_listener(collector)
        return st

    switcher = StationSwitcher(make_station, [link])
    link.open()
    switcher.start(load_recipe(recipes[1]), recipes[1])
    try:
        wait_until(lambda: link.state().state == "failed")
        state = link.state()
        assert "not reached" in state.describe() and str(plc.port) in state.describe()
        wait_until(lambda: "not reached" in "\n".join(u.message for u in collector.status))
        assert switcher.station is not None and switcher.station.running  # inspection goes on
        plc.start()
        wait_until(lambda: link.state().state == "connected", timeout_s=5)
        wait_until(lambda: switcher.station.camera_connected("cam1"))  # type: ignore[union-attr]
        player = PlcPlayer(plc.port, hold_s=0.02)
        try:
            assert StatusBit.OK in StatusBit(player.cycle(5)[Status.WORD])
        finally:
            player.close()
    finally:
        switcher.stop()
        link.close()
        plc.stop()


def test_two_servers_cannot_share_a_port(tmp_path: Path) -> None:
    port = free_port()
    first = PlcLink(PlcSettings(role="server", port=port), on_changeover=lambda n, p: None)
    first.open()
    try:
        second = PlcLink(PlcSettings(role="server", port=port), on_changeover=lambda n, p: None)
        with pytest.raises(Exception, match=f"cannot listen on 127.0.0.1:{port}"):
            second.open()
    finally:
        first.close()
    assert not [t for t in threading.enumerate() if t.name == "plc-modbus-server"]
