"""The control panel: operators run the line, reviewers clear flagged documents, in a browser.

Owns: the web app (``app.create_app``: FastAPI, one router per screen in
``routes/``, Jinja2 ``templates/``, plain ``static/`` CSS and JavaScript, no
CDN), the ``LineControl`` protocol it steers the line through (``line``), a
``LineControl`` over the ledger, the scheduler and the printers' reports
(``ledger_line``), users, roles, password hashes, signed session cookies and
CSRF tokens (``auth``, pure; ``users_store``, its own tables in the ledger's
SQLite file), Chinese and English strings (``i18n``), the numbers the screens
draw (``planning``, pure over the scheduler) and the reviewer's MRZ
comparison and zones (``review``).

May import ``factory.errors``, ``factory.config``, ``factory.records``,
``factory.ledger``, ``factory.scheduler``, ``factory.mrz``, ``factory.devices``
(layout and rendering) and ``factory.qa`` (the MRZ reader), FastAPI, Jinja2,
OpenCV, numpy and sqlite3 (``users_store`` only). Never imports zmq: the
controller mounts the app and implements ``LineControl``.
"""

from factory.panel.app import create_app
from factory.panel.auth import PERMISSIONS, ROLES, can
from factory.panel.ledger_line import LedgerLine
from factory.panel.line import MACHINE_STATES, GreenPlacement, LineControl, MachineStatus, PoolStock
from factory.panel.planning import backlog_view, place_green, plan_report
from factory.panel.users_store import UserStore

__all__ = [
    "create_app",
    "LineControl",
    "MachineStatus",
    "GreenPlacement",
    "PoolStock",
    "MACHINE_STATES",
    "LedgerLine",
    "UserStore",
    "ROLES",
    "PERMISSIONS",
    "can",
    "plan_report",
    "place_green",
    "backlog_view",
]
