"""Importing the Exchange provider changes nothing global in exchangelib (issue 12, point 4).

Checked in a fresh interpreter, so that what other tests imported before cannot hide a change
and the order the tests run in cannot matter.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SNAPSHOT = textwrap.dedent(
    """
    import importlib, logging, pkgutil, sys
    import exchangelib

    for info in pkgutil.walk_packages(exchangelib.__path__, "exchangelib."):
        try:
            importlib.import_module(info.name)
        except ImportError:
            pass  # optional parts whose own dependencies are not installed

    def snapshot():
        seen = {}
        for name, module in list(sys.modules.items()):
            if name != "exchangelib" and not name.startswith("exchangelib."):
                continue
            for key, value in list(vars(module).items()):
                seen[(name, key)] = id(value)
                if isinstance(value, type) and value.__module__ == name:
                    for attr, member in list(vars(value).items()):
                        seen[(name, key, attr)] = id(member)
        for name in list(logging.root.manager.loggerDict):
            if name.startswith("exchangelib"):
                logger = logging.getLogger(name)
                seen[("logger", name)] = (
                    tuple(map(id, logger.filters)), tuple(map(id, logger.handlers)), logger.level
                )
        return seen

    before = snapshot()
    import odoo.addons
    odoo.addons.__path__.append(sys.argv[1])
    from odoo.addons.webcrm_calendar_sync.engine.providers import exchange
    assert exchange.ExchangeProvider  # really imported
    after = snapshot()
    changed = sorted(str(k) for k in set(before) | set(after) if before.get(k) != after.get(k))
    print("\\n".join(changed))
    """
)


def test_importing_the_exchange_provider_changes_nothing_in_exchangelib():
    done = subprocess.run(
        [sys.executable, "-c", SNAPSHOT, str(ROOT)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", f"importing engine/providers/exchange.py changed in exchangelib:\n{done.stdout}"
