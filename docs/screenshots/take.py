"""Take the page's screenshots in docs/screenshots/ over the bundled sample report.

    .venv/bin/python docs/screenshots/take.py            # writes docs/screenshots/*.png
    .venv/bin/python docs/screenshots/take.py --out /tmp/shots

Builds the sample index in a temporary home (the offline embedding model), serves the page
on a free port and drives headless chromium (Debian's ``chromium`` and ``chromium-driver``):
laptop-1280x800.png, conversations.png, source-viewer.png, reports-panel-1280x800.png,
key-figures.png, dark-1280x800.png, phone-390x844.png and source-viewer-phone.png.
"""

from __future__ import annotations

import argparse
import dataclasses
import socket
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

CHROMIUM_ARGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync --lang=zh-CN"
).split()
FINAL = "#rq-chat .rq-answer, #rq-chat .rq-refusal, #rq-chat .rq-error"
# Click the conversation whose title starts with arguments[0]; whether there was one.
PICK = """const label = [...document.querySelectorAll('#rq-chats label')]
  .find((x) => x.innerText.trim().startsWith(arguments[0]));
if (label) label.click();
return !!label;"""
# The open list's left edge: 0 once it has slid in.
SLID = "return document.querySelector('#rq-chats-bar.open')?.getBoundingClientRect().left"
# Nothing on the page is moving: the list sliding away, a card flashing.
STILL = """return !document.getAnimations().some((a) => a.playState === 'running'
  && a.effect?.getTiming().iterations !== Infinity);"""


def browser(width: int, height: int, url: str):
    """A fresh headless chromium at ``width``×``height`` (a phone's below 600), on ``url``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={tempfile.mkdtemp(prefix='rq-shots-')}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    phone = width < 600
    metrics = {"width": width, "height": height, "mobile": phone}
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {**metrics, "deviceScaleFactor": 2 if phone else 1}
    )
    driver.get(url)
    wait(driver, lambda d: find(d, "#rq-question textarea"))
    return driver


def find(driver, css: str):
    return driver.find_elements("css selector", css)


def wait(driver, condition):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The page redraws what it reads (the list, the chat): an element gone is looked up again.
    stale = (StaleElementReferenceException,)
    return WebDriverWait(driver, 120, 0.2, ignored_exceptions=stale).until(condition)


def settled(driver) -> bool:
    """The page is ready for the next question, its list (if open) in place."""
    box = find(driver, "#rq-question textarea")
    return bool(box and box[0].is_enabled() and find(driver, "#rq-ask")) and driver.execute_script(
        SLID
    ) in (0, None)


def ask(driver, question: str) -> None:
    """Ask ``question``; return once its answer is in."""
    from selenium.webdriver.common.keys import Keys

    before = len(find(driver, FINAL))
    wait(driver, settled)
    find(driver, "#rq-question textarea")[0].send_keys(question, Keys.ENTER)
    wait(driver, lambda d: len(find(d, FINAL)) > before and settled(d))


def click(driver, css: str) -> None:
    wait(driver, lambda d: (found := find(d, css)) and found[0].is_enabled())
    driver.execute_script("arguments[0].click();", find(driver, css)[0])


def choose_first(driver, css: str) -> str:
    """Pick the first option of the Gradio dropdown ``css``; return its label."""
    # a real click: Gradio opens its list on the focus a script's click does not give
    wait(driver, lambda d: (found := find(d, f"{css} input")) and found[0].is_displayed())
    find(driver, f"{css} input")[0].click()
    option = wait(driver, lambda d: (found := find(d, "[role=option]")) and found[0])
    label = option.get_attribute("aria-label")
    option.click()
    wait(driver, lambda d: find(d, f"{css} input")[0].get_attribute("value") == label)
    return label


def new(driver) -> None:
    """新对话, once the chat shows it."""
    click(driver, "#rq-chat-new")
    wait(driver, lambda d: not find(d, "#rq-chat .rq-question"))


def shoot(driver, path: Path, top: bool = True) -> None:
    """A screenshot of the screen (``top``: of the page's top, as one opens it)."""
    wait(driver, settled)
    wait(driver, lambda d: d.execute_script(STILL))
    driver.execute_script("document.activeElement?.blur()")  # no caret in the picture
    # no pointer left over a button (the last click's place): no hover colour in it
    move = {"type": "mouseMoved", "x": 1, "y": 1}
    driver.execute_cdp_cmd("Input.dispatchMouseEvent", move)
    if top:
        driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(path))
    print(path)


