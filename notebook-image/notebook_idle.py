"""Jupyter Server extension: stop the server after NOTEBOOK_IDLE_MINUTES without activity.

The server stops once, for the whole limit, nothing has kept it busy:
- no authenticated request (an open JupyterLab tab polls with the token, so it counts; the
  load balancer's unauthenticated health checks on /api do not), and no kernel output or
  terminal traffic (what Jupyter's own web_app.last_activity() tracks);
- no kernel had a client connected, used CPU or moved data: a kernel computing or
  downloading with its tab closed (a training run on a closed laptop) is busy, one waiting
  in input() with nobody there is idle, whatever its execution_state;
- no terminal had a process running: anything the terminal's shell started and that still
  runs, in the foreground or in the background, a program the shell was replaced by
  (exec), or the shell itself computing, keeps it busy, even with no tab open;
- no job left running in the session of a kernel or terminal, also after it ended
  (`nohup job &` then `exit`). A job that made a session of its own (setsid, tmux, screen)
  is not seen.

Jupyter's built-in culling is off (jupyter_server_config.py): it counts only websocket
traffic as terminal activity, so it killed long terminal jobs, and it goes by a kernel's
execution_state, so a kernel waiting for input stayed "busy" forever, while a computing one
whose first status messages Jupyter missed (it then stays "starting") was culled. Everything
is decided here instead.

Before stopping, it logs one line saying why and writes the file named by
NOTEBOOK_IDLE_MARKER, so that start-notebook.sh can tell an idle stop from a stop by ECS.
Standard library only; works with Jupyter Server 1.x and 2.x, jupyter_client 7 and 8.
"""
import datetime
import os
import time

from tornado import ioloop

# A kernel whose process tree uses more than this share of one core between two checks is
# computing. An idle ipykernel 6 uses about 0.05 % of a core; one blocked in input() polls
# its stdin socket every 10 ms and uses 1.3-2 % (measured over 1.5-second windows); anything
# computing uses close to 100 %.
CPU_BUSY_SHARE = 0.05

# A kernel whose process tree reads or writes more than this many bytes a second between two
# checks is working too, with little CPU: a download, a query streaming rows. An idle kernel
# and one waiting in input() move about 32 B/s (zmq heartbeats), a 2 MB/s download 60,000
# times that (measured with /proc/<pid>/io: rchar + wchar).
IO_BUSY_BYTES_PER_SECOND = 4096

# Process states that are not running: zombies, dead, and stopped jobs (Ctrl-Z): a
# suspended job waits for the user and should not keep the notebook up on its own.
_NOT_RUNNING = frozenset("ZXTt")

try:
    _TICKS = os.sysconf("SC_CLK_TCK")
except (AttributeError, ValueError, OSError):
    _TICKS = 100


def _jupyter_server_extension_points():
    return [{"module": "notebook_idle"}]


def _idle_seconds():
    return float(os.environ.get("NOTEBOOK_IDLE_MINUTES") or 0) * 60


class _Process:
    __slots__ = ("pid", "ppid", "state", "session", "cpu")

    def __init__(self, pid, ppid, state, session, cpu):
        self.pid, self.ppid, self.state, self.session, self.cpu = pid, ppid, state, session, cpu


def _processes():
    """Every process /proc shows, by pid."""
    procs = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read().decode("utf-8", "replace")
        except OSError:
            continue  # ended meanwhile
        # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        # utime, stime, and cutime, cstime: the CPU time of children it reaped, so that a
        # child ending between two checks does not make the tree's total drop.
        cpu = sum(int(x) for x in fields[11:15]) / _TICKS
        procs[int(name)] = _Process(int(name), int(fields[1]), fields[0], int(fields[3]), cpu)
    return procs


def _io_bytes(pids):
    """Bytes the processes read and wrote so far (rchar + wchar), those /proc lets us see."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/io", "rb") as f:
                for line in f.read().decode("ascii", "replace").splitlines():
                    key, _, value = line.partition(":")
                    if key in ("rchar", "wchar"):
                        total += int(value)
        except (OSError, ValueError):
            continue  # ended meanwhile, or not ours to read
    return total


def _exe(pid):
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def _children(procs):
    children = {}
    for p in procs.values():
        children.setdefault(p.ppid, []).append(p.pid)
    return children


def _descendants(pid, children):
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def _epoch(value):
    """A Jupyter timestamp (aware datetime, UTC) as seconds since the epoch; 0 if missing."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.timestamp()
    return 0.0


def _kernel_pid(kernel):
    """The local kernel process's pid, or None (a remote kernel, or one still starting)."""
    provisioner = getattr(kernel, "provisioner", None)  # jupyter_client >= 7
    if provisioner is not None:
        # Only the local provisioner's Popen: another provisioner's pid may be remote.
        return getattr(getattr(provisioner, "process", None), "pid", None)
    return getattr(getattr(kernel, "kernel", None), "pid", None)  # jupyter_client < 7


