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
# A file deleted in JupyterLab is deleted, not moved to a trash in the container: what the
# Jupyter Docker Stacks' /etc/jupyter config sets too, which the Neuron variant does not have.
c.FileContentsManager.delete_to_trash = False

idle_minutes = float(os.environ.get("NOTEBOOK_IDLE_MINUTES") or 0)
if idle_minutes > 0:
    # The notebook_idle extension alone decides when the server is idle, and then stops it
    # (checking more often than the built-in once a minute, and leaving a marker so the
    # start script knows the stop was an idle one). Jupyter's own culling stays off, even if
    # the base image's config turns it on: it counts only websocket traffic as terminal
    # activity, so it killed a terminal's long job once its tab fell silent, and it goes by
    # a kernel's execution_state, so it never culled one waiting in input() and did cull a
    # computing one whose state Jupyter had left at "starting".
    c.MappingKernelManager.cull_idle_timeout = 0
    c.TerminalManager.cull_inactive_timeout = 0
    c.ServerApp.jpserver_extensions = {"notebook_idle": True}
