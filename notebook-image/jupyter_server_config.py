# Jupyter Server configuration of the notebook image. start-notebook.sh puts this folder on
# JUPYTER_CONFIG_PATH, so it applies on top of the image's own /etc/jupyter config.
# Works with Jupyter Server 1.x and 2.x. Idle settings come from the environment the
# notebook stack sets (NOTEBOOK_IDLE_MINUTES).
import os

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)

# The token comes from JUPYTER_TOKEN (injected by ECS from Secrets Manager): Jupyter
# Server reads it itself. No password login, no browser, no redirect to /lab needed for
# the health check: /api answers 200 without a token.
c.ServerApp.open_browser = False
c.ServerApp.allow_remote_access = True
c.ServerApp.trust_xheaders = True  # behind the load balancer: client IPs and https from X-Forwarded-*

idle_minutes = float(os.environ.get("NOTEBOOK_IDLE_MINUTES") or 0)
if idle_minutes > 0:
    idle_seconds = max(1, int(idle_minutes * 60))
    check_seconds = max(1, min(60, idle_seconds // 4))
    # Idle kernels and terminals are culled, even with a browser tab still open ...
    c.MappingKernelManager.cull_idle_timeout = idle_seconds
    c.MappingKernelManager.cull_interval = check_seconds
    c.MappingKernelManager.cull_connected = True
    c.MappingKernelManager.cull_busy = False
    c.TerminalManager.cull_inactive_timeout = idle_seconds
    c.TerminalManager.cull_interval = check_seconds
    # ... and once nothing is left and nobody used the API for that long, the server
    # stops itself (notebook_idle: checks more often than the built-in once a minute,
    # and leaves a marker so the start script knows the stop was an idle one).
    c.ServerApp.jpserver_extensions = {"notebook_idle": True}
