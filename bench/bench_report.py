"""What the bench/run_*.sh tables say about the machine they were measured on."""

import os
import subprocess


def machine_line():
    """'# <CPU model>; N CPUs; load average at start ..., at end ...' (the start is $LOAD_AT_START, set by the
    run script before the first measurement: other work on the machine skews torch's 2 threads most)."""
    cpu = subprocess.run("lscpu | grep 'Model name'", shell=True, capture_output=True, text=True).stdout.strip()
    with open("/proc/loadavg") as f:
        end = " ".join(f.read().split()[:3])
    return (f"# {cpu}; {os.cpu_count()} CPUs; load average at start {os.environ.get('LOAD_AT_START', '?')}, "
            f"at end {end}")
