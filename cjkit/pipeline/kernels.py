"""Kernels that run several notebooks each, with a clean namespace for every notebook.

A notebook kernel spends about 2.5 s of CPU importing pandas, matplotlib, seaborn,
statsmodels and the kit before the first cell does any work; a suite of twelve notebooks
paid that twelve times. ``cjkit run`` therefore starts one kernel per job and runs its
notebooks one after the other in it. Between two notebooks :func:`kernel_reset` (executed
inside the kernel) puts back what a fresh kernel would have:

* the user namespace and the input history are emptied and the prompt counter restarts at
  1 (IPython's ``reset(new_session=True)``);
* figures are closed and matplotlib's settings restored (the kit's style included);
* pandas options, warning filters, environment variables, ``sys.path``, the working folder
  and IPython's display formatters (the kit's table style included) are restored to the
  snapshot :func:`kernel_setup` took after the kernel started.

Imported modules stay imported: that is the point. A notebook that kills or hangs its
kernel gets a fresh kernel for the next notebook. ``cjkit run --fresh-kernels`` starts a
kernel per notebook instead.

Kernels talk over Unix sockets, not TCP ports: kernels started at the same moment
(``--jobs``, test workers) choose TCP ports by binding and releasing them and can choose the
same one; sockets named after the kernel's connection file cannot collide.
"""
from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

__all__ = ["NotebookKernel", "kernel_setup", "kernel_reset", "ipc_kernel_manager_class"]

_STATE: dict[str, Any] = {}  # in the kernel: what a fresh kernel looked like


# --- run inside the kernel ----------------------------------------------------------------

def kernel_setup() -> None:
    """Snapshot the state of a fresh kernel (run once, right after it started)."""
    import matplotlib
    import matplotlib.pyplot as plt
    from IPython import get_ipython

    # Load the inline backend now: matplotlib does it at the first figure, and that is when
    # the backend sets its figure settings and registers the Figure -> PNG display printer.
    # A snapshot taken before would drop the printer at the next reset: no figure would show.
    plt.figure()
    plt.close("all")
    shell = get_ipython()
    _STATE.update(
        environ=dict(os.environ), path=list(sys.path), warnings=list(warnings.filters),
        rc=dict(matplotlib.rcParams),
        formatters={key: (dict(f.type_printers), dict(f.deferred_printers))
                    for key, f in shell.display_formatter.formatters.items()})


def kernel_reset(folder: str) -> None:
    """Give the next notebook a kernel as a fresh one would be, working in ``folder``."""
    import matplotlib
    import matplotlib.pyplot as plt
    from IPython import get_ipython

    shell = get_ipython()
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matplotlib.rcParams.update(_STATE["rc"])
        if "pandas" in sys.modules:
            sys.modules["pandas"].reset_option("all")
    os.environ.clear()
    os.environ.update(_STATE["environ"])
    sys.path[:] = _STATE["path"]
    warnings.filters[:] = _STATE["warnings"]
    warnings._filters_mutated()  # type: ignore[attr-defined]  # drop the cached "already warned" state
    for key, (types, deferred) in _STATE["formatters"].items():
        formatter = shell.display_formatter.formatters[key]
        formatter.type_printers.clear()
        formatter.type_printers.update(types)
        formatter.deferred_printers.clear()
        formatter.deferred_printers.update(deferred)
    os.chdir(folder)
    shell.reset(new_session=True)


_SETUP = "import cjkit.pipeline.kernels as _k\n_k.kernel_setup()\ndel _k"
_RESET = "import cjkit.pipeline.kernels as _k\n_k.kernel_reset({folder!r})"


# --- run by the runner ---------------------------------------------------------------------

def ipc_kernel_manager_class() -> type:
    """An ``AsyncKernelManager`` on Unix sockets that also closes the clients it handed out.

    nbclient leaves the channels of its kernel client open when it does not own the kernel
    manager (we keep the kernel for the next notebook); :meth:`release_clients` closes them.
    """
    import tempfile
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum, default

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _ip_default(self) -> str:  # absolute: the kernel runs in the notebook's folder
            return str(Path(tempfile.gettempdir()) / f"cjkit-{uuid.uuid4().hex[:12]}-ipc")

        def client(self, **kwargs: Any) -> Any:
            kc = super().client(**kwargs)
            self.__dict__.setdefault("_handed_out", []).append(kc)
            return kc

        def release_clients(self) -> None:
            for kc in self.__dict__.pop("_handed_out", []):
                kc.stop_channels()

    return IPCKernelManager


