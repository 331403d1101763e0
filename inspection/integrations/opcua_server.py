"""The station's OPC UA server (asyncua), following OPC UA for Machine Vision (OPC 40100) where
practical. Under Objects/Lineside (namespace ``urn:lineside:machine-vision``):

* ``VisionStateMachine/CurrentState``: Preoperational (starting, changing recipe), Halted
  (stopped), Error (running but not able to inspect: not recording, a camera away) or
  Operational;
* ``RecipeManagement``: ``GetRecipeList()`` → the table as "number: file", ``PrepareRecipe(n)``
  (changes over between parts; the answer says it started), ``CurrentRecipe`` and
  ``CurrentRecipeNumber``;
* ``Results``: the last result as variables (``Verdict``, ``Reason``, ``InspectionId``,
  ``PartNumber``, ``ToolResults`` as JSON, ``Time``) and a ``ResultReadyEventType`` event per
  part, emitted by ``Results``;
* ``Trigger()`` → the trigger id, and ``ResetAlarms()``.

Security: anonymous sign-in only when the settings allow it, and then reading only; users sign in
with name and password; calling a method needs the ``operator`` role (a ``viewer`` is refused
with BadUserAccessDenied). With a certificate, Basic256Sha256 (sign and encrypt) is offered too.

Like the PLC link it lives as long as the program, across recipes: ``attach`` names the station,
it is a trigger input and a line sink (results once recorded), and a changeover runs
``on_changeover`` on a thread of its own and is answered with ``changeover_done``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Literal

from asyncua import Server, ua
from asyncua.crypto.permission_rules import PermissionRuleset, User, UserRole
from asyncua.server.user_managers import UserManager

from inspection.errors import LinesideError
from inspection.integrations.base import FireTrigger
from inspection.integrations.credentials import output_password
from inspection.integrations.output_runner import OutputState
from inspection.integrations.plc.handshake import LineStation
from inspection.integrations.server_thread import ServerThread
from inspection.recipe.opcua import OpcUaSettings
from inspection.types import Inspection, StatusLevel, StatusUpdate

log = logging.getLogger(__name__)

NAMESPACE = "urn:lineside:machine-vision"
APPLICATION_URI = "urn:lineside:station"
"""The server's application URI (a certificate for it names this URI)."""
STATES = ("Preoperational", "Halted", "Error", "Operational")
START_TIMEOUT_S = 15.0
STATE_EVERY_S = 0.2

Changeover = Callable[[int, Path], None]
_CALL = ua.NodeId(ua.ObjectIds.CallRequest_Encoding_DefaultBinary)  # type: ignore[arg-type]
_WRITE = ua.NodeId(ua.ObjectIds.WriteRequest_Encoding_DefaultBinary)  # type: ignore[arg-type]


def _refused(code: int) -> ua.StatusCode:
    """A method's answer that it did nothing, and why (asyncua turns a raised error into
    BadUnexpectedError; a returned status reaches the client as it is)."""
    return ua.StatusCode(ua.UInt32(code))


class _Users(UserManager):
    """Name and password against the settings; anonymous only when allowed."""

    def __init__(self, settings: OpcUaSettings) -> None:
        self._passwords = {
            u.name: output_password("opcua", u.password, u.password_env, f"OPC UA user {u.name}")
            for u in settings.users
        }
        self._anonymous = settings.anonymous

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username is None and certificate is None:
            return User(role=UserRole.Anonymous) if self._anonymous else None
        if username is not None and self._passwords.get(username) == password:
            return User(role=UserRole.User, name=username)
        return None


class _Roles(PermissionRuleset):
    """Viewers (and anonymous clients) read, browse and subscribe; operators also call."""

    def __init__(self, settings: OpcUaSettings) -> None:
        self._operators = {u.name for u in settings.users if u.role == "operator"}

    def check_validity(self, user: User | None, action_type: ua.NodeId, body: Any) -> bool:
        if action_type in (_CALL, _WRITE):
            return user is not None and user.name in self._operators
        return True


