"""The station's OPC UA server against a real asyncua client on 127.0.0.1: browse, subscribe to
results (variables and events), trigger, change the recipe over, and be refused when not allowed."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from asyncua import ua
from asyncua.sync import Client
from support.modbus_plc import free_port
from support.pipeline_tools import BrightnessTool, Collector, software_recipe_file

from inspection.integrations.opcua_server import NAMESPACE, OpcUaLink
from inspection.pipeline.changeover import StationSwitcher
from inspection.pipeline.station import Station
from inspection.recipe import Recipe, load_recipe
from inspection.recipe.opcua import OpcUaSettings


@dataclass
class Line:
    link: OpcUaLink
    switcher: StationSwitcher
    collector: Collector
    url: str

    def client(self, user: str | None = "op", password: str | None = "op-pw") -> Client:
        client = Client(self.url, timeout=5)
        if user is not None:
            client.set_user(user)
            client.set_password(password or "")
        try:
            client.connect()
        except BaseException:
            with contextlib.suppress(Exception):  # refused: let go of its thread too
                client.disconnect()
            raise
        return client


@pytest.fixture
def line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Line]:
    monkeypatch.setenv("OPCUA_OP_PW", "op-pw")
    a, b = (
        software_recipe_file(tmp_path, "product-a", tool_id="bright"),
        software_recipe_file(tmp_path, "product-b", tool_id="bright"),
    )
    settings = OpcUaSettings(
        port=free_port(),
        users=[
            {"name": "op", "password_env": "OPCUA_OP_PW", "role": "operator"},
            {"name": "view", "password": "view-pw", "role": "viewer"},
        ],
        recipes={1: a, 2: b},
    )
    collector = Collector()
    switcher: StationSwitcher

    def make_station(recipe: Recipe) -> Station:
        minimum = 0.0 if recipe.name == "product-a" else 1e9
        st = Station(
            recipe,
            store_results=False,
            make_tools=lambda: [BrightnessTool(tool_id="bright", minimum=minimum)],
            trigger_inputs=[link],
            line_sinks=[link],
        )
        st.add_listener(collector)
        return st

    link = OpcUaLink(settings, on_changeover=lambda n, f: switcher.changeover(link, n, f))
    switcher = StationSwitcher(make_station, [link])
    link.open()
    switcher.start(load_recipe(a), a)
    try:
        yield Line(link, switcher, collector, f"opc.tcp://127.0.0.1:{settings.port}/lineside/")
    finally:
        switcher.stop()
        link.close()


def wait_until(ok, timeout_s: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not ok():
        assert time.monotonic() < deadline, f"{what} not within {timeout_s} s"
        time.sleep(0.02)


class Handler:
    def __init__(self) -> None:
        self.changes: list[tuple[str, Any]] = []
        self.events: list[Any] = []
        self.lock = threading.Lock()

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        with self.lock:
            self.changes.append((str(node), val))

    def event_notification(self, event: Any) -> None:
        with self.lock:
            self.events.append(event)


def nodes(client: Client) -> dict[str, Any]:
    idx = client.get_namespace_index(NAMESPACE)
    root = client.nodes.objects.get_child([f"{idx}:Lineside"])

    def at(*path: str) -> Any:
        return root.get_child([f"{idx}:{p}" for p in path])

    return {
        "idx": idx,
        "root": root,
        "state": at("VisionStateMachine", "CurrentState"),
        "recipes": at("RecipeManagement"),
        "recipe": at("RecipeManagement", "CurrentRecipe"),
        "number": at("RecipeManagement", "CurrentRecipeNumber"),
        "results": at("Results"),
        "verdict": at("Results", "Verdict"),
        "inspection": at("Results", "InspectionId"),
        "event_type": client.nodes.base_event_type.get_child([f"{idx}:ResultReadyEventType"]),
    }


def test_browse_subscribe_trigger_and_read_the_result(line: Line) -> None:
    client = line.client()
    try:
        n = nodes(client)
        wait_until(lambda: n["state"].read_value() == "Operational", what="Operational")
        assert n["recipe"].read_value() == "product-a v1" and n["number"].read_value() == 1
        handler = Handler()
        sub = client.create_subscription(20, handler)
        sub.subscribe_data_change(n["verdict"])
        sub.subscribe_events(n["results"], n["event_type"])
        time.sleep(0.3)
        trigger_id = n["root"].call_method(f"{n['idx']}:Trigger")
        assert isinstance(trigger_id, int) and trigger_id >= 1
        wait_until(lambda: handler.events, what="the result event")
        part = line.collector.inspections[-1]
        event = handler.events[-1]
        assert event.InspectionId == part.inspection_id and event.Verdict == "PASS"
        assert event.PartNumber == part.part_seq + 1
        wait_until(lambda: "PASS" in [v for _, v in handler.changes], what="the Verdict change")
        assert n["inspection"].read_value() == part.inspection_id
        listed = n["recipes"].call_method(f"{n['idx']}:GetRecipeList")
        assert listed == ["1: product-a.yaml", "2: product-b.yaml"]
        sub.delete()
    finally:
        client.disconnect()
    (state,) = [s for s in line.switcher.station.outputs() if s.output_id == "OPC UA"]  # type: ignore[union-attr]
    assert state.state == "connected" and state.sent >= 1


def test_prepare_recipe_changes_over_and_bad_arguments_are_refused(line: Line) -> None:
    client = line.client()
    try:
        n = nodes(client)
        method = f"{n['idx']}:PrepareRecipe"
        answer = n["recipes"].call_method(method, ua.Variant(2, ua.VariantType.UInt16))
        assert "recipe 2" in answer
        wait_until(lambda: n["number"].read_value() == 2, what="recipe 2 running")
        wait_until(lambda: n["recipe"].read_value() == "product-b v1", what="its name")
        wait_until(lambda: n["state"].read_value() == "Operational", what="Operational again")
        assert line.switcher.station.recipe.name == "product-b"  # type: ignore[union-attr]
        for bad in (
            ua.Variant(7, ua.VariantType.UInt16),  # not in the table
            ua.Variant("two", ua.VariantType.String),  # not a number
        ):
            with pytest.raises(ua.UaStatusCodeError) as refused:
                n["recipes"].call_method(method, bad)
            assert refused.value.code == ua.StatusCodes.BadInvalidArgument
        with pytest.raises(ua.UaStatusCodeError):
            n["recipes"].call_method(method)  # no argument at all
        assert n["number"].read_value() == 2 and line.switcher.changeovers == 1
    finally:
        client.disconnect()


def test_who_may_do_what(line: Line) -> None:
    with pytest.raises(ua.UaError):  # anonymous access is off by default
        line.client(user=None)
    with pytest.raises(ua.UaError):
        line.client(user="op", password="not-it")
    viewer = line.client(user="view", password="view-pw")
    try:
        n = nodes(viewer)
        assert n["state"].read_value() in ("Operational", "Error", "Preoperational")
        with pytest.raises(ua.UaStatusCodeError) as refused:
            n["root"].call_method(f"{n['idx']}:Trigger")
        assert refused.value.code == ua.StatusCodes.BadUserAccessDenied
    finally:
        viewer.disconnect()
    assert not line.collector.inspections  # the refused call took no part


def test_signed_and_encrypted_with_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a certificate and its key the server offers Basic256Sha256 (sign and encrypt); a
    client with its own certificate signs in and reads."""
    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from inspection.integrations.opcua_server import APPLICATION_URI

    files = {k: tmp_path / f"{k}" for k in ("server.pem", "server.der", "client.pem", "client.der")}
    for who, uri, use in (
        ("server", APPLICATION_URI, ExtendedKeyUsageOID.SERVER_AUTH),
        ("client", "urn:lineside:test-client", ExtendedKeyUsageOID.CLIENT_AUTH),
    ):
        asyncio.run(
            setup_self_signed_certificate(
                files[f"{who}.pem"],
                files[f"{who}.der"],
                uri,
                "127.0.0.1",
                [use],
                {"commonName": who},
            )
        )
    settings = OpcUaSettings(
        port=free_port(),
        users=[{"name": "op", "password": "op-pw", "role": "operator"}],
        certificate=files["server.der"],
        private_key=files["server.pem"],
    )
    link = OpcUaLink(settings, on_changeover=lambda n, f: None)
    link.open()
    try:
        client = Client(f"opc.tcp://127.0.0.1:{settings.port}/lineside/", timeout=5)
        client.application_uri = "urn:lineside:test-client"
        client.set_security_string(
            f"Basic256Sha256,SignAndEncrypt,{files['client.der']},{files['client.pem']},"
            f"{files['server.der']}"
        )
        client.set_user("op")
        client.set_password("op-pw")
        client.connect()
        try:
            policy = client.aio_obj.security_policy
            assert "Basic256Sha256" in policy.URI
            assert policy.Mode == ua.MessageSecurityMode.SignAndEncrypt
            assert nodes(client)["state"].read_value() == "Preoperational"  # no station yet
        finally:
            client.disconnect()
    finally:
        link.close()
