"""Run a module of this package as a plain script without importing ``tokcom/__init__``.

``tokcom/__init__.py`` loads the compiled GNU Radio bindings, which a source checkout may
not have built yet.  The shim registers the ``tokcom`` directory as a bare package under a
private name (no ``__init__`` executed), imports the requested sub-module through it so
that the package's relative imports work, and calls its ``main``.
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path

_ALIAS = "_tokcom_src"


def run_package_main(module: str, tokcom_dir: Path) -> None:
    if _ALIAS not in sys.modules:
        pkg = types.ModuleType(_ALIAS)
        pkg.__path__ = [str(tokcom_dir)]
        sys.modules[_ALIAS] = pkg
    mod = importlib.import_module(f"{_ALIAS}.{module}")
    raise SystemExit(mod.main(sys.argv[1:]))
