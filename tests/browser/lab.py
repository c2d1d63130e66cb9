"""Drive notebooks in a real JupyterLab in headless Chromium (playwright), as a learner would.

JupyterLab runs from this environment on 127.0.0.1 with every Jupyter and IPython folder in a temporary directory,
and opens copies of the notebooks (Lab autosaves outputs into the file it opens). Selectors and pitfalls follow
shared/ENVIRONMENT.md: wait for a kernel that is idle and connected, confirm Run All started, Unicode minus in
readouts, and no windowing, so every cell is in the page.
"""

import base64
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from series_tools.lab_server import SERVER_FLAG

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# User settings: no news or update checks in screenshots; the notebook's windowing is LabServer's `windowing`.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                          "checkForUpdates": False},
}
TRACKER_SETTINGS = "@jupyterlab/notebook-extension/tracker.jupyterlab-settings"


def find_chromium():
    for candidate in (os.environ.get("CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def page_with_module(browser, source, name):
    """A blank page of `browser` with the ES module `source` (text) imported as window.<name>: a widget's module
    tested on its own, with no JupyterLab."""
    page = browser.new_page()
    url = "data:text/javascript;base64," + base64.b64encode(source.encode()).decode()
    page.evaluate(f"async url => {{ window.{name} = await import(url); }}", url)
    return page


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A JupyterLab server over `root`, isolated in `home`; use as a context manager.

    windowing: the notebook's windowingMode. The tests use "none" (every cell laid out, so every locator finds its
    cell); benchmarks/bench_browser.py uses Lab's default, "contentVisibility", which learners get.
    environment: variables set for the server and so for its kernels, over this process' own.
    """

    def __init__(self, root, home, windowing="none", environment=None):
        self.root, self.home, self.windowing = Path(root), Path(home), windowing
        self.extra_environment = dict(environment or {})
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def environment(self):
        env = {**os.environ, **self.extra_environment}
        for name, folder in {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data", "JUPYTER_RUNTIME_DIR": "runtime",
                             "JUPYTERLAB_SETTINGS_DIR": "settings", "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
                             "IPYTHONDIR": "ipython", "MPLCONFIGDIR": "matplotlib"}.items():
            env[name] = str(self.home / folder)
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        settings = {**LAB_SETTINGS, TRACKER_SETTINGS: {"windowingMode": self.windowing}}
        for relative, values in settings.items():
            path = self.home / "settings" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        return env

    def __enter__(self):
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
                   f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
                   SERVER_FLAG]  # as `make lab` runs it: replies reach the page without Nagle's delay
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # Jupyter refuses to start as root without it
        self.log = open(self.home / "lab.log", "w")
        self.process = subprocess.Popen(command, env=self.environment(), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited at start: {(self.home / 'lab.log').read_text()[-2000:]}")
            try:
                if self.api("status") is not None:
                    return self
            except OSError:
                time.sleep(0.3)
        raise TimeoutError("JupyterLab did not answer within 180 s")

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def api(self, path):
        with urllib.request.urlopen(f"{self.url}/api/{path}?token={self.token}", timeout=5) as response:
            return json.loads(response.read())

    def shut_down(self, notebook):
        """Delete `notebook`'s session, which shuts its kernel down."""
        for session in self.api("sessions"):
            if session["path"] == notebook or session["path"].endswith("/" + notebook):
                request = urllib.request.Request(f"{self.url}/api/sessions/{session['id']}?token={self.token}",
                                                 method="DELETE")
                urllib.request.urlopen(request, timeout=10).close()

    def kernel_ready(self, notebook):
        """True when the kernel of `notebook`'s session exists, is idle and has a connected page."""
        for session in self.api("sessions"):
            if session["path"] == notebook or session["path"].endswith("/" + notebook):
                kernel = session["kernel"]
                return kernel["execution_state"] == "idle" and kernel["connections"] >= 1
        return False


class NotebookPage:
    """One notebook open in JupyterLab in a Chromium page."""

    def __init__(self, browser, server, name, viewport=(1400, 1000), wait_for_kernel=True):
        self.server, self.name = server, name
        self.page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
        # A workspace of its own: the default one would reopen the tabs of notebooks opened before this one.
        workspace = secrets.token_hex(4)
        self.page.goto(f"{server.url}/lab/workspaces/{workspace}/tree/{name}?token={server.token}")
        self.panel = self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").first
        self.panel.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=180_000)
        if wait_for_kernel:  # to run cells; reading the page needs none
            self.wait_for(self.kernel_ready, 180, "a connected, idle kernel")

    def wait_for(self, condition, seconds, what):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if condition():
                return
            self.page.wait_for_timeout(250)
        raise TimeoutError(f"waited {seconds} s for {what} in {self.name}")

    def kernel_ready(self):
        return self.server.kernel_ready(self.name)

    def close(self):
        self.page.close()
        self.server.shut_down(self.name)

    def busy_prompts(self):
        return self.panel.locator(".jp-InputPrompt:has-text('[*]')").count()

    def run_all(self, seconds=900):
        """Run All Cells from the Run menu; retry once if no cell started (a kernel can report idle too early)."""
        for attempt in range(3):
            self.page.locator(".lm-MenuBar-itemLabel:text-is('Run')").click()
            self.page.locator(".lm-Menu-itemLabel:text-is('Run All Cells')").click()
            try:
                self.wait_for(lambda: self.busy_prompts() > 0 or self.executed_all(), 60, "Run All to start")
                break
            except TimeoutError:
                self.page.keyboard.press("Escape")  # close a menu left open by a click that did not land
                if attempt == 2:
                    raise
        try:
            self.wait_for(lambda: self.executed_all() and self.kernel_ready(), seconds, "every cell to run")
        except TimeoutError:
            prompts = self.panel.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()
            raise TimeoutError(f"{self.name}: not every cell ran within {seconds} s; prompts {prompts}") from None

    def executed_all(self):
        prompts = self.panel.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()
        return bool(prompts) and all(p.strip().startswith("[") and p.strip() not in ("[ ]:", "[*]:") for p in prompts)

    def error_outputs(self):
        return self.panel.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
                                 ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").all_inner_texts()

    def widget_cell(self, source_snippet):
        """The code cell whose source contains `source_snippet`, scrolled into view."""
        cell = self.panel.locator(".jp-Notebook .jp-CodeCell").filter(has_text=source_snippet).first
        cell.scroll_into_view_if_needed()
        return cell

    def wait_for_typesetting(self, at_least=1, seconds=180, settled_polls=4):
        """Wait until MathJax has typeset at least `at_least` formulas and the count has stopped changing for
        `settled_polls` polls in a row (a second); return the count. No fixed delay, so a busy machine only waits
        longer."""
        counts = []

        def settled():
            counts.append(self.panel.locator("mjx-container").count())
            recent = counts[-settled_polls:]
            return len(recent) == settled_polls and len(set(recent)) == 1 and recent[0] >= at_least

        self.wait_for(settled, seconds, f"MathJax to typeset at least {at_least} formula(s)")
        return counts[-1]

    def wait_idle(self, seconds=120):
        self.wait_for(self.kernel_ready, seconds, "the kernel to be idle")
        self.page.wait_for_timeout(300)  # the last image update reaches the page just after the kernel goes idle
