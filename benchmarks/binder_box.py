"""A Binder-like box on this machine: a cgroup (v1) with a CPU quota and a memory limit that holds this process.

Binder gives each user about one CPU through a CFS quota and kills a container above 2 GB. Root can make the same
limits here: a folder under /sys/fs/cgroup/cpu with cpu.cfs_quota_us = 100000 per period of 100000 us (one CPU)
and one under /sys/fs/cgroup/memory with memory.limit_in_bytes = 2 GB. Processes started inside, such as the
kernels of the notebooks, stay inside. The box is made inside the cgroups this process is in already, so any
limit the machine sets on them still holds. On leaving, this process moves back to the cgroups it came from and the
box's folders are removed, also when the run inside failed.
"""

import os
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CONTROLLERS = ("cpu", "memory")


class BinderBox:
    """with BinderBox(cpus=1.0, memory_bytes=2 * 1024**3) as box: ... runs the block inside the box."""

    def __init__(self, cpus=1.0, memory_bytes=2 * 1024**3, name=None):
        self.cpus, self.memory_bytes = cpus, memory_bytes
        self.name = name or f"vae-binder-box-{os.getpid()}"
        self.origins, self.folders = {}, {}

    def __enter__(self):
        for controller in CONTROLLERS:
            if not (CGROUP_ROOT / controller / "cgroup.procs").is_file():
                raise SystemExit(f"--binder-box needs the cgroup v1 '{controller}' hierarchy at "
                                 f"{CGROUP_ROOT / controller}, which this machine does not have (cgroup v2 only, "
                                 "or not Linux)")
        if os.geteuid() != 0:
            raise SystemExit("--binder-box makes cgroups, which needs root: run it as root or leave the option out")
        self.origins = {controller: self._current_cgroup(controller) for controller in CONTROLLERS}
        self.folders = {controller: origin / self.name for controller, origin in self.origins.items()}
        try:
            for folder in self.folders.values():
                folder.mkdir()
            period = int((self.folders["cpu"] / "cpu.cfs_period_us").read_text())
            (self.folders["cpu"] / "cpu.cfs_quota_us").write_text(str(round(self.cpus * period)))
            (self.folders["memory"] / "memory.limit_in_bytes").write_text(str(self.memory_bytes))
            for folder in self.folders.values():
                (folder / "cgroup.procs").write_text(str(os.getpid()))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info):
        for controller, folder in self.folders.items():
            try:
                (self.origins[controller] / "cgroup.procs").write_text(str(os.getpid()))
            except OSError:
                pass  # never entered this one
            for _ in range(50):  # a kernel that was just shut down may take a moment to leave
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
        return False

    def reset_peak_memory(self):
        (self.folders["memory"] / "memory.max_usage_in_bytes").write_text("0")

    def peak_memory_mb(self):
        return int((self.folders["memory"] / "memory.max_usage_in_bytes").read_text()) / 2**20

    def throttled_seconds(self):
        """Seconds the box's processes were held back by the CPU quota so far (cpu.stat throttled_time)."""
        for line in (self.folders["cpu"] / "cpu.stat").read_text().splitlines():
            key, value = line.split()
            if key == "throttled_time":
                return int(value) / 1e9
        return float("nan")

    @staticmethod
    def _current_cgroup(controller):
        """This process's cgroup folder for `controller`, from /proc/self/cgroup (where to go back to)."""
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                folder = CGROUP_ROOT / controller / path.lstrip("/")
                if (folder / "cgroup.procs").is_file():
                    return folder
        return CGROUP_ROOT / controller
