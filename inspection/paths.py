"""Where Lineside keeps config, data, logs and cache. The only module that decides paths.

``LINESIDE_HOME`` puts everything under one folder (tests, portable installs); otherwise the
platform's usual user folders are used. Nothing is ever written into the install folder.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "lineside"


@dataclass(frozen=True, slots=True)
class Paths:
    config: Path
    data: Path
    logs: Path
    cache: Path

    @property
    def results_db(self) -> Path:
        return self.data / "results.sqlite"

    @property
    def archive(self) -> Path:
        return self.data / "images"

    @property
    def models(self) -> Path:
        """Models taught on this station (one folder per recipe)."""
        return self.data / "models"

    @property
    def trigger_socket(self) -> Path:
        """Where a running software-triggered station takes ``lineside trigger`` requests."""
        return self.data / "trigger.sock"

    @property
    def station_file(self) -> Path:
        """The station's own settings: line, shift calendar, report export."""
        return self.config / "station.yaml"

    @property
    def reports(self) -> Path:
        """Where reports go unless the user chooses another folder."""
        return self.data / "reports"

    @property
    def settings_file(self) -> Path:
        return self.config / "settings.json"

    def ensure(self) -> Paths:
        for p in (self.config, self.data, self.logs, self.cache):
            p.mkdir(parents=True, exist_ok=True)
        return self


def user_paths(environ: dict[str, str] | None = None) -> Paths:
    """Folders for this user; ``LINESIDE_HOME`` (from ``environ`` or the process) overrides all."""
    env = os.environ if environ is None else environ
    home = env.get("LINESIDE_HOME")
    if home:
        root = Path(home).expanduser()
        return Paths(root / "config", root / "data", root / "logs", root / "cache")
    import platformdirs  # imported here: only needed when no override is set

    return Paths(
        Path(platformdirs.user_config_dir(APP_NAME)),
        Path(platformdirs.user_data_dir(APP_NAME)),
        Path(platformdirs.user_log_dir(APP_NAME)),
        Path(platformdirs.user_cache_dir(APP_NAME)),
    )


def resources_dir() -> Path:
    """The shipped resources folder (recipes, icons, stylesheet); read-only at run time."""
    return Path(__file__).resolve().parent.parent / "resources"


def demo_recipe() -> Path:
    return resources_dir() / "recipes" / "demo.yaml"


@contextlib.contextmanager
def written_in_place(path: Path) -> Iterator[Path]:
    """A temporary sibling of ``path`` to write; renamed to ``path`` when the block ends
    normally, removed when it raises (Cancelled included), so a reader, a network share or a
    crash never sees half a file. The temporary name keeps the suffix (writers may choose their
    format by it) and starts with a dot (hidden from people browsing the folder)."""
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):  # gone after the rename; else the unfinished file
            tmp.unlink()


def results_cache(db: Path) -> Path:
    """Rebuildable files readers derive from the results database ``db`` (e.g. tuning's score
    columns): a folder beside it, so a copied or moved database never meets another's cache."""
    return db.with_name(f"{db.name}.cache")
