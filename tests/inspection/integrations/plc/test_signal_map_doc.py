"""The README's signal map is the code's: every register, bit and error code, by offset and name."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspection.integrations.plc.signals import (
    ERROR_TEXT,
    Control,
    ControlBit,
    ErrorCode,
    Status,
    StatusBit,
)

README = Path(__file__).resolve().parents[4] / "README.md"


@pytest.fixture(scope="module")
def section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Telling the line (PLC over Modbus TCP)")
    return text[start : text.index("\n## ", start + 10)]


def test_every_register_is_in_the_readme_at_its_offset(section: str) -> None:
    control = section[: section.index("Status block")]
    status = section[section.index("Status block") :]
    for member in Control:
        assert f"| +{member.value} | `{member.name}` |" in control, member
    for member in Status:
        assert f"| +{member.value} | `{member.name}` |" in status, member


@pytest.mark.parametrize("bits", [ControlBit, StatusBit])
def test_every_bit_is_in_the_readme_at_its_place(section: str, bits: type) -> None:
    for bit in bits:
        assert f"bit {bit.value.bit_length() - 1} `{bit.name}`" in section, bit


def test_every_error_code_is_in_the_readme_and_explained(section: str) -> None:
    for code in ErrorCode:
        assert f"| {code.value} | `{code.name}` |" in section, code
        assert code in ERROR_TEXT


def test_the_settings_know_the_blocks_sizes() -> None:
    """The settings check the two blocks do not overlap with the sizes the signal map has."""
    from inspection.integrations.plc import signals
    from inspection.recipe import plc

    assert plc.CONTROL_REGISTERS == signals.CONTROL_REGISTERS
    assert plc.STATUS_REGISTERS == signals.STATUS_REGISTERS
