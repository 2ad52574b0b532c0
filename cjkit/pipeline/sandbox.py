"""Where a graded submission runs: its own folder, a memory limit, and no network.

The grader (:mod:`cjkit.pipeline.grade`) starts each submission's kernel through
:class:`SandboxKernelManager`, whose command is the kernel's own, wrapped twice:

1. ``python -m cjkit.pipeline.sandbox --memory BYTES -- <kernel command>`` sets the address-space
   limit (``RLIMIT_AS``) and then becomes the kernel: an allocation past the limit raises
   ``MemoryError`` in the student's cell, and the kernel lives on;
2. where bubblewrap (``bwrap``) is installed, inside it: the machine read-only, no network,
   the submission's folder the only writable place, and the folders given as ``hide`` (the
   answer key, the submissions, the grades, the self-check keys, and the folder holding every
   submission's working folder during the run) replaced by empty ones; the submission's own
   folder is then mounted back inside the last one. Without bubblewrap the submission still runs in its own
   temporary folder, and the key never exists on disk at all (the grader holds it in memory).

The kernel's connection file, sockets, IPython profile, matplotlib and load caches all live
in the submission's folder.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["bwrap_available", "wrap", "sandbox_kernel_manager", "kernel_env", "DEFAULT_MEMORY"]

DEFAULT_MEMORY = 4 * 1024**3  # address space (not resident memory): libraries reserve far more than they use


@lru_cache(maxsize=1)
def bwrap_available() -> bool:
    """True when ``bwrap`` is installed and can build a sandbox here (user namespaces allowed)."""
    path = shutil.which("bwrap")
    if path is None:
        return False
    probe = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-net", "--die-with-parent", "true"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


def wrap(command: list[str], *, work: Path, memory: int = DEFAULT_MEMORY, hide: list[Path] = ()) -> list[str]:
    """The kernel ``command`` with the memory limit, inside bubblewrap when available."""
    inner = [sys.executable, "-m", "cjkit.pipeline.sandbox", "--memory", str(int(memory)), "--", *command]
    if not bwrap_available():
        return inner
    mounts = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for folder in hide:
        if Path(folder).is_dir():
            mounts += ["--tmpfs", str(Path(folder).resolve())]
    mounts += ["--bind", str(work), str(work)]
    # --new-session: the kernel is its own process group, so interrupting it (a cell over its time
    # limit) reaches the kernel, not bubblewrap; it also cuts the sandbox off the terminal
    return [shutil.which("bwrap"), *mounts, "--unshare-net", "--die-with-parent", "--new-session",
            "--chdir", str(work), "--", *inner]


def kernel_env(work: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The kernel's environment: every cache and profile folder inside ``work``."""
    env = dict(base if base is not None else os.environ)
    (work / ".tmp").mkdir(parents=True, exist_ok=True)
    env.update({"CJKIT_CACHE_DIR": str(work / ".cache" / "cjkit"), "IPYTHONDIR": str(work / ".ipython"),
                "TMPDIR": str(work / ".tmp"),
                "MPLCONFIGDIR": str(work / ".matplotlib"), "XDG_CACHE_HOME": str(work / ".cache"),
                "JUPYTER_RUNTIME_DIR": str(work / ".runtime"), "HOME": str(work),
                "CJKIT_GRADING": "1",
                # address space a kernel reserves without using it: malloc arenas per thread and
                # BLAS thread buffers; fewer of them keep the limit about real allocations
                "MALLOC_ARENA_MAX": "2", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    return env


def sandbox_kernel_manager(kernel_name: str, *, work: Path, memory: int = DEFAULT_MEMORY,
                           hide: list[Path] = ()) -> Any:
    """An ``AsyncKernelManager`` (Unix sockets in ``work``) whose kernel runs through :func:`wrap`."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    class SandboxKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            return wrap(super().format_kernel_cmd(extra_arguments), work=work, memory=memory, hide=list(hide))

    (work / ".runtime").mkdir(parents=True, exist_ok=True)
    km = SandboxKernelManager(kernel_name=kernel_name, ip=str(work / "ipc"),
                              connection_file=str(work / ".runtime" / "kernel.json"))
    # interrupt by a message on the control channel: a signal would go to bubblewrap's process
    # group (the kernel runs in its own session inside it) and end the sandbox with the kernel
    km.kernel_spec.interrupt_mode = "message"
    return km


def main(argv: list[str] | None = None) -> None:
    """``python -m cjkit.pipeline.sandbox --memory BYTES -- command ...``: limit, then become ``command``."""
    import resource

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 4 or args[0] != "--memory" or args[2] != "--":
        raise SystemExit("usage: python -m cjkit.pipeline.sandbox --memory BYTES -- command ...")
    limit = int(args[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.execvp(args[3], args[3:])


if __name__ == "__main__":  # pragma: no cover - runs as the kernel's launcher
    main()
