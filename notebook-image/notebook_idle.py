"""Jupyter Server extension: stop the server after NOTEBOOK_IDLE_MINUTES without activity.

Idle means no kernel, no terminal, and no authenticated request for that long (the load
balancer's unauthenticated health checks on /api do not count). Before stopping, it writes
the file named by NOTEBOOK_IDLE_MARKER, so that start-notebook.sh can tell an idle stop
from a stop by ECS. Works with Jupyter Server 1.x and 2.x.
"""
import datetime
import os

from tornado import ioloop


def _jupyter_server_extension_points():
    return [{"module": "notebook_idle"}]


def _idle_seconds():
    return float(os.environ.get("NOTEBOOK_IDLE_MINUTES") or 0) * 60


def _busy(serverapp):
    if len(serverapp.kernel_manager.list_kernel_ids()) > 0:
        return True
    terminals = serverapp.web_app.settings.get("terminal_manager")
    return bool(terminals is not None and getattr(terminals, "terminals", None))


def _check(serverapp, timeout):
    if _busy(serverapp):
        return
    last = serverapp.web_app.last_activity()
    idle = (datetime.datetime.now(datetime.timezone.utc) - last).total_seconds()
    if idle < timeout:
        return
    serverapp.log.info("notebook_idle: no activity for %d seconds (limit %d): stopping the server", idle, timeout)
    marker = os.environ.get("NOTEBOOK_IDLE_MARKER")
    if marker:
        with open(marker, "w", encoding="utf-8") as f:
            f.write(f"idle for {int(idle)} seconds\n")
    serverapp.stop()


def _load_jupyter_server_extension(serverapp):
    timeout = _idle_seconds()
    if timeout <= 0:
        return
    every = max(1.0, min(60.0, timeout / 4))
    serverapp.log.info("notebook_idle: stopping after %d idle seconds, checking every %d s", timeout, every)
    callback = ioloop.PeriodicCallback(lambda: _check(serverapp, timeout), every * 1000)
    callback.start()
    serverapp.web_app.settings["notebook_idle_callback"] = callback


# Jupyter Server 1.x looks for this name as well.
load_jupyter_server_extension = _load_jupyter_server_extension
