"""The Makefile's entry points that a test can drive for real.

``make lab`` used to refuse to start as root (containers and CI images run as root), because
Jupyter demands ``--allow-root`` there; the Makefile now adds it when the user id is 0. The
test starts JupyterLab through make, as a user would, and asks the server what it serves.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_serves_the_notebooks_as_root_too(tmp_path):
    port = _free_port()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"))
    args = f"LAB_ARGS=--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token="
    proc = subprocess.Popen(["make", "-s", "lab", args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True, text=True)
    try:
        contents = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents/", timeout=2) as resp:
                    contents = json.load(resp)
                break
            except OSError:
                time.sleep(0.5)
        if contents is None:
            proc.kill()
            pytest.fail(f"JupyterLab did not answer (uid {os.getuid()}): {proc.communicate()[0][-2000:]}")
        served = sorted(item["name"] for item in contents["content"] if item["name"].endswith(".ipynb"))
        assert served == sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=10) as resp:
            assert resp.status == 200 and "JupyterLab" in resp.read().decode()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
