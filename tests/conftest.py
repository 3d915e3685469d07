"""The plain engine tests import the engine by the one name the addon's code gives it,
``odoo.addons.webcrm_calendar_sync.engine``, so a pytest session that also runs the Odoo tests
loads each engine module once (one ``errors.AuthRevoked`` class, one exchangelib set-up).

Without an Odoo configuration (``python3 -m pytest tests/engine``) the repository is put on Odoo's
addons path here; no database is needed. ``tests/engine`` is put on ``sys.path`` for ``rigs.py``,
the helpers the engine tests share.
"""

import sys
from pathlib import Path

import odoo.addons

ROOT = str(Path(__file__).resolve().parent.parent)
if ROOT not in odoo.addons.__path__:
    odoo.addons.__path__.append(ROOT)
ENGINE_TESTS = str(Path(__file__).resolve().parent / "engine")
if ENGINE_TESTS not in sys.path:
    sys.path.insert(0, ENGINE_TESTS)
