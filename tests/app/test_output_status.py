"""The operator reads each output's state in the status line: connected, waiting, not connected."""

from __future__ import annotations

from app import theme
from app.link_badge import LinkBadge
from app.status_panel import StationStatus
from inspection.integrations.output_runner import OutputState


def _state(state: str, waiting: int = 0, dropped: int = 0, reason: str = "") -> OutputState:
    return OutputState(
        output_id="mqtt",
        link="MQTT broker 10.1.2.3:1883",
        state=state,  # type: ignore[arg-type]
        waiting=waiting,
        sent=7,
        dropped=dropped,
        reason=reason,
    )


def test_outputs_show_in_a_word_with_the_whole_state_in_the_tooltip(qtbot) -> None:
    status = StationStatus()
    qtbot.addWidget(status)
    status.show()
    status.show_outputs([])
    assert not status.outputs.isVisible()  # a recipe with no outputs shows nothing

    status.show_outputs([_state("connected")])
    assert status.outputs.isVisible() and status.outputs.text() == "mqtt connected"
    assert theme.TEXT in status.outputs.styleSheet()

    status.show_outputs([_state("buffering", waiting=1234)])
    assert status.outputs.text() == "mqtt 1,234 waiting"
    assert theme.WARNING_BACKGROUND in status.outputs.styleSheet()

    status.show_outputs([_state("failed", waiting=12, reason="connection refused")])
    assert status.outputs.text() == "mqtt NOT CONNECTED"
    assert status.outputs.toolTip() == (
        "MQTT broker 10.1.2.3:1883 not reached: connection refused; 12 result(s) kept on disk"
    )
    assert status.outputs.font().pixelSize() == status.fps.font().pixelSize()


def test_the_plc_badge_is_large_in_the_header_and_red_when_the_plc_is_lost(qtbot) -> None:
    badge = LinkBadge()
    qtbot.addWidget(badge)
    badge.set_text_px(28, 80)
    badge.show_states([_state("connected")])  # outputs only: no PLC, no badge
    assert badge.isHidden() and badge.state == ""

    def plc(state: str, reason: str = "") -> OutputState:
        return OutputState(
            output_id="PLC",
            link="PLC (Modbus server 0.0.0.0:502)",
            state=state,  # type: ignore[arg-type]
            waiting=0,
            sent=3,
            dropped=0,
            reason=reason,
        )

    badge.show_states([_state("connected"), plc("starting", "no PLC connected yet")])
    assert not badge.isHidden() and badge.text() == "PLC WAITING"
    assert "no PLC connected yet" in badge.toolTip()
    badge.show_states([plc("connected")])
    assert badge.text() == "PLC OK" and theme.ALARM_BACKGROUND not in badge.styleSheet()
    badge.show_states([plc("failed", "no request from the PLC for over 5 s")])
    assert badge.text() == "PLC LOST" and theme.ALARM_BACKGROUND in badge.styleSheet()
    assert badge.toolTip() == (
        "PLC (Modbus server 0.0.0.0:502) not reached: no request from the PLC for over 5 s"
    )
    assert badge.font().pixelSize() == 28 and badge.minimumHeight() == 80
    badge.show_states([])
    assert badge.isHidden()
