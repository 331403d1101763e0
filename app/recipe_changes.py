"""The main window's ways of changing the recipe in force: save an edit as the next version,
apply a tuned threshold or limit, an edited tool or a re-taught model, roll back, and the dialogs
that lead there (Recipe → Versions…, Recipe → Edit tools…, Teach → Re-score…). Every change
becomes a kept version with its reason, run by opening it: the station takes it between parts.

A mixin of ``MainWindow`` (it uses the window's recipe, station, paths, jobs and status bar).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app import recipe_versions
from app.recipe_saving import recipe_target, save_recipe, version_after, version_on_disk
from app.rescore_dialog import RescoreDialog
from app.tool_editor import ToolEditor
from inspection.errors import LinesideError, RecipeError
from inspection.recipe import Recipe
from inspection.tuning import model_apply, parameters, recipe_edit, versions
from inspection.tuning.scores import TuningError
from inspection.tuning.versions import RecipeVersion

if TYPE_CHECKING:
    from inspection.types import Frame

log = logging.getLogger(__name__)


class RecipeChanges:
    """Recipe changes for ``MainWindow`` (see the module's docstring)."""

    # provided by MainWindow
    paths: Any
    jobs: Any
    _recipe_path: Path | None

    def save_and_reload(self, recipe: Recipe) -> Path | None:
        """Write a recipe changed on screen (never into the install folder) as its next version,
        and run it."""
        target = recipe_target(self._recipe_path, recipe, self.paths)
        # counted on from what was saved last: a dialog still holding the version it opened
        # with must not give two different recipes the same version
        saved = version_on_disk(target)
        running = self.recipe
        base = saved or (running.version if running is not None else recipe.version)
        # never a version used before, also after a rollback (inspection/tuning/versions.py)
        recipe = recipe.model_copy(update={"version": version_after(target, base)})
        try:
            save_recipe(recipe, target, in_force=running)
        except (OSError, RecipeError) as exc:
            log.warning("recipe not saved: %s", exc)
            QMessageBox.critical(self, "Recipe not saved", f"{target}: {exc}")
            return None
        self.statusBar().showMessage(
            f"Recipe {recipe.name} saved as version {recipe.version} to {target}", 8000
        )
        self.open_recipe(target)
        return target

    # ---- recipe versions: apply a threshold, roll back --------------------------------------------

    def _versions_path(self) -> Path | None:
        """The recipe file whose versions are kept for the recipe in force (a shipped recipe's
        are kept with its copy in the user's recipe folder, where changes to it are saved)."""
        recipe = self.recipe
        if recipe is None:
            return self._recipe_path
        return recipe_target(self._recipe_path, recipe, self.paths)

    def open_versions_dialog(self) -> recipe_versions.RecipeVersionsDialog | None:
        """Recipe → Versions…: every version with its reason and differences, and the way back."""
        path = self._versions_path()
        if path is None:
            self.statusBar().showMessage("Open a recipe first.", 5000)
            return None
        dialog = recipe_versions.RecipeVersionsDialog(path, self)
        dialog.rollbackRequested.connect(self.roll_back)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def apply_threshold(self, tool_id: str, threshold: float) -> bool:
        """Apply a tuned threshold: asks why (required), saying what happens, writes it as the
        recipe's next version and runs it; the station takes it between parts."""
        recipe = self.recipe
        target = self._versions_path()
        if recipe is None or target is None:
            self.statusBar().showMessage("Open a recipe first.", 5000)
            return False
        try:
            versions.with_threshold(recipe, tool_id, threshold)  # refused before asking
            new_version = version_after(target, recipe.version)
        except RecipeError as exc:
            QMessageBox.critical(self, "Threshold not applied", str(exc))
            return False
        tool = next(t for t in recipe.tools if t.id == tool_id)
        before = getattr(tool, "threshold", None)
        before_text = f"{before:g}" if before is not None else "the taught one"
        reason = recipe_versions.ask_reason(
            self,
            "Apply threshold",
            f"Apply threshold {threshold:g} to {tool_id}?",
            f"{recipe.name} is saved as version {new_version} ({tool_id} threshold "
            f"{before_text} → {threshold:g}). Parts from the next one on are inspected with "
            f"version {new_version} (threshold {threshold:g}) and record it; a part being "
            f"inspected now finishes with version {recipe.version}. Version {recipe.version} "
            "stays kept: Recipe → Versions… brings it back.",
            ok="Apply",
        )
        if reason is None:
            return False
        return self._applied(
            "Threshold",
            target,
            recipe,
            lambda: versions.apply_threshold(target, recipe, tool_id, threshold, reason),
        )

    def apply_parameter(self, tool_id: str, parameter: str, value: float) -> bool:
        """Apply a tuned limit other than the score threshold (the label's max_rotation_deg, a
        field's min_confidence, the defect tool's min_area_px): asks why, saying what happens,
        and writes it as the recipe's next version, run by opening it."""
        recipe = self.recipe
        target = self._versions_path()
        if recipe is None or target is None:
            self.statusBar().showMessage("Open a recipe first.", 5000)
            return False
        try:
            tool = next((t for t in recipe.tools if t.id == tool_id), None)
            if tool is None:
                raise RecipeError(f"recipe {recipe.name}: no tool {tool_id!r}")
            p = parameters.find_parameter(tool_id, tool.type, parameter)
            changed = parameters.with_parameter(recipe, tool_id, p, value)  # refused before asking
            new_version = version_after(target, recipe.version)
        except (RecipeError, TuningError) as exc:
            QMessageBox.critical(self, "Limit not applied", str(exc))
            return False
        what = recipe_edit.describe_change(recipe, changed)
        reason = recipe_versions.ask_reason(
            self,
            f"Apply {parameter}",
            f"Apply {parameter} to {tool_id}?",
            f"{recipe.name} is saved as version {new_version} ({what}). Parts from the next one "
            f"on are inspected with version {new_version} and record it; a part being inspected "
            f"now finishes with version {recipe.version}. Version {recipe.version} stays kept: "
            "Recipe → Versions… brings it back.",
            ok="Apply",
        )
        if reason is None:
            return False
        return self.apply_recipe_change(changed, reason)

    def open_tool_editor(self) -> ToolEditor | None:
        """Recipe → Edit tools…: a tool's ROI, label field regions and parameters, applied as the
        next version (non-modal: the live frame keeps coming)."""
        recipe = self.recipe
        if recipe is None or not recipe.tools:
            self.statusBar().showMessage("Open a recipe with tools first.", 5000)
            return None

        def newest(camera: str) -> Frame | None:
            station = self.station  # the one running now, also after an apply rebuilt it
            return station.newest_frame(camera) if station is not None and station.running else None

        dialog = ToolEditor(
            recipe,
            self.jobs,
            self.paths,
            self,
            newest_frame=newest,
            versions_path=self._versions_path(),
        )
        dialog.applyRequested.connect(self.apply_recipe_change)
        self.control.stationChanged.connect(dialog.use_station)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def apply_recipe_change(self, new_recipe: Recipe, reason: str) -> bool:
        """Apply a recipe changed on screen (asked and explained already) as the next version
        and run it; the station takes it between parts."""
        recipe = self.recipe
        target = self._versions_path()
        if recipe is None or target is None:
            self.statusBar().showMessage("Open a recipe first.", 5000)
            return False
        return self._applied(
            "Change",
            target,
            recipe,
            lambda: recipe_edit.apply_change(target, recipe, new_recipe, reason),
        )

    def roll_back(self, version: str, reason: str) -> bool:
        """Make the kept ``version`` the recipe in force again (asked already) and run it."""
        target = self._versions_path()
        if target is None:
            return False
        try:
            entry = versions.rollback(target, version, reason)
        except (OSError, RecipeError, ValueError) as exc:
            log.warning("rollback refused: %s", exc)
            QMessageBox.critical(self, "Not rolled back", str(exc))
            return False
        self.statusBar().showMessage(
            f"Rolled back from version {entry.previous} to {entry.version}: {entry.summary}", 8000
        )
        return self.open_recipe(target)

    def open_rescore_dialog(self, tool_id: str | None = None) -> RescoreDialog | None:
        """Teach → Re-score…: a re-taught defect model run on the stored images of a period,
        old and new scores side by side; nothing on the line changes."""
        recipe = self.recipe
        if recipe is None:
            self.statusBar().showMessage("Open a recipe first.", 5000)
            return None
        tool = tool_id or next((t.id for t in recipe.tools if t.type == "anomaly"), None)
        if tool is None:
            self.statusBar().showMessage("The recipe has no defect tool to re-score.", 5000)
            return None
        try:
            dialog = RescoreDialog(self.paths, self.jobs, recipe, tool, self)
        except TuningError as exc:
            QMessageBox.warning(self, "Re-score", str(exc))
            return None
        dialog.partRequested.connect(self.open_record_in_history)
        dialog.applyModelRequested.connect(self.apply_model)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def apply_model(self, tool_id: str, model: str) -> bool:
        """Apply a re-taught defect model (from Re-score): asks why (required), saying what
        happens, writes the recipe's next version with the model pinned, and runs it."""
        recipe = self.recipe
        target = self._versions_path()
        if recipe is None or target is None:
            self.statusBar().showMessage("Open a recipe first.", 5000)
            return False
        try:
            model_apply.with_model(recipe, tool_id, Path(model))  # refused before asking
            new_version = version_after(target, recipe.version)
        except RecipeError as exc:
            QMessageBox.critical(self, "Model not applied", str(exc))
            return False
        reason = recipe_versions.ask_reason(
            self,
            "Apply the new model",
            f"Apply the re-taught model to {tool_id}?",
            f"{recipe.name} is saved as version {new_version}: {tool_id} reads {Path(model).name} "
            "(kept under a name of its own, so later teaching never changes it) with the "
            "threshold it was taught with; a threshold set for the old model goes. Parts from "
            f"the next one on are inspected with version {new_version} and record it. Version "
            f"{recipe.version} and its model stay kept: Recipe → Versions… brings them back.",
            ok="Apply",
        )
        if reason is None:
            return False
        models_dir = self.paths.models / recipe.name
        return self._applied(
            "Model",
            target,
            recipe,
            lambda: model_apply.apply_model(
                target, recipe, tool_id, Path(model), reason, models_dir=models_dir
            ),
        )

    def _applied(
        self, what: str, target: Path, recipe: Recipe, apply: Callable[[], RecipeVersion]
    ) -> bool:
        """Run ``apply`` (it writes the next version to ``target``), say so and run it; a
        refusal is shown with its reason and nothing changes."""
        try:
            entry = apply()
        except (OSError, LinesideError, ValueError) as exc:
            log.warning("%s not applied: %s", what.lower(), exc)
            QMessageBox.critical(self, f"{what} not applied", f"{target}: {exc}")
            return False
        self.statusBar().showMessage(
            f"Recipe {recipe.name} version {entry.version}: {entry.summary}", 8000
        )
        return self.open_recipe(target)