class OpcUaLink:
    """The OPC UA server of one station. Thread-safe: station threads hand over to its loop."""

    output_id = "OPC UA"

    def __init__(self, settings: OpcUaSettings, *, on_changeover: Changeover) -> None:
        self.settings = settings
        self._on_changeover = on_changeover
        self._users = _Users(settings)  # checked now: a password variable not set stops here
        self.name = f"OPC UA server opc.tcp://{settings.host}:{settings.port}/lineside"
        self.endpoint = f"opc.tcp://{settings.host}:{settings.port}/lineside/"
        self._lock = threading.Lock()
        self._station: LineStation | None = None
        self._fire: FireTrigger | None = None
        self._recipe_number = 0
        self._recipe_name = ""
        self._changing_to: int | None = None
        self._server_thread = ServerThread("opcua-server", self._serve, self._crashed)
        self._stopping: asyncio.Event | None = None
        self._nodes: dict[str, Any] = {}
        self._shown: tuple[str, str] | None = None  # (state, recipe) last written
        self._event: Any = None
        self.results = 0
        self.reason = ""

    # ---- the program's side ----------------------------------------------------------------

    def open(self) -> None:
        """Start serving; LinesideError naming the endpoint when it cannot."""
        try:
            self._server_thread.start(START_TIMEOUT_S)
        except Exception as exc:
            raise LinesideError(f"OPC UA server cannot serve {self.endpoint}: {exc}") from None

    def close(self, timeout_s: float = 5.0) -> None:
        loop, stopping = self._server_thread.loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopping.set)
        self._server_thread.join(timeout_s)

    def attach(self, station: LineStation, tool_ids: list[str]) -> None:
        with self._lock:
            self._station = station
            self._recipe_name = f"{station.recipe.name} v{station.recipe.version}"

    def recipe_opened(self, recipe_file: Path) -> None:
        wanted = recipe_file.resolve()
        number = next(
            (n for n, p in sorted(self.settings.recipes.items()) if p.resolve() == wanted), 0
        )
        with self._lock:
            self._recipe_number = number
        self._set_soon("CurrentRecipeNumber", number, ua.VariantType.UInt16)

    def changeover_done(self, number: int, error: str | None) -> None:
        with self._lock:
            if self._changing_to != number:
                return
            self._changing_to = None
            if error is None:
                self._recipe_number = number
        if error is None:
            self._set_soon("CurrentRecipeNumber", number, ua.VariantType.UInt16)
            self._post(StatusLevel.INFO, f"OPC UA changeover: recipe {number} running")
        else:
            self._post(StatusLevel.WARNING, f"OPC UA recipe {number} not loaded: {error}")

    # ---- the station's side: a trigger input and a line sink -------------------------------

    def start(self, fire: FireTrigger) -> None:
        with self._lock:
            self._fire = fire

    def stop(self, timeout_s: float) -> None:
        with self._lock:
            self._fire = None

    def on_inspection(self, inspection: Inspection) -> None:
        if self._server_thread.call(self._publish(inspection)) is not None:
            self.results += 1

    def on_status(self, update: StatusUpdate) -> None:
        """The state machine follows the station (read every few hundred ms)."""

    def state(self) -> OutputState:
        up = self._server_thread.loop is not None and not self.reason
        return OutputState(
            output_id=self.output_id,
            link=self.name,
            state="connected" if up else "failed",
            waiting=0,
            sent=self.results,
            dropped=0,
            reason=self.reason or self._current_state(),
        )

    # ---- the server -----------------------------------------------------------------------------

    def _crashed(self, exc: Exception) -> None:
        self.reason = f"stopped: {exc}"
        self._post(StatusLevel.ALARM, f"OPC UA server stopped: {exc}")

    async def _serve(self, started: Future[None]) -> None:
        s = self.settings
        server = Server(user_manager=self._users)
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("Lineside inspection station")
        await server.set_application_uri(APPLICATION_URI)
        tokens: list[type] = [ua.UserNameIdentityToken]
        if s.anonymous:
            tokens.append(ua.AnonymousIdentityToken)
        policies = [ua.SecurityPolicyType.NoSecurity]
        if s.certificate is not None and s.private_key is not None:
            await server.load_certificate(str(s.certificate))
            await server.load_private_key(str(s.private_key))
            policies.append(ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt)
        server.set_security_policy(policies, permission_ruleset=_Roles(s))  # type: ignore[arg-type]
        server.set_identity_tokens(tokens)
        await self._build(server)
        self._stopping = asyncio.Event()
        async with server:
            started.set_result(None)
            while not self._stopping.is_set():
                await self._show_state()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), STATE_EVERY_S)

    async def _build(self, server: Server) -> None:
        idx = await server.register_namespace(NAMESPACE)
        root = await server.nodes.objects.add_object(idx, "Lineside")
        machine = await root.add_object(idx, "VisionStateMachine")
        recipes = await root.add_object(idx, "RecipeManagement")
        results = await root.add_object(idx, "Results")
        n = self._nodes
        n["CurrentState"] = await machine.add_variable(idx, "CurrentState", "Preoperational")
        n["CurrentRecipe"] = await recipes.add_variable(idx, "CurrentRecipe", "")
        n["CurrentRecipeNumber"] = await recipes.add_variable(
            idx, "CurrentRecipeNumber", 0, ua.VariantType.UInt16
        )
        for name, value, kind in (
            ("Verdict", "", ua.VariantType.String),
            ("Reason", "", ua.VariantType.String),
            ("InspectionId", "", ua.VariantType.String),
            ("PartNumber", 0, ua.VariantType.UInt64),
            ("ToolResults", "[]", ua.VariantType.String),
            ("Time", dt.datetime.fromtimestamp(0, dt.UTC), ua.VariantType.DateTime),
        ):
            n[name] = await results.add_variable(idx, name, value, kind)
        await recipes.add_method(
            idx, "GetRecipeList", self._recipe_list, [], [ua.VariantType.String]
        )
        await recipes.add_method(
            idx,
            "PrepareRecipe",
            self._prepare_recipe,
            [ua.VariantType.UInt16],
            [ua.VariantType.String],
        )
        await root.add_method(idx, "Trigger", self._trigger, [], [ua.VariantType.UInt32])
        await root.add_method(idx, "ResetAlarms", self._reset, [], [])
        event_type = await server.create_custom_event_type(
            idx,
            "ResultReadyEventType",
            ua.ObjectIds.BaseEventType,
            [
                ("Verdict", ua.VariantType.String),
                ("Reason", ua.VariantType.String),
                ("InspectionId", ua.VariantType.String),
                ("PartNumber", ua.VariantType.UInt64),
            ],
        )
        self._event = await server.get_event_generator(event_type, results.nodeid)

    # ---- methods (on the server's loop) --------------------------------------------------------

    def _recipe_list(self, parent: ua.NodeId) -> list[ua.Variant]:
        names = [f"{n}: {p.name}" for n, p in sorted(self.settings.recipes.items())]
        return [ua.Variant(names, ua.VariantType.String, is_array=True)]

    def _prepare_recipe(
        self, parent: ua.NodeId, *args: ua.Variant
    ) -> list[ua.Variant] | ua.StatusCode:
        if len(args) != 1:
            self._post(
                StatusLevel.WARNING,
                f"OPC UA PrepareRecipe called with {len(args)} arguments, not 1",
            )
            return _refused(
                ua.StatusCodes.BadArgumentsMissing
                if not args
                else ua.StatusCodes.BadTooManyArguments
            )
        value = args[0].Value if isinstance(args[0], ua.Variant) else args[0]
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value not in self.settings.recipes
        ):
            known = ", ".join(map(str, sorted(self.settings.recipes))) or "none"
            self._post(
                StatusLevel.WARNING, f"OPC UA asked for recipe {value!r}; the table has {known}"
            )
            return _refused(ua.StatusCodes.BadInvalidArgument)
        with self._lock:
            if self._changing_to is not None:
                return _refused(ua.StatusCodes.BadInvalidState)
            self._changing_to = value
        path = self.settings.recipes[value]
        self._post(StatusLevel.INFO, f"OPC UA changeover to recipe {value} ({path.name})")

        def run() -> None:
            try:
                self._on_changeover(value, path)
            except Exception as exc:  # the client must hear how it ended
                log.exception("OPC UA changeover to recipe %d failed", value)
                self.changeover_done(value, f"{type(exc).__name__}: {exc}")

        threading.Thread(target=run, name=f"opcua-changeover-{value}", daemon=True).start()
        return [ua.Variant(f"changing over to recipe {value}", ua.VariantType.String)]

    def _trigger(self, parent: ua.NodeId) -> list[ua.Variant] | ua.StatusCode:
        with self._lock:
            fire = self._fire
        if fire is None:
            return _refused(ua.StatusCodes.BadInvalidState)
        try:
            trigger_id = fire()
        except LinesideError as exc:
            self._post(StatusLevel.WARNING, f"OPC UA trigger not taken: {exc}")
            return _refused(ua.StatusCodes.BadInvalidState)
        return [ua.Variant(trigger_id, ua.VariantType.UInt32)]

    def _reset(self, parent: ua.NodeId) -> list[ua.Variant]:
        with self._lock:
            station = self._station
        if station is not None:
            station.acknowledge_alarms()
        return []

    # ---- publishing -------------------------------------------------------------------------

    async def _publish(self, inspection: Inspection) -> None:
        n = self._nodes
        tools = [
            {"id": r.tool_id, "verdict": r.verdict.value, "reason": r.reason}
            for r in inspection.tool_results
        ]
        at = dt.datetime.fromtimestamp(inspection.wall_time, dt.UTC)
        part = inspection.part_seq + 1
        await n["Verdict"].write_value(inspection.verdict.value)
        await n["Reason"].write_value(inspection.reason)
        await n["InspectionId"].write_value(inspection.inspection_id)
        await n["PartNumber"].write_value(ua.Variant(part, ua.VariantType.UInt64))
        await n["ToolResults"].write_value(json.dumps(tools))
        await n["Time"].write_value(ua.Variant(at, ua.VariantType.DateTime))
        event = self._event.event
        event.Verdict = inspection.verdict.value
        event.Reason = inspection.reason
        event.InspectionId = inspection.inspection_id
        event.PartNumber = part
        event.Severity = 100 if inspection.verdict.value == "PASS" else 500
        await self._event.trigger(message=f"part {part}: {inspection.verdict.value}")

    async def _show_state(self) -> None:
        """The state and recipe name, written only when they changed (subscribers are told of
        each write)."""
        with self._lock:
            name = self._recipe_name
        shown = (self._current_state(), name)
        if shown != self._shown:
            await self._nodes["CurrentState"].write_value(shown[0])
            await self._nodes["CurrentRecipe"].write_value(shown[1])
            self._shown = shown

    def _current_state(self) -> Literal["Preoperational", "Halted", "Error", "Operational"]:
        with self._lock:
            station, fire, changing = self._station, self._fire, self._changing_to
        if station is None or changing is not None:
            return "Preoperational"
        if fire is None:
            return "Halted"
        return "Operational" if station.ready_for_parts else "Error"

    def _set_soon(self, node: str, value: Any, kind: ua.VariantType) -> None:
        if node in self._nodes:
            self._server_thread.call(self._nodes[node].write_value(ua.Variant(value, kind)))

    def _post(self, level: StatusLevel, message: str) -> None:
        station = self._station
        if station is not None:
            station.post_status(level, "opcua", message)
        else:
            log.info("opcua: %s", message)