class _Sample:
    """What one kernel or terminal looked like at the last check."""

    def __init__(self, now):
        self.busy_at = now  # a new one counts as just used
        self.why = "started"
        self.state = None
        self.pid = None
        self.cpu = None
        self.io = None
        self.exe = None
        self.measured_at = None


class IdleWatch:
    def __init__(self, serverapp, limit):
        self.serverapp = serverapp
        self.limit = limit
        self.kernels = {}
        self.terminals = {}
        # Sessions of every kernel and terminal seen, also after they ended: a job detached
        # from them (nohup ... & then exit, a kernel's `nohup ... &`) keeps its session and
        # is work the user left running.
        self.sessions = set()
        self.detached_at = 0.0
        self.detached_why = None
        self.keeper = None  # what was last logged as keeping the server up
        self.callback = None

    def _check_kernels(self, procs, children, now, mono):
        km = self.serverapp.kernel_manager
        connections = getattr(km, "_kernel_connections", {}) or {}
        seen = {}
        for kernel_id in list(km.list_kernel_ids()):
            try:
                kernel = km.get_kernel(kernel_id)
            except KeyError:
                continue  # shut down meanwhile
            sample = seen[kernel_id] = self.kernels.get(kernel_id) or _Sample(now)
            sample.state = getattr(kernel, "execution_state", None)
            if connections.get(kernel_id, 0) > 0:
                sample.busy_at, sample.why = now, "a client connected"
            pid = _kernel_pid(kernel)
            if pid is None or pid not in procs:
                # Nothing to measure (not a local process, or not started yet): trust what
                # the kernel says, as Jupyter's own culling does.
                if sample.state in ("busy", "starting"):
                    sample.busy_at, sample.why = now, "busy (not measurable)"
                sample.pid = None
            else:
                self.sessions.add(procs[pid].session)
                tree = [pid] + _descendants(pid, children)
                cpu = sum(procs[p].cpu for p in tree)
                io = _io_bytes(tree)
                if sample.pid == pid and sample.cpu is not None:
                    elapsed = max(mono - sample.measured_at, 0.001)
                    if (cpu - sample.cpu) / elapsed > CPU_BUSY_SHARE:
                        sample.busy_at, sample.why = now, "computing"
                    elif (io - sample.io) / elapsed > IO_BUSY_BYTES_PER_SECOND:
                        sample.busy_at, sample.why = now, "reading or writing"
                sample.pid, sample.cpu, sample.io, sample.measured_at = pid, cpu, io, mono
            # Output it sent (also with nobody connected) counts as well.
            output_at = _epoch(getattr(kernel, "last_activity", None))
            if output_at > sample.busy_at:
                sample.busy_at, sample.why = output_at, "output"
        self.kernels = seen

    def _check_terminals(self, procs, children, now, mono):
        manager = self.serverapp.web_app.settings.get("terminal_manager")
        terminals = getattr(manager, "terminals", None) or {}
        seen = {}
        for name, term in list(terminals.items()):
            sample = seen[name] = self.terminals.get(name) or _Sample(now)
            ptyproc = getattr(term, "ptyproc", None)
            shell = getattr(ptyproc, "pid", None)
            if shell is None:
                sample.busy_at, sample.why = now, "unknown shell"  # cannot tell: keep it
            elif shell in procs:
                self.sessions.add(procs[shell].session)
                # `exec program` replaced the shell: the program is running. (The shell's
                # path is the one the terminal started, resolved as the kernel does.)
                if sample.exe is None:
                    argv = getattr(ptyproc, "argv", None) or [None]
                    sample.exe = os.path.realpath(argv[0]) if argv[0] else _exe(shell)
                exe = _exe(shell)
                if exe is not None and sample.exe is not None and exe != sample.exe:
                    sample.busy_at, sample.why = now, "a program running in place of the shell"
                # The shell itself working (a loop typed at the prompt).
                if sample.cpu is not None and (procs[shell].cpu - sample.cpu) / max(mono - sample.measured_at, 0.001) > CPU_BUSY_SHARE:
                    sample.busy_at, sample.why = now, "the shell computing"
                sample.cpu, sample.measured_at = procs[shell].cpu, mono
                # What the shell started, and what left it but still runs on its terminal
                # (same session: `(job &)`, nohup), except what ended or is suspended.
                on_terminal = set(_descendants(shell, children))
                on_terminal.update(p.pid for p in procs.values() if p.session == shell)
                on_terminal.discard(shell)
                running = [p for p in on_terminal if procs[p].state not in _NOT_RUNNING]
                if running:
                    foreground = None
                    try:
                        foreground = os.tcgetpgrp(ptyproc.fd)
                    except (AttributeError, OSError):
                        pass
                    kind = "a foreground job" if foreground not in (None, shell) else "a background process"
                    sample.busy_at, sample.why = now, f"{kind} running"
            # Typing and output through an open tab.
            typed_at = _epoch(getattr(term, "last_activity", None))
            if typed_at > sample.busy_at:
                sample.busy_at, sample.why = typed_at, "terminal traffic"
        self.terminals = seen

    def _check_detached(self, procs, children, now):
        """Jobs that left their kernel or terminal (reparented) but run in its session."""
        attached = set()
        for sample in self.kernels.values():
            if sample.pid in procs:
                attached.update([sample.pid] + _descendants(sample.pid, children))
        for name, term in self._terminal_items():
            shell = getattr(getattr(term, "ptyproc", None), "pid", None)
            if shell in procs:
                attached.update([shell] + _descendants(shell, children))
        # Never the server's own session: the server, the start script and its helpers live there.
        sessions = self.sessions - {os.getsid(0)}
        detached = [p for p in procs.values() if p.session in sessions and p.pid not in attached and p.state not in _NOT_RUNNING]
        if detached:
            self.detached_at, self.detached_why = now, f"a job left running by a kernel or terminal (pid {detached[0].pid})"

    def watch_new_terminals(self):
        """Records each new terminal's session at once: a shell may start a job with nohup and
        exit before the next check would have seen it."""
        manager = self.serverapp.web_app.settings.get("terminal_manager")
        create = getattr(manager, "new_terminal", None)
        if create is None or getattr(create, "_notebook_idle", False):
            return

        def new_terminal(**kwargs):
            term = create(**kwargs)
            pid = getattr(getattr(term, "ptyproc", None), "pid", None)
            if pid is not None:
                try:
                    self.sessions.add(os.getsid(pid))
                except OSError:
                    pass
            return term

        new_terminal._notebook_idle = True
        manager.new_terminal = new_terminal

    def _terminal_items(self):
        manager = self.serverapp.web_app.settings.get("terminal_manager")
        return list((getattr(manager, "terminals", None) or {}).items())

    def _note_keeper(self, since_request):
        """Logs, once per change, which kernel or terminal alone keeps an unused server up."""
        keeper = None
        if since_request >= self.limit:
            named = [(s.busy_at, f"kernel {k[:8]}: {s.why}") for k, s in self.kernels.items()]
            named += [(s.busy_at, f"terminal {t}: {s.why}") for t, s in self.terminals.items()]
            if self.detached_why:
                named.append((self.detached_at, self.detached_why))
            keeper = max(named)[1] if named else None
        if keeper is not None and keeper != self.keeper:
            self.serverapp.log.info("notebook_idle: no request for %g s, but not idle: %s", self.limit, keeper)
        self.keeper = keeper

    def check(self):
        self.watch_new_terminals()  # in case the terminal manager came later
        now, mono = time.time(), time.monotonic()
        procs = _processes()
        children = _children(procs)
        self._check_kernels(procs, children, now, mono)
        self._check_terminals(procs, children, now, mono)
        self._check_detached(procs, children, now)
        request_at = _epoch(self.serverapp.web_app.last_activity())
        busy = [s.busy_at for s in self.kernels.values()] + [s.busy_at for s in self.terminals.values()] + [self.detached_at]
        latest = max([request_at] + busy)
        idle = now - latest
        if idle < self.limit:
            self._note_keeper(now - request_at)
            return
        parts = [f"last request or output {now - request_at:.0f} s ago"]
        for kernel_id, s in self.kernels.items():
            parts.append(f"kernel {kernel_id[:8]} ({s.state}) without a client, cpu use or output for {now - s.busy_at:.0f} s")
        for name, s in self.terminals.items():
            parts.append(f"terminal {name} without a running process for {now - s.busy_at:.0f} s")
        if self.detached_why:
            parts.append(f"no job left running by a kernel or terminal for {now - self.detached_at:.0f} s")
        reason = f"idle for {idle:.0f} s (limit {self.limit:.0f} s): " + "; ".join(parts)
        self.serverapp.log.info("notebook_idle: stopping the server: %s", reason)
        marker = os.environ.get("NOTEBOOK_IDLE_MARKER")
        if marker:
            with open(marker, "w", encoding="utf-8") as f:
                f.write(reason + "\n")
        if self.callback is not None:
            self.callback.stop()
        self.serverapp.stop()

    def safe_check(self):
        try:
            self.check()
        except Exception:  # a bug must not end the checks: log it and try again next time
            self.serverapp.log.exception("notebook_idle: the idle check failed")


def _load_jupyter_server_extension(serverapp):
    timeout = _idle_seconds()
    if timeout <= 0:
        return
    every = max(1.0, min(60.0, timeout / 4))
    serverapp.log.info("notebook_idle: stopping after %d idle seconds, checking every %g s", timeout, every)
    watch = IdleWatch(serverapp, timeout)
    watch.callback = ioloop.PeriodicCallback(watch.safe_check, every * 1000)
    watch.callback.start()
    # Once every extension is loaded (terminals are one in Jupyter Server 2).
    ioloop.IOLoop.current().add_callback(watch.watch_new_terminals)
    serverapp.web_app.settings["notebook_idle_callback"] = watch.callback


# Jupyter Server 1.x looks for this name as well.
load_jupyter_server_extension = _load_jupyter_server_extension