class KernelError(RuntimeError):
    """The kernel could not be started, set up or reset."""


class NotebookKernel:
    """One kernel that runs notebooks one after another (see the module docstring).

    Use from one thread. ``manager`` is what ``papermill.execute_notebook(km=...)`` takes.
    """

    def __init__(self, kernel_name: str, *, cwd: str | Path, env: dict[str, str] | None = None,
                 startup_timeout: float = 60) -> None:
        self.kernel_name = kernel_name
        self.cwd = str(cwd)
        self.env = env
        self.startup_timeout = startup_timeout
        self.manager: Any = None
        self.notebooks = 0  # notebooks run since the kernel started

    @staticmethod
    def _sync(result: Any) -> Any:
        """The value of ``result``, awaited first when it is a coroutine (async manager methods)."""
        import inspect

        from jupyter_core.utils import run_sync

        if not inspect.isawaitable(result):
            return result

        async def wait() -> Any:
            return await result

        return run_sync(wait)()

    def start(self) -> None:
        """Start the kernel in ``cwd`` and take the fresh-kernel snapshot."""
        self.manager = ipc_kernel_manager_class()(kernel_name=self.kernel_name)
        kwargs: dict[str, Any] = {"cwd": self.cwd, "extra_arguments": ["--IPKernelApp.log_level=CRITICAL"]}
        if self.env is not None:
            kwargs["env"] = self.env
        self._sync(self.manager.start_kernel(**kwargs))
        self.notebooks = 0
        self.execute(_SETUP)

    @property
    def alive(self) -> bool:
        return self.manager is not None and bool(self._sync(self.manager.is_alive()))

    def execute(self, code: str, *, timeout: float = 60) -> None:
        """Run ``code`` silently in the kernel; raise :class:`KernelError` if it fails."""
        async def run() -> dict:
            kc = self.manager.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=self.startup_timeout)
                return await kc.execute_interactive(code, silent=True, store_history=False, timeout=timeout,
                                                    output_hook=lambda msg: None)
            finally:
                kc.stop_channels()

        try:
            reply = self._sync(run())
        except Exception as exc:  # a dead or hung kernel: the caller restarts it
            raise KernelError(f"kernel {self.kernel_name!r} did not run its set-up code: {exc}") from exc
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise KernelError(f"kernel {self.kernel_name!r}: {content.get('ename')}: {content.get('evalue')}")

    def prepare(self, folder: str | Path, *, env: dict[str, str] | None = None) -> None:
        """Before a notebook: a fresh kernel if this one died, else a reset one, working in ``folder``.

        ``env``: environment variables for this notebook only (the next reset removes them).
        """
        if self.manager is None or not self.alive:
            self.shutdown()
            self.start()
        if self.notebooks:
            try:
                self.execute(_RESET.format(folder=str(folder)))
            except KernelError:
                self.shutdown()
                self.start()
        if self.notebooks == 0 and str(folder) != self.cwd:
            self.execute(f"import os\nos.chdir({str(folder)!r})\ndel os")
        if env:
            self.execute(f"import os\nos.environ.update({dict(env)!r})\ndel os")

    def finished(self, *, healthy: bool) -> None:
        """After a notebook: close its clients; a kernel that failed badly is replaced next time."""
        if self.manager is not None:
            self.manager.release_clients()
        self.notebooks += 1
        if not healthy:
            self.shutdown()

    def shutdown(self) -> None:
        if self.manager is None:
            return
        manager, self.manager = self.manager, None
        try:
            manager.release_clients()
            self._sync(manager.shutdown_kernel(now=True))
        except Exception:  # already dead: nothing left to stop
            pass
        finally:
            self._sync(manager.cleanup_resources())
