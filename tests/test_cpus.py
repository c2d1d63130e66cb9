"""torch's thread count follows the CPUs this process may use: affinity mask and cgroup quota, read from fake files."""

import os

import pytest
import torch

from vae_helpers import cpus

V1_MOUNT = "36 25 0:31 {root} /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct"
V2_MOUNT = "30 23 0:26 {root} /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw"
OTHER_MOUNTS = ["22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw",
                "37 25 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory"]


def fake_system(tmp_path, cgroup_lines, mount_lines, files):
    """A fake /proc/self (cgroup, mountinfo) and file system root under tmp_path; returns (proc_self, root)."""
    proc_self, root = tmp_path / "proc" / "self", tmp_path / "root"
    proc_self.mkdir(parents=True)
    (proc_self / "cgroup").write_text("\n".join(cgroup_lines) + "\n")
    (proc_self / "mountinfo").write_text("\n".join([*OTHER_MOUNTS, *mount_lines]) + "\n")
    for path, text in files.items():
        (root / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (root / path.lstrip("/")).write_text(text + "\n")
    return proc_self, root


@pytest.fixture
def eight_cpus(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)), raising=False)


def v1_box(tmp_path, quota, period="100000", parent_quota="-1"):
    """cgroup v1 seen from the host: this process in /binder/user, with a quota there and maybe one above."""
    folder = "/sys/fs/cgroup/cpu,cpuacct"
    return fake_system(tmp_path, ["5:memory:/binder/user", "4:cpu,cpuacct:/binder/user", "0::/"],
                       [V1_MOUNT.format(root="/")],
                       {f"{folder}/cpu.cfs_quota_us": "-1", f"{folder}/cpu.cfs_period_us": "100000",
                        f"{folder}/binder/cpu.cfs_quota_us": parent_quota, f"{folder}/binder/cpu.cfs_period_us": period,
                        f"{folder}/binder/user/cpu.cfs_quota_us": quota,
                        f"{folder}/binder/user/cpu.cfs_period_us": period})


@pytest.mark.parametrize("quota, period, parent_quota, expected_quota, expected_cpus", [
    ("100000", "100000", "-1", 1.0, 1),  # Binder: one CPU
    ("250000", "100000", "-1", 2.5, 2),  # rounded down
    ("50000", "100000", "-1", 0.5, 1),  # half a CPU still gets one thread
    ("-1", "100000", "-1", None, 8),  # no quota: the affinity mask decides
    ("400000", "100000", "200000", 2.0, 2),  # a smaller quota on a parent cgroup wins
    ("300000", "200000", "-1", 1.5, 1),  # another period
])
def test_cgroup_v1_quota_limits_the_cpus(tmp_path, eight_cpus, quota, period, parent_quota, expected_quota,
                                         expected_cpus):
    proc_self, root = v1_box(tmp_path, quota, period, parent_quota)
    assert cpus.cgroup_cpu_quota(proc_self, root) == expected_quota
    assert cpus.available_cpus(proc_self, root) == expected_cpus


def test_cgroup_v1_inside_a_container_reads_the_mount_root(tmp_path, eight_cpus):
    # In a container the cgroup path (/docker/abc) is the mount's root: the files sit at the mount point itself.
    folder = "/sys/fs/cgroup/cpu,cpuacct"
    proc_self, root = fake_system(tmp_path, ["4:cpu,cpuacct:/docker/abc"], [V1_MOUNT.format(root="/docker/abc")],
                                  {f"{folder}/cpu.cfs_quota_us": "200000", f"{folder}/cpu.cfs_period_us": "100000"})
    assert cpus.cgroup_cpu_quota(proc_self, root) == 2.0
    assert cpus.available_cpus(proc_self, root) == 2


@pytest.mark.parametrize("leaf, parent, expected_quota, expected_cpus", [
    ("100000 100000", "max 100000", 1.0, 1),
    ("max 100000", "300000 100000", 3.0, 3),
    ("max 100000", "max 100000", None, 8),
    ("150000 50000", "max 100000", 3.0, 3),
])
def test_cgroup_v2_cpu_max_limits_the_cpus(tmp_path, eight_cpus, leaf, parent, expected_quota, expected_cpus):
    proc_self, root = fake_system(tmp_path, ["0::/user.slice/jupyter"], [V2_MOUNT.format(root="/")],
                                  {"/sys/fs/cgroup/user.slice/cpu.max": parent,
                                   "/sys/fs/cgroup/user.slice/jupyter/cpu.max": leaf})
    assert cpus.cgroup_cpu_quota(proc_self, root) == expected_quota
    assert cpus.available_cpus(proc_self, root) == expected_cpus


def test_the_affinity_mask_limits_the_cpus_below_a_larger_quota(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3}, raising=False)  # taskset -c 3
    proc_self, root = v1_box(tmp_path, "400000")
    assert cpus.available_cpus(proc_self, root) == 1


def test_without_cgroup_files_only_the_affinity_mask_counts(tmp_path, eight_cpus):
    assert cpus.cgroup_cpu_quota(tmp_path / "missing", tmp_path) is None
    assert cpus.available_cpus(tmp_path / "missing", tmp_path) == 8


def test_set_torch_threads_uses_the_quota_and_the_variable_overrides_it(tmp_path, eight_cpus, restore_threads):
    proc_self, root = v1_box(tmp_path, "100000")
    assert cpus.set_torch_threads({}, proc_self, root) == 1 and torch.get_num_threads() == 1
    assert cpus.set_torch_threads({"VAE_NUM_THREADS": "3"}, proc_self, root) == 3 and torch.get_num_threads() == 3


@pytest.mark.parametrize("value", ["two", "0", "-1", "1.5"])
def test_a_bad_thread_variable_is_refused_clearly(value, restore_threads):
    with pytest.raises(ValueError, match=f"VAE_NUM_THREADS must be a whole number of at least 1, got '{value}'"):
        cpus.set_torch_threads({"VAE_NUM_THREADS": value})
