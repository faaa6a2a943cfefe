"""The web view in a real browser: Debian's chromium, headless, through Selenium and chromedriver.

Screenshots of the main pages go to $BUTIDO_TEST_OUTPUT/web (else the pytest run's base temporary
directory, under web-screenshots); docs/web/ keeps a few of them (docs/web.md).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from butido_py.app.build import BuildRequest
from tests.helpers.seed import jid, sid
from tests.helpers.workspace import Workspace
from tests.plugins.services import service_missing
from tests.web.conftest import GROUP, HOSTILE_JOB, HOSTILE_SUBMIT, Served
from tests.web.server import Server, serving


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        service_missing("chromium with chromium-driver", "not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = str(chromium)
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1000"):  # fmt: skip
        options.add_argument(argument)
    browser = webdriver.Chrome(options=options, service=Service(executable_path=str(driver)))
    browser.set_page_load_timeout(30)
    yield browser
    browser.quit()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("BUTIDO_TEST_OUTPUT")
    root = Path(given) / "web" if given else tmp_path_factory.getbasetemp() / "web-screenshots"
    root.mkdir(parents=True, exist_ok=True)
    return root


def _shoot(browser: WebDriver, screenshots: Path, name: str) -> None:
    browser.save_screenshot(str(screenshots / f"{name}.png"))


def test_submit_page_renders_its_dag(browser: WebDriver, seeded: Server, screenshots: Path) -> None:
    browser.get(seeded.base + f"/submits/{sid(1)}")
    nodes = browser.find_elements(By.CSS_SELECTOR, "#dag svg g.node")
    assert len(nodes) == 4
    assert all(node.size["width"] > 0 for node in nodes)  # drawn, not just present
    link = browser.find_element(By.CSS_SELECTOR, f'#dag svg a[*|href="/jobs/{jid(1)}"]')
    assert link is not None
    _shoot(browser, screenshots, "submit")
    browser.get(seeded.base + "/")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#submits tbody tr")) == 4
    _shoot(browser, screenshots, "submits")
    browser.get(seeded.base + f"/jobs/{jid(6)}")
    _shoot(browser, screenshots, "job-failed")
    browser.get(seeded.base + "/packages/lib")
    assert browser.find_elements(By.CSS_SELECTOR, "#durations rect")
    _shoot(browser, screenshots, "package")


def test_a_hostile_log_line_is_not_executed(browser: WebDriver, seeded: Server) -> None:
    for path in (f"/jobs/{HOSTILE_JOB}", f"/submits/{HOSTILE_SUBMIT}", "/?failed=1"):
        browser.get(seeded.base + path)
        assert browser.execute_script("return window.__pwned === undefined") is True, path
    browser.get(seeded.base + f"/jobs/{HOSTILE_JOB}")
    assert "<script>window.__pwned = 1</script>" in browser.find_element(By.ID, "log").text


def test_the_group_page_shows_its_matrix(
    browser: WebDriver, grouped: Served, screenshots: Path
) -> None:
    browser.get(grouped.server.base + f"/groups/{GROUP}")
    assert browser.execute_script("return window.__pwned === undefined") is True
    rows = browser.find_elements(By.CSS_SELECTOR, "#matrix tbody tr")
    assert len(rows) == 2
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#matrix thead th")]
    assert headers[-1] == "registry.local/<b>old</b>:9"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#matrix a.cell")) == 4
    _shoot(browser, screenshots, "group")


SLOW = (
    '{{phase "build"}}\nfor i in $(seq 1 12); do echo "step $i"; sleep 0.5; done\n'
    "mkdir -p /outputs\necho x > /outputs/slow-1.pkg"
)


@pytest.mark.docker
def test_the_live_log_grows_while_the_job_runs(
    browser: WebDriver, sqlite_workspace: Workspace, screenshots: Path
) -> None:
    sqlite_workspace.add_package("slow", build=SLOW)
    sqlite_workspace.commit()
    run = sqlite_workspace.start(BuildRequest(name="slow", version="1", image="tiny"))
    db = sqlite_workspace.database()
    builder = threading.Thread(target=run.run, daemon=True)
    builder.start()
    with serving(db) as server:
        job = _running_job(server, builder)
        browser.get(server.base + f"/jobs/{job}")
        log = browser.find_element(By.ID, "log")
        first = log.text
        WebDriverWait(browser, 30, poll_frequency=0.2).until(lambda _: log.text != first)
        grown = log.text
        assert len(grown) > len(first)
        assert grown.startswith(first)
        _shoot(browser, screenshots, "job-live")
        WebDriverWait(browser, 60, poll_frequency=0.5).until(
            lambda b: "finished" in b.find_element(By.ID, "live-note").text
        )
        assert "step 12" in log.text
        assert log.text.count("step 1\n") == 1  # nothing sent twice
    builder.join(timeout=60)


def _running_job(server: Server, builder: threading.Thread) -> str:
    """The uuid of the build's job, once it is running and has logged a line."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and builder.is_alive():
        listing = server.get("/api/submits").json()
        assert isinstance(listing, dict)
        if listing["submits"]:
            submit = server.get(f"/api/submits/{listing['submits'][0]['uuid']}").json()
            assert isinstance(submit, dict)
            (job,) = submit["jobs"]
            if (
                job["state"] == "running"
                and "step 1" in server.get(f"/jobs/{job['uuid']}/log").text
            ):
                return str(job["uuid"])
        time.sleep(0.2)
    raise AssertionError("the job did not start running")
