from . import controllers, models
from .engine import logredact

# secrets out of every client library's log records, whatever their level (engine/logredact.py)
logredact.install()
