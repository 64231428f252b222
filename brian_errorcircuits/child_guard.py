"""Run a command so that it never outlives the Python process it works for.

Usage: ``python child_guard.py OWNER_PID COMMAND [ARGUMENT ...]``

Brian2 starts ``make`` (which starts the compiler) and the standalone binary
as plain child processes, so a run killed by SIGTERM or ``kill -9`` would
leave them running, writing into its build folder.  :func:`brian_session
<brian_errorcircuits.circuit.brian_session>` makes Brian2 start them through
this script instead, which

* starts COMMAND in a process group of its own, which it kills as a whole
  (make, the shell, every compiler, the binary) when OWNER_PID ends, or when
  it gets SIGINT (Ctrl-C), SIGTERM or SIGHUP itself;
* makes the kernel kill COMMAND if this script dies first, even by ``kill -9``;
* exits with COMMAND's status.

Only the standard library is imported: it runs as a script (``python -I``),
not as part of the package.
"""
import ctypes
import os
import signal
import subprocess
import sys

#: seconds between checks that the owner is alive
POLL_S = 0.05
#: prctl option: the signal a process gets when its parent dies (Linux)
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """In the child, before COMMAND starts: be killed when this script dies (Linux; elsewhere nothing)."""
    try:
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):
        pass


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, killed but not yet reaped by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def main(argv) -> int:
    owner, command = int(argv[0]), argv[1:]
    child = subprocess.Popen(command, start_new_session=True, preexec_fn=die_with_parent)

    def end_group(signum=signal.SIGKILL, frame=None):
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        child.wait()
        sys.exit(128 + signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, end_group)
    while True:
        try:
            return child.wait(timeout=POLL_S)
        except subprocess.TimeoutExpired:
            if not alive(owner):
                end_group()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