def laptop(url: str, out: Path) -> None:
    driver = browser(1280, 800, url)
    try:
        for n, question in enumerate(("城镇新增就业目标是多少", "六条优势赛道是哪些")):
            if n:
                new(driver)
            ask(driver, question)
        new(driver)
        ask(driver, "今年新增多少养老床位")
        shoot(driver, out / "laptop-1280x800.png")
        # The list: another conversation picked and renamed.
        # one script (the list may be redrawn between two reads); no pointer left over it
        wait(driver, lambda d: d.execute_script(PICK, "城镇新增就业"))
        wait(driver, lambda d: "城镇新增就业" in find(d, "#rq-chat .rq-question")[0].text)
        ask(driver, "那居民消费价格涨幅呢")
        click(driver, "#rq-chat-rename")
        box = wait(driver, lambda d: (b := find(d, "#rq-rename-box input")) and b[0])
        box.clear()
        title = "就业目标和完成情况"
        box.send_keys(title)
        click(driver, "#rq-rename-save")
        wait(driver, lambda d: any(x.text == title for x in find(d, "#rq-chats label")))
        shoot(driver, out / "conversations.png")
        # The source viewer, from the first answer's [1].
        find(driver, "#rq-chat .rq-answer .rq-link")[0].click()
        wait(driver, lambda d: find(d, "#rq-viewer-holder .rq-viewer[data-placed]"))
        wait(driver, lambda d: d.execute_script(SLID) is None)  # the list folded for it
        shoot(driver, out / "source-viewer.png", top=False)
    finally:
        driver.quit()


def reports_panel(url: str, out: Path) -> None:
    """报告列表 with 修改或删除报告 open on the first report, and 关键指标 of that report."""
    driver = browser(1280, 800, url)
    try:
        wait(driver, lambda d: "太原市" in find(d, "#rq-docs")[0].text)  # the list is in
        click(driver, "#rq-manage .label-wrap")
        label = choose_first(driver, "#rq-pick")
        title = label.split(" · ")[0]
        filled = "#rq-edit-title textarea"
        wait(driver, lambda d: find(d, filled)[0].get_attribute("value") == title)
        shoot(driver, out / "reports-panel-1280x800.png")
        click(driver, "#rq-tab-figures-button")
        choose_first(driver, "#rq-figures-pick")
        wait(driver, lambda d: find(d, "#rq-figures .rq-table"))
        shoot(driver, out / "key-figures.png")
    finally:
        driver.quit()


def dark(url: str, out: Path) -> None:
    driver = browser(1280, 800, url + "?__theme=dark")
    try:
        ask(driver, "城镇新增就业目标是多少")
        shoot(driver, out / "dark-1280x800.png")
    finally:
        driver.quit()


def phone(url: str, out: Path) -> None:
    driver = browser(390, 844, url)
    try:
        ask(driver, "今年新增多少养老床位")
        example = [b for b in find(driver, ".rq-example") if b.text == "城镇新增就业目标是多少"]
        before = len(find(driver, FINAL))
        example[0].click()
        wait(driver, lambda d: len(find(d, FINAL)) > before and settled(d))
        # the last question at the top, the question box over the conversation below it
        driver.execute_script(
            "[...document.querySelectorAll('#rq-chat .rq-question')].pop()"
            ".scrollIntoView({block: 'start'})"
        )
        shoot(driver, out / "phone-390x844.png", top=False)
        # The source viewer, the whole screen, from the first answer's [1].
        link = find(driver, "#rq-chat .rq-answer .rq-link")[0]
        driver.execute_script("arguments[0].click();", link)  # under the question box
        wait(driver, lambda d: find(d, "#rq-viewer-holder .rq-viewer[data-placed]"))
        shoot(driver, out / "source-viewer-phone.png", top=False)
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)

    from index import Settings, build_index, sample_report
    from index.embeddings import load_embeddings
    from ui import create_app, serve

    home = Path(tempfile.mkdtemp(prefix="rq-shots-home-"))
    settings = dataclasses.replace(Settings.from_env(), home=home, llm=None, chroma_url=None)
    embeddings = load_embeddings(settings)
    build_index([sample_report()], settings=settings, embeddings=embeddings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = serve(create_app(settings, embeddings=embeddings), port=port, block=False)
    try:
        for take in (laptop, reports_panel, dark, phone):
            take(server.local_url, out)
    finally:
        server.close()


if __name__ == "__main__":
    main()
