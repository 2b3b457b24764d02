"""Peak memory of a child process, shared by the tests and the benchmarks."""
import os
import subprocess
import time


def peak_rss_kib(cmd, cwd=None):
    """Runs `cmd` to the end and returns (exit code, stderr, peak resident memory in KiB).

    The peak is the process's own VmHWM, polled from /proc while it runs, once /proc/PID/exe
    is the command's binary. Not wait4's ru_maxrss: Linux carries the high-water mark of the
    memory a child started from (Python's, through vfork) across exec, so that figure would be
    the caller's own peak.
    """
    binary = os.path.basename(cmd[0])
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while p.poll() is None:
        try:
            if os.path.basename(os.readlink(f"/proc/{p.pid}/exe")) == binary:
                with open(f"/proc/{p.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
        time.sleep(0.005)
    return p.returncode, p.stderr.read().decode(), peak
