import sys
from pathlib import Path

ADDON_DIR = Path(__file__).resolve().parent.parent / "webcrm_calendar_sync"
if str(ADDON_DIR) not in sys.path:
    sys.path.insert(0, str(ADDON_DIR))
