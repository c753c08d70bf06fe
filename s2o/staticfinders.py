"""Front-end files from npm (node_modules, installed from package-lock.json), only those the pages use.

Pointing STATICFILES_DIRS at whole package folders collected ~13,000 files (every Bootstrap build,
every Chart.js module, 2,000 icons) and compressed each with gzip and brotli: 95 s per
collectstatic, which `dev.py up` runs every time. This finder exposes just the listed files, and the
icons that static/css/icons.css draws, so the list of icons lives in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage

ICONS_CSS = "css/icons.css"
ICON_URL = re.compile(r"vendor/bootstrap-icons/([a-z0-9-]+)\.svg")

# URL prefix → (package folder inside node_modules, files under it). Source maps are listed because
# the minified files name them and the manifest storage rewrites every reference it finds.
PACKAGES: dict[str, tuple[str, list[str]]] = {
    "vendor/bootstrap": (
        "bootstrap/dist",
        ["css/bootstrap.min.css", "css/bootstrap.min.css.map", "js/bootstrap.bundle.min.js", "js/bootstrap.bundle.min.js.map"],
    ),
    "vendor/chartjs": ("chart.js/dist", ["chart.umd.min.js", "chart.umd.min.js.map"]),
    "vendor/tom-select": (
        "tom-select/dist",
        ["js/tom-select.complete.min.js", "js/tom-select.complete.min.js.map",
         "css/tom-select.bootstrap5.min.css", "css/tom-select.bootstrap5.min.css.map"],
    ),
}


def icon_names() -> list[str]:
    """The Bootstrap Icons that static/css/icons.css draws."""
    css = Path(settings.BASE_DIR) / "static" / ICONS_CSS
    return sorted(set(ICON_URL.findall(css.read_text()))) if css.exists() else []


def packages() -> dict[str, tuple[str, list[str]]]:
    return {**PACKAGES, "vendor/bootstrap-icons": ("bootstrap-icons/icons", [f"{name}.svg" for name in icon_names()])}


class NpmFinder(BaseFinder):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.storages: dict[str, FileSystemStorage] = {}
        self.files: dict[str, tuple[str, list[str]]] = packages()
        for prefix, (folder, _names) in self.files.items():
            storage = FileSystemStorage(location=Path(settings.NODE_MODULES) / folder)
            # collectstatic puts the files under this prefix (it reads the attribute, which the stubs do not declare).
            storage.prefix = prefix  # type: ignore[attr-defined]
            self.storages[prefix] = storage

    def check(self, **kwargs: object) -> list[CheckMessage]:
        missing = [
            f"{prefix}/{name}"
            for prefix, (_folder, names) in self.files.items()
            for name in names
            if not self.storages[prefix].exists(name)
        ]
        if not missing:
            return []
        return [Error(f"Front-end files missing from node_modules: {', '.join(missing[:5])}", hint="Run npm ci.", id="s2o.E001")]

    # Django calls it with a bool (never a literal) and takes [] for "not found", as its own finders return.
    def find(self, path: str, find_all: bool = False, **kwargs: object) -> str | list[str]:  # type: ignore[override]
        for prefix, (_folder, names) in self.files.items():
            name = path.removeprefix(f"{prefix}/")
            if name != path and name in names and self.storages[prefix].exists(name):
                found = self.storages[prefix].path(name)
                return [found] if find_all else found
        return []

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterator[tuple[str, FileSystemStorage]]:
        for prefix, (_folder, names) in self.files.items():
            for name in names:
                if self.storages[prefix].exists(name):
                    yield name, self.storages[prefix]


# Swagger UI and Redoc for the API docs (integrations/api/docs.py), from drf-spectacular-sidecar, under
# the paths drf-spectacular links (`drf_spectacular_sidecar/…`). Only the files the pages load (and the
# source maps those files name): the package's whole folder adds ~9 MB of bundles and maps that
# collectstatic would hash and compress on every run.
SIDECAR_PREFIX = "drf_spectacular_sidecar"
SIDECAR_FILES = [
    "swagger-ui-dist/swagger-ui.css", "swagger-ui-dist/swagger-ui.css.map", "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui-dist/swagger-ui-standalone-preset.js", "swagger-ui-dist/favicon-32x32.png",
    "redoc/bundles/redoc.standalone.js", "redoc/bundles/redoc.standalone.js.map",
]


class SidecarFinder(BaseFinder):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        import drf_spectacular_sidecar

        self.storage = FileSystemStorage(location=Path(drf_spectacular_sidecar.__file__).parent / "static" / SIDECAR_PREFIX)
        self.storage.prefix = SIDECAR_PREFIX  # type: ignore[attr-defined]  # read by collectstatic, as above

    # Django calls it with a bool (never a literal) and takes [] for "not found", as its own finders return.
    def find(self, path: str, find_all: bool = False, **kwargs: object) -> str | list[str]:  # type: ignore[override]
        name = path.removeprefix(f"{SIDECAR_PREFIX}/")
        if name != path and name in SIDECAR_FILES and self.storage.exists(name):
            found = self.storage.path(name)
            return [found] if find_all else found
        return []

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterator[tuple[str, FileSystemStorage]]:
        for name in SIDECAR_FILES:
            if self.storage.exists(name):
                yield name, self.storage
