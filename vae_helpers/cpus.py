"""How many CPUs this process may really use, and torch's thread count set to match.

os.cpu_count() reports every core of the machine, and torch starts one thread per core. On Binder a user's
container gets about one core's worth of time through a cgroup CPU quota, so those threads spend most of their
time throttled and training runs several times slower than on one thread. The CPUs really available are the
fewest of: the affinity mask (taskset, os.sched_getaffinity) and the cgroup quota (cgroup v2 `cpu.max`, cgroup
v1 `cpu.cfs_quota_us / cpu.cfs_period_us`, along the path from this process's cgroup to the root), rounded down,
at least 1. The environment variable VAE_NUM_THREADS overrides it.

Why not joblib.cpu_count() (loky), which Colab preinstalls and which also reads the affinity and the quota: it reads
the quota only at the root of the cgroup mount (/sys/fs/cgroup/cpu.max, /sys/fs/cgroup/cpu/cpu.cfs_quota_us), which is
the process's own cgroup only when a container mounts it there, and it rounds a quota up. Measured on 2026-12-06 with
joblib 1.5.3 inside the series' Binder-like box (a nested cgroup v1 with a 1-CPU quota, benchmarks/binder_box.py) on a
2-core machine: joblib.cpu_count() 2, available_cpus() 1; with a 1.5-CPU quota, 2 and 1.
"""

import math
import os
from pathlib import Path

import torch

THREADS_VARIABLE = "VAE_NUM_THREADS"


def available_cpus(proc_self="/proc/self", root="/"):
    """Return the number of CPUs this process may use: min(affinity, cgroup quota), rounded down, at least 1.

    proc_self, root: where /proc/self and the file system root are (tests point them at fake files).
    """
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cgroup_cpu_quota(proc_self, root)
    cpus = affinity if quota is None else min(affinity, math.floor(quota))
    return max(1, cpus)


def cgroup_cpu_quota(proc_self="/proc/self", root="/"):
    """The smallest CPU quota (in CPUs, e.g. 1.5) on this process's cgroup or any cgroup above it; None if none.

    Reads /proc/self/cgroup for the process's cgroup paths and /proc/self/mountinfo for where each hierarchy is
    mounted, so it works inside containers too, where the cgroup's path is relative to the mount's root.
    """
    proc_self, root = Path(proc_self), Path(root)
    try:
        memberships = (proc_self / "cgroup").read_text().splitlines()
        mounts = (proc_self / "mountinfo").read_text().splitlines()
    except OSError:
        return None  # not Linux, or /proc is not mounted: no quota we can see
    quotas = []
    for line in memberships:  # "hierarchy-id:controllers:path", e.g. "0::/user.slice" or "4:cpu,cpuacct:/docker/1"
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2, the unified hierarchy
            mount = _mount_point(mounts, "cgroup2", None)
            read_quota = _quota_v2
        elif "cpu" in controllers.split(","):
            mount = _mount_point(mounts, "cgroup", "cpu")
            read_quota = _quota_v1
        else:
            continue
        if mount is None:
            continue
        mount_point, mount_root = mount
        for folder in _folders_up_to(root / mount_point.lstrip("/"), path, mount_root):
            quota = read_quota(folder)
            if quota is not None:
                quotas.append(quota)
    return min(quotas) if quotas else None


def set_torch_threads(environ=None, proc_self="/proc/self", root="/"):
    """Set torch's intra-op thread count to VAE_NUM_THREADS, or else to available_cpus(); return the count.

    Called by the setup cell of every notebook. Raises ValueError for a VAE_NUM_THREADS that is not a whole number
    of at least 1.
    """
    environ = os.environ if environ is None else environ
    requested = environ.get(THREADS_VARIABLE, "").strip()
    if requested:
        if not requested.isdigit() or int(requested) < 1:
            raise ValueError(f"{THREADS_VARIABLE} must be a whole number of at least 1, got {requested!r}; "
                             f"unset it to use the CPUs this process may use")
        threads = int(requested)
    else:
        threads = available_cpus(proc_self, root)
    torch.set_num_threads(threads)
    return threads


def _mount_point(mounts, fstype, controller):
    """(mount point, root of the hierarchy that is mounted there) for the first matching cgroup mount, or None."""
    for line in mounts:
        # "36 25 0:31 /docker/1 /sys/fs/cgroup/cpu,cpuacct rw,... shared:16 - cgroup cgroup rw,cpu,cpuacct"
        fields, _, tail = line.partition(" - ")
        fields, tail = fields.split(), tail.split()
        if len(fields) < 5 or len(tail) < 3 or tail[0] != fstype:
            continue
        if controller is None or controller in tail[2].split(","):
            return fields[4], fields[3]
    return None


def _folders_up_to(mount_point, cgroup_path, mount_root):
    """The cgroup's folder under mount_point, then each parent up to mount_point itself."""
    inside = cgroup_path == mount_root or cgroup_path.startswith(mount_root.rstrip("/") + "/")
    relative = os.path.relpath(cgroup_path, mount_root) if inside else "."
    parts = [] if relative == "." else Path(relative).parts
    return [mount_point.joinpath(*parts[:depth]) for depth in range(len(parts), -1, -1)]


def _quota_v2(folder):
    """cpu.max holds "max 100000" (no limit) or "QUOTA PERIOD" in microseconds."""
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
    except (OSError, ValueError):
        return None
    return None if quota == "max" else int(quota) / int(period)


def _quota_v1(folder):
    """cpu.cfs_quota_us is -1 (no limit) or the microseconds of CPU time allowed per cpu.cfs_period_us."""
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period
