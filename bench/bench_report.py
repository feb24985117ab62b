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


def peak_of(rows):
    """The 'peak' row bench_peak wrote into the run's JSON lines (None if it is missing)."""
    return next((r for r in rows if r.get("side") == "peak"), None)


def peak_line(peak):
    """'# FMA peak ...': the bound the % of peak column divides by."""
    if not peak:
        return "# FMA peak: not measured (bench_peak did not run)"
    return (f"# FMA peak (bench_peak, float32): {peak['gflops']:.1f} GFLOP/s on {peak['threads']} threads "
            f"({peak['gflops_1_thread']:.1f} on 1), {peak['vector']}; GFLOP/s counts the convolutions' and dense "
            "layers' multiply-adds (a gradient as 3 forward passes), so it and % of peak are lower bounds")


def work_columns(row, peak):
    """' GFLOP/s  % peak  vec' for a seqjit row: achieved GFLOP/s of its counted flops, their share of the peak on
    the threads it ran on, and the kernels' vector width in bits."""
    if "flops" not in row:
        return f" {'?':>8} {'?':>6} {'?':>4}"
    achieved = row["flops"] / row["median_s"] / 1e9
    share = f"{100 * achieved / peak['gflops']:.0f}" if peak else "?"
    return f" {achieved:>8.1f} {share:>6} {row.get('vector_bits', '?'):>4}"


WORK_HEADER = f" {'GFLOP/s':>8} {'% peak':>6} {'vec':>4}"
