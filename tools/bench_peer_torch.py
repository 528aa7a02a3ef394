"""What the PyTorch peers of tools/bench.sh run on, and their peak memory:
imported by bench_{ops,style,upscale}_torch.py.

Debian's python3-torch calls whichever libblas.so.3 the loader finds: the
netlib reference BLAS unless tools/bench.sh puts OpenBLAS first on
LD_LIBRARY_PATH. describe() names the library actually mapped into this
process and times torch.mm, so a peer on the reference BLAS shows itself
(a few GFLOP/s instead of a hundred and more).

peak_rss_reset() / peak_rss_mib(): the process's peak resident memory since
the last reset (Linux: /proc/self/clear_refs and VmHWM; elsewhere the
whole run's peak from getrusage).
"""

import os
import resource
import time

import torch


def blas_library():
    """Path of the BLAS library mapped into this process, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return None
    for path in sorted(paths):
        name = os.path.basename(path)
        if "blas" in name and ".so" in name:
            return path
    return None


def mm_gflops(threads, n=1024):
    a, b = torch.rand(n, n), torch.rand(n, n)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(3):
        torch.mm(a, b)
    return 2.0 * n ** 3 * 3 / (time.perf_counter() - start) * 1e-9


def describe(threads):
    """One line: torch version, BLAS, its speed, threads and wait policy."""
    torch.set_num_threads(threads)
    flops = mm_gflops(threads)
    blas = blas_library() or "unknown"
    kind = "OpenBLAS" if "openblas" in blas else "reference BLAS (unfair peer)" if \
        "/blas/" in blas else "BLAS"
    return ("peer: torch %s on %s (%s): torch.mm 1024^3 at %.0f GFLOP/s; %d intra-op threads, "
            "OMP_WAIT_POLICY=%s, OPENBLAS_NUM_THREADS=%s; convs through %s"
            % (torch.__version__, kind, blas, flops, torch.get_num_threads(),
               os.environ.get("OMP_WAIT_POLICY", "unset"),
               os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
               "oneDNN" if torch.backends.mkldnn.is_available() else "ATen's im2col + BLAS"))


def peak_rss_reset():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
