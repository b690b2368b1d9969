"""The architecture of DESIGN.md as a check that fails.

Arrows only point downwards: ui -> services -> local_db/sync -> domain;
central -> scheduler -> domain. Every import statement in the tree (including
imports inside functions) is read with `ast`, so a lazy import cannot hide a
crossing. `make check` runs import-linter over the same rules as well.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

IO_LIBRARIES = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "starlette",
    "uvicorn",
    "requests",
    "httpx",
    "psycopg",
    "sqlite3",
    "sqlite_utils",
    "PySide6",
    "cv2",
)


@dataclass(frozen=True)
class Rule:
    """Modules under `source` may not import anything under `forbidden`."""

    source: str
    forbidden: tuple[str, ...]
    why: str
    exempt: tuple[str, ...] = ()


RULES = (
    Rule(
        "domain",
        ("app", "central", "scheduler", *IO_LIBRARIES),
        "domain/ is pure shared code: no project layers above it, no I/O libraries",
    ),
    Rule(
        "scheduler", ("app", "central", *IO_LIBRARIES), "scheduler/ is a pure library over domain/"
    ),
    Rule(
        "app.ui",
        (
            "sqlalchemy",
            "alembic",
            "requests",
            "httpx",
            "sqlite3",
            "app.local_db",
            "app.sync",
            "central",
        ),
        "the UI talks to app/services only, never to the database or HTTP",
    ),
    Rule("app.services", ("app.ui", "PySide6"), "services are UI-free use cases"),
    Rule(
        "app.local_db",
        ("app.ui", "app.services", "app.sync", "PySide6"),
        "the store knows nothing above it",
    ),
    Rule("app.sync", ("app.ui", "app.services", "PySide6"), "sync knows nothing above it"),
    Rule(
        "app.scanning",
        ("app.ui", "app.services", "app.local_db", "app.sync", "PySide6"),
        "decoding is independent of the UI and the store",
    ),
    Rule("app", ("central",), "the site client never imports the hub"),
    Rule(
        "app",
        ("PySide6",),
        "only app/ui (and the composition root) imports Qt",
        exempt=("app.ui", "app.bootstrap"),
    ),
    Rule("central", ("app", "PySide6"), "the hub never imports the site client"),
)


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imported: str
    rule: Rule

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imported} ({self.rule.why})"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from app import ui` imports app.ui
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(root: Path) -> list[Violation]:
    """Every import in the project's packages under `root` that breaks a rule."""
    out: list[Violation] = []
    for package in ("domain", "scheduler", "central", "app"):
        for path in sorted((root / package).rglob("*.py")):
            module = _module_name(path, root)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for line, imported in _imports(tree, module, path.name == "__init__.py"):
                for rule in RULES:
                    if not _under(module, rule.source):
                        continue
                    if any(_under(module, exempt) for exempt in rule.exempt):
                        continue
                    if any(_under(imported, bad) for bad in rule.forbidden):
                        out.append(Violation(module, line, imported, rule))
    return out


def test_the_tree_keeps_its_layers() -> None:
    found = violations(ROOT)
    assert not found, "layer crossings:\n" + "\n".join(map(str, found))


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("domain/bad.py", "import app.local_db\n"),
        ("domain/bad.py", "def f():\n    import sqlalchemy\n"),
        ("scheduler/bad.py", "from central.db import models\n"),
        ("app/ui/bad.py", "import requests\n"),
        ("app/ui/bad.py", "from sqlalchemy.orm import Session\n"),
        ("app/ui/bad.py", "from app import local_db\n"),
        ("app/ui/sub/bad.py", "from ...local_db import engine\n"),
        ("app/services/bad.py", "from PySide6.QtCore import QObject\n"),
        ("central/bad.py", "import app.services\n"),
    ],
)
def test_a_forbidden_import_is_caught(tmp_path: Path, path: str, source: str) -> None:
    for package in ("domain", "scheduler", "central", "app"):
        (tmp_path / package).mkdir()
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source)
    found = violations(tmp_path)
    assert len(found) >= 1
    assert all(v.module == _module_name(target, tmp_path) for v in found)


def test_allowed_imports_pass(tmp_path: Path) -> None:
    for package in ("domain", "scheduler", "central", "app/ui", "app/services"):
        (tmp_path / package).mkdir(parents=True)
    (tmp_path / "app/ui/ok.py").write_text(
        "from PySide6.QtCore import Qt\nfrom app.services import x\n"
    )
    (tmp_path / "app/services/ok.py").write_text("import sqlalchemy\nfrom app.local_db import m\n")
    (tmp_path / "central/ok.py").write_text("import scheduler\nimport domain.ids\n")
    assert violations(tmp_path) == []
