"""Odoo's own runner (``odoo-bin --test-enable``) only runs the test modules that
``webcrm_calendar_sync/tests/__init__.py`` imports; pytest-odoo finds every file. A module left
out of ``__init__.py`` would be skipped silently by one runner (issue 12, point 4)."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "webcrm_calendar_sync" / "tests"


def test_every_odoo_test_module_is_imported_by_the_tests_package():
    tree = ast.parse((TESTS / "__init__.py").read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1 and not node.module
        for alias in node.names
    }
    on_disk = {path.stem for path in TESTS.glob("test_*.py")}
    assert on_disk, f"no test module found in {TESTS}"
    assert sorted(on_disk - imported) == [], "add these to webcrm_calendar_sync/tests/__init__.py"
