"""The widget gallery in a real browser: Voila and JupyterLab serve it, Chromium shows it.

``notebooks/02_widget_gallery.ipynb`` is served by Voila on a free
127.0.0.1 port (as ``make gallery`` does) and, from a copy in a temporary
folder, by JupyterLab, and opened in headless Debian Chromium through
Playwright. Each widget is used as a person would: choose from a dropdown,
move a slider with the keyboard, press a button. Each test checks that the
view changed (its picture or its text), prints how long the browser waited
for it (timings are printed, not asserted) and saves a screenshot in its
temporary folder. Every server is stopped when the module ends, passed or
failed. ``make test`` installs Chromium (``make browser``); ``make
browser-test`` runs these tests alone; without Chromium, ``playwright``,
``voila`` or ``jupyterlab`` they are skipped with the command that installs them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "notebooks" / "02_widget_gallery.ipynb"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
START_TIMEOUT_S = 120
VIEW_TIMEOUT_MS = 30_000
# Voila's page template asks a CDN for Font Awesome; offline that fails, and our widgets
# use no icons, so nothing is missing.
OFFLINE_CDN = "cdn.jsdelivr.net/npm/@fortawesome"

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is missing: pip install -e '.[dev]'"
)
pytest.importorskip("voila", reason="voila is missing: pip install -e '.[dev]'")
pytest.importorskip("jupyterlab", reason="jupyterlab is missing: pip install -e '.[dev]'")
if not os.path.exists(CHROMIUM):
    pytest.skip(
        "Debian's chromium is missing: `make browser` (or apt-get install chromium)",
        allow_module_level=True,
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _serve(command: list[str], url: str, log: Path, env: dict, cwd: Path):
    """Start a server, wait until ``url`` answers, run the block; stop it whatever happened."""
    with open(log, "wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except urllib.error.HTTPError:
                break  # the server answers (a 403 or 404 for this path): it is up
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"{command[2]} did not start: {log.read_text(errors='replace')[-2000:]}"
                    )
                time.sleep(0.5)
        yield
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def _quiet_env(folder: Path) -> dict:
    """One BLAS thread; Jupyter's config, data and runtime files in ``folder``, not ~."""
    return {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "JUPYTER_CONFIG_DIR": str(folder / "config"),
        "JUPYTER_RUNTIME_DIR": str(folder / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(folder / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(folder / "workspaces"),
    }


@pytest.fixture(scope="module")
def gallery_url(tmp_path_factory):
    """Voila serving the gallery on a free local port, stopped after the module."""
    folder = tmp_path_factory.mktemp("voila")
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "voila",
        str(GALLERY),
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        "--no-browser",
    ]
    url = f"http://127.0.0.1:{port}/"
    with _serve(command, url + "static/", folder / "voila.log", _quiet_env(folder), ROOT):
        yield url


@pytest.fixture(scope="module")
def lab_url(tmp_path_factory):
    """JupyterLab on a free local port, serving a copy of the gallery (never the repository)."""
    folder = tmp_path_factory.mktemp("lab")
    root = folder / "root"  # what the file browser shows: the copy, nothing else
    root.mkdir()
    shutil.copy(GALLERY, root / GALLERY.name)
    # Render every cell of a notebook, not only those on screen, so outputs can be found.
    tracker = folder / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = _free_port(), "course-browser-test"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.news_url=",
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]
    url = f"http://127.0.0.1:{port}/"
    with _serve(command, url + "api", folder / "lab.log", _quiet_env(folder), root):
        yield f"{url}lab/tree/{GALLERY.name}?token={token}"


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium, closed after the module."""
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()


def _new_page(browser):
    """A page that records its script errors and failed requests in ``page.errors``."""
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "console",  # a failed request is reported below, with its address
        lambda message: (
            message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and page.errors.append(message.text)
        ),
    )
    page.on(
        "requestfailed",
        lambda request: (
            OFFLINE_CDN not in request.url and page.errors.append(f"request failed: {request.url}")
        ),
    )
    return page


@pytest.fixture(scope="module")
def page(browser, gallery_url):
    """The Voila page with every widget rendered (the training monitor's last epoch shown)."""
    page = _new_page(browser)
    started = time.monotonic()
    page.goto(gallery_url, timeout=START_TIMEOUT_S * 1000)
    page.wait_for_selector("text=epoch 15", timeout=START_TIMEOUT_S * 1000)
    print(f"Voila: gallery rendered in {time.monotonic() - started:.1f} s")
    yield page
    page.close()


@pytest.fixture(autouse=True)
def screenshot(request, tmp_path):
    """After each test, a screenshot of the page it used, in its temporary folder."""
    yield
    for name in ("page", "lab_page"):
        if name in request.fixturenames:
            shown = request.getfixturevalue(name)
            shown.screenshot(path=tmp_path / f"{name}.png", full_page=True)
            print(f"screenshot: {tmp_path / f'{name}.png'}")


WIDGETS = {  # a text that only that widget's output shows
    "FilterBrowser": "input channel",
    "ActivationBrowser": "test images",
    "NeuronBrowser": "receptive field of the neuron",
    "SaliencyExplorer": "fooling image",
    "CaptionBrowser": "test scenes",
    "TrainingMonitor": "epoch 15",
}


def output(page, widget: str):
    """The output area of the gallery cell that shows ``widget``."""
    return page.locator(".jp-OutputArea-output").filter(has_text=WIDGETS[widget]).first


def pictures(area) -> list[str]:
    return [img.get_attribute("src") or "" for img in area.locator("img").all()]


def changed(area, before: list[str], started: float) -> float:
    """Wait until the area's pictures differ from ``before``; the seconds it took."""
    deadline = time.monotonic() + VIEW_TIMEOUT_MS / 1000
    while pictures(area) == before:
        assert time.monotonic() < deadline, "the view did not change"
        time.sleep(0.01)
    return time.monotonic() - started


def shows(area, text: str, started: float) -> float:
    """Wait until the area's text contains ``text``; the seconds it took."""
    deadline = time.monotonic() + VIEW_TIMEOUT_MS / 1000
    while text not in " ".join(area.inner_text().split()):
        assert time.monotonic() < deadline, f"{text!r} never appeared: {area.inner_text()}"
        time.sleep(0.01)
    return time.monotonic() - started


def press_right(area, slider: int, times: int = 1) -> None:
    handle = area.locator(".noUi-handle").nth(slider)
    handle.focus()
    for _ in range(times):
        handle.press("ArrowRight")


def test_every_widget_renders_without_errors(page):
    for widget in WIDGETS:
        assert output(page, widget).locator("img").count() >= 1, widget
    assert "best validation accuracy" in page.inner_text("body")
    assert page.errors == []


def test_filter_browser_follows_its_layer_and_filter(page):
    area = output(page, "FilterBrowser")
    started = time.monotonic()
    area.get_by_label("layer").select_option("conv2_1")
    print(f"FilterBrowser layer: {shows(area, 'conv2_1: 32 filters', started) * 1000:.0f} ms")
    started = time.monotonic()
    press_right(area, slider=1)  # the filter slider
    print(f"FilterBrowser filter: {shows(area, 'filter 1 enlarged', started) * 1000:.0f} ms")


def test_activation_browser_follows_channel_image_and_photo(page):
    area = output(page, "ActivationBrowser")
    started = time.monotonic()
    press_right(area, slider=1)  # the channel slider
    elapsed = shows(area, "conv1_1 channel 1 of 16", started)
    print(f"ActivationBrowser channel: {elapsed * 1000:.0f} ms")
    started = time.monotonic()
    area.get_by_text("photos", exact=True).click()
    elapsed = shows(area, "photo grace_hopper.jpg (no Shapes-10 class)", started)
    print(f"ActivationBrowser photo: {elapsed * 1000:.0f} ms")


def test_neuron_browser_follows_its_channel_and_layer(page):
    area = output(page, "NeuronBrowser")
    started = time.monotonic()
    press_right(area, slider=0)
    elapsed = shows(area, "channel 1 of 16: the 9 strongest", started)
    print(f"NeuronBrowser channel: {elapsed * 1000:.0f} ms")
    started = time.monotonic()
    area.get_by_label("layer").select_option("conv3_2")
    elapsed = shows(area, "conv3_2 channel 1 of 64", started)  # the channel stays
    print(f"NeuronBrowser new layer (maps of 500 images): {elapsed * 1000:.0f} ms")


def test_saliency_explorer_explains_a_class_and_fools_the_net(page):
    area = output(page, "SaliencyExplorer")
    started = time.monotonic()
    area.get_by_label("class").select_option("heart")
    elapsed = shows(area, "saliency of the heart score", started)
    print(f"SaliencyExplorer class (with a class image): {elapsed * 1000:.0f} ms")
    started = time.monotonic()
    area.get_by_text("fooling image", exact=True).click()
    elapsed = shows(area, "the fooling image, predicted heart after", started)
    print(f"SaliencyExplorer fooling image: {elapsed * 1000:.0f} ms")


def test_caption_browser_draws_a_fresh_scene(page):
    area = output(page, "CaptionBrowser")
    started = time.monotonic()
    area.get_by_text("new random scene", exact=True).click()
    elapsed = shows(area, "Fresh scene, seed", started)
    print(f"CaptionBrowser fresh scene: {elapsed * 1000:.0f} ms")
    text = area.inner_text()
    assert "exactly true" in text or "false" in text


@pytest.fixture(scope="module")
def lab_page(browser, lab_url):
    """The gallery opened in JupyterLab, after Run All Cells finished."""
    page = _new_page(browser)
    started = time.monotonic()
    page.goto(lab_url, timeout=START_TIMEOUT_S * 1000)
    page.wait_for_selector(
        ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=START_TIMEOUT_S * 1000
    )
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()
    page.locator(".jp-OutputArea-output", has_text="best validation accuracy").wait_for(
        timeout=START_TIMEOUT_S * 1000
    )  # the last cell's output (its source says the same words)
    print(f"JupyterLab: gallery opened and run in {time.monotonic() - started:.1f} s")
    yield page
    page.close()


def test_in_jupyterlab_every_widget_renders_and_a_slider_moves_the_view(lab_page):
    for widget in WIDGETS:
        assert output(lab_page, widget).locator("img").count() >= 1, widget
    area = output(lab_page, "ActivationBrowser")
    before = pictures(area)
    started = time.monotonic()
    press_right(area, slider=1)  # the channel slider
    print(f"JupyterLab ActivationBrowser channel: {changed(area, before, started) * 1000:.0f} ms")
    shows(area, "conv1_1 channel 1 of 16", started)
    area = output(lab_page, "FilterBrowser")
    before = pictures(area)
    started = time.monotonic()
    press_right(area, slider=1)  # the filter slider
    print(f"JupyterLab FilterBrowser filter: {changed(area, before, started) * 1000:.0f} ms")
    assert lab_page.errors == []
