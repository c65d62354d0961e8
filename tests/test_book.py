"""The built book in a real browser: it opens offline, steppers step, formulas and widgets render.

Builds the HTML book (from the stored notebook outputs), then opens every page in headless
Chromium (Debian's chromium + chromium-driver, installed by the set-up) with network logging.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
pytestmark = pytest.mark.browser
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "devtools:")
KNOWN_CONSOLE_NOISE = (
    "THEBE_JS_URL",          # Jupyter Book 1 declares it twice on every page; harmless
    "invalid theme mode",    # the theme on a first visit, before a light/dark choice is stored
)


def toc_pages() -> list[Path]:
    pages = [HTML / "intro.html"]
    for line in (ROOT / "_toc.yml").read_text().splitlines():
        line = line.strip()
        if line.startswith("- file:"):
            pages.append(HTML / (line.split(":", 1)[1].strip() + ".html"))
    return pages


@pytest.fixture(scope="module")
def book():
    """The README's book command, `make book`, on this venv, from a clean _build/: it must build the book."""
    shutil.rmtree(ROOT / "_build", ignore_errors=True)
    venv = Path(sys.executable).parent.parent
    result = subprocess.run(["make", "-C", str(ROOT), "book", f"VENV={venv}"], capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert (HTML / "index.html").is_file(), "`make book` exited 0 but built no _build/html/index.html"
    return HTML


@pytest.fixture(scope="module")
def browser():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.fail("chromium and chromedriver are missing: run `WITH_BROWSER=1 bash scripts/setup.sh`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    profile = tempfile.mkdtemp(prefix="cvlib-chromium-")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--disable-dev-shm-usage", "--window-size=1280,1600", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def open_page(driver, page: Path):
    """Load a page, wait for its scripts to settle; return (requested URLs, failed URLs, console errors)."""
    driver.get_log("performance"), driver.get_log("browser")  # drop what earlier pages logged
    driver.get(page.as_uri())
    driver.execute_async_script("const done = arguments[0]; setTimeout(done, 1500);")
    urls, failed = {}, []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message["method"] == "Network.requestWillBeSent":
            urls[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.loadingFailed" and not params.get("canceled"):
            failed.append((params["requestId"], params.get("errorText", "")))
    requested = list(urls.values())
    # Only the page's own requests count: Chromium's background documents fail offline too.
    failed = [f"{urls[rid]}: {error}" for rid, error in failed if rid in urls]
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"
              and not any(noise in e["message"] for noise in KNOWN_CONSOLE_NOISE)]
    return requested, failed, errors


def test_every_page_opens_offline(book, browser):
    """Every page loads from the book's own files, without failed requests or console errors; pages
    that show stored widgets (progress bars, from the notebooks' widget state) render them offline."""
    pages = toc_pages()
    assert len(pages) >= 16, "the table of contents lost chapters"
    with_widgets = 0
    for page in pages:
        assert page.is_file(), f"{page} was not built"
        requested, failed, errors = open_page(browser, page)
        remote = [u for u in requested if not u.startswith(LOCAL_SCHEMES)]
        assert not remote, f"{page.name} requests other hosts: {remote[:5]}"
        assert not failed, f"{page.name}: requests failed: {failed[:5]}"
        assert not errors, f"{page.name}: console errors: {errors[:5]}"
        if 'type="application/vnd.jupyter.widget-view+json"' in page.read_text():
            rendered = browser.execute_script("return document.querySelectorAll('.jupyter-widgets').length")
            assert rendered > 0, f"{page.name}: stored widgets did not render"
            with_widgets += 1
    assert with_widgets > 0, "no page shows a stored widget (the chapters' progress bars)"


def test_formulas_and_icons_render(book, browser):
    open_page(browser, HTML / "intro.html")
    assert browser.execute_script("return document.querySelectorAll('mjx-container').length") > 0, \
        "MathJax rendered no formula"
    # The theme's icons are a web font shipped with the theme: it must load from the book's own files.
    icon_font_loaded = browser.execute_async_script("""
        const done = arguments[0];
        document.fonts.ready.then(() => done([...document.fonts].some(
            f => /Font Awesome/i.test(f.family) && f.status === 'loaded')));""")
    assert icon_font_loaded, "the icon font did not load"


STEPPER_PAGES = ["00-data/scenes", "01-semantic/sliding_window", "01-semantic/fcn", "01-semantic/upsampling",
                 "02-localization/localization", "02-localization/pose", "03-detection/sliding_window",
                 "03-detection/region_proposals", "03-detection/rcnn", "03-detection/fast_rcnn",
                 "03-detection/faster_rcnn", "03-detection/yolo_ssd", "05-instance/mask_rcnn",
                 "05-instance/keypoint_rcnn"]


@pytest.mark.parametrize("page", STEPPER_PAGES)
def test_steppers_step_without_kernel(book, browser, page):
    open_page(browser, HTML / "chapters" / f"{page}.html")
    steppers = browser.find_elements("css selector", ".cvlib-stepper")
    assert steppers, f"no stepper on {page}"
    for stepper in steppers:
        image = stepper.find_element("css selector", "img.frame")
        title = stepper.find_element("css selector", ".title")
        before = (image.get_attribute("src"), title.text)
        browser.execute_script("arguments[0].scrollIntoView()", stepper)
        stepper.find_element("css selector", "button.next").click()
        after = (image.get_attribute("src"), title.text)
        assert after[0] != before[0], f"{page}: the frame did not change after clicking next"
        assert after[1] != before[1]
        assert stepper.find_element("css selector", ".counter").text.startswith("2 /")
        stepper.find_element("css selector", "button.prev").click()
        assert image.get_attribute("src") == before[0]


def test_markdown_tables_of_the_chapters_render_as_tables(book):
    """A chapter's Markdown(...) table output is a <table>, not a paragraph of pipes (CommonMark has no
    tables: _config.yml renders Markdown outputs as MyST)."""
    for page in toc_pages():
        html = page.read_text()
        assert "<p>| " not in html, f"{page.name}: a Markdown table rendered as text"
    assert "<table" in (HTML / "chapters" / "03-detection" / "yolo_ssd.html").read_text()


def test_the_results_page_shows_every_chapter_number(book):
    """Every cell of the Results page is filled from the chapters' glue and the committed files: the
    build fails on a missing glue key (--warningiserror), and no cell is left empty."""
    import re

    html = (HTML / "results.html").read_text()
    tables = re.findall(r"<table.*?</table>", html, flags=re.S)
    assert len(tables) == 3, "headline numbers, the detectors' speed, the chapters' times"
    headline_rows = re.findall(r"<tr.*?</tr>", tables[0], flags=re.S)[1:]
    assert len(headline_rows) >= 15
    first_cells = [re.findall(r"<td.*?>(.*?)</td>", row, flags=re.S) for row in headline_rows]
    for cells in first_cells:
        value = re.sub(r"<.*?>", "", cells[2]).strip()
        assert re.fullmatch(r"\d+\.\d+", value), f"quick-profile value {value!r} in {cells[:2]}"
    assert "Faster R-CNN" in tables[1] and "SSD" in tables[1]
