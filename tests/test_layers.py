"""The apps import one way (docs/architecture.md): pages → portability → reminders → readings → sessions_app → core.

The contract is import-linter's, in pyproject.toml; this runs it in the suite
so CI fails on an import that goes up a layer.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent


def _contract() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def test_apps_import_only_the_layers_below_them():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout


def test_every_app_of_ours_has_its_layer():
    ours = {config.name for config in apps.get_app_configs() if (ROOT / config.name).is_dir()}
    layers = set(_contract()["contracts"][0]["layers"])
    assert ours - layers == set()
    assert set(_contract()["root_packages"]) == layers
