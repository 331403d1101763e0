"""Every package the code imports is installed by the README's run command.

`setup.sh run` installs the project's runtime dependencies only; the tests run with the test
extras as well, so a module imported by the station but declared only among the test extras
passes every test and fails on a fresh line PC (seen: the label tool needs `onnx` to narrow its
recogniser, and the station would not start).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWN = {"inspection", "app"}


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=!;~ (]", requirement.strip())[0]).lower()


def _installed_with(names: set[str]) -> set[str]:
    """``names`` and everything they require (their extras left out), as installed here."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo.extend(_name(r) for r in requires if "extra ==" not in r)
    return seen


def _imported_modules() -> dict[str, str]:
    """Top-level third-party module → a file that imports it (lazy imports inside functions too)."""
    found: dict[str, str] = {}
    for folder in OWN:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top not in sys.stdlib_module_names and top not in OWN:
                        found.setdefault(top, str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_a_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _installed_with({_name(d) for d in project["dependencies"]})
    providers = metadata.packages_distributions()
    missing = {
        module: where
        for module, where in _imported_modules().items()
        if not {_name(d) for d in providers.get(module, [])} & runtime
    }
    assert not missing, f"imported but not installed by `setup.sh run`: {missing}"
