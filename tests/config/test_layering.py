"""The layering contract (.importlinter) is enforced: `make lint` runs lint-imports, and a wrong import
fails it. Each case lints a copy of the project with one deliberately bad import added."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "customers", "credits", "discounts", "billing", "events", "webhooks", "staff")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / ".importlinter"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("layering")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    shutil.copy(ROOT / ".importlinter", copy / ".importlinter")
    return copy


def test_the_project_keeps_its_contracts(tree):
    result = lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "9 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "contract"),
    [
        ("customers/bad_upward.py", "import credits.models", "Composition, then webhooks, then billing | discounts"),
        ("credits/bad_upward.py", "from billing import services", "Composition, then webhooks, then billing | discounts"),
        ("billing/bad_sideways.py", "import discounts.models", "Billing and discounts never import each other"),
        ("config/kernel/bad_kernel.py", "import config.api.errors", "The kernel imports no app"),
        ("config/api/bad_plumbing.py", "from customers import selectors", "Composition, then webhooks, then billing | discounts"),
        ("billing/bad_admin.py", "from credits.admin import CUSTOMER_PAGE", "No app imports the staff pages of credits"),
        ("discounts/bad_admin.py", "import customers.admin", "No app imports the staff pages of customers"),
    ],
)
def test_a_wrong_import_breaks_the_lint(tree, module, bad_import, contract):
    bad = tree / module
    bad.write_text(f"{bad_import}  # deliberately wrong\n")
    try:
        result = lint(tree)
    finally:
        bad.unlink()
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken
    # The report names the offending module.
    assert module.removesuffix(".py").replace("/", ".") in broken
