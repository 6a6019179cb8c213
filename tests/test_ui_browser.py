"""The web chat in headless chromium, with the real core over the real sample index.

Screenshots go to each test's ``tmp_path`` and are copied to ``/tmp/ui-shots/``.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import socket
import tempfile
import threading
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = Path("/tmp/ui-shots")
WAIT = 60

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.integration,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian chromium and chromium-driver",
    ),
]

CHROMIUM_ARGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic "
    "--no-first-run --disable-background-networking --disable-component-update --disable-sync "
    "--lang=zh-CN"
).split()

BOOKS = (
    "2025年示例市政府工作报告\n\n一、2025年主要目标\n\n"
    "今年全市将新建城市书房25座，改造老旧小区120个。\n\n"
    "二、重点工作\n\n推进全民阅读，举办读书节活动30场。\n"
)
MARKUP = (
    "<html><head><title>2025年测试县政府工作报告</title></head><body>"
    "<h1>2025年测试县政府工作报告</h1><h2>一、重点工作</h2>"
    '<div style="background-color:#e91e63;color:white">建设美丽乡村</div>'
    "<p>今年将建设智慧农场8个。&lt;script&gt;alert(1)&lt;/script&gt;"
    "&lt;img src=x onerror=alert(2)&gt;</p></body></html>"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ui_settings(sample_settings, tmp_path_factory):
    """A private copy of the sample index: uploads here must not change other tests' index."""
    home = tmp_path_factory.mktemp("ui-home") / "home"
    shutil.copytree(sample_settings.home, home)
    return dataclasses.replace(sample_settings, home=home)


@pytest.fixture(scope="module")
def url(ui_settings, real_embeddings):
    """The real app on a free loopback port."""
    from ui import create_app, serve

    app = serve(create_app(ui_settings, embeddings=real_embeddings), port=_free_port(), block=False)
    yield app.local_url
    app.close()


@pytest.fixture(scope="module")
def gated(ui_settings):
    """The app with a fake core whose answers wait for ``gate`` (to see a pending answer)."""
    from tests.test_ui import FakeCore, FakeStream
    from ui import create_app, serve

    class Gated(FakeCore):
        gate = threading.Event()

        def stream(self, question, history=None, **kw):
            answer = self.answer(question, history, **kw)

            class Waiting(FakeStream):
                def __iter__(inner):
                    yield "正在"
                    Gated.gate.wait()
                    yield from FakeStream.__iter__(inner)

            return Waiting(answer)

    fake = Gated()
    app = create_app(ui_settings, answer_fn=fake.answer, stream_fn=fake.stream)
    server = serve(app, port=_free_port(), block=False)
    yield server.local_url, Gated.gate
    Gated.gate.set()  # a stopped answer's thread is still waiting
    server.close()


@pytest.fixture
def open_page(url):
    """``open_page(width, height, path="", at=url)``: a fresh headless chromium on the app."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def start(width: int = 1280, height: int = 800, path: str = "", at: str = url):
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for arg in (*CHROMIUM_ARGS, f"--user-data-dir={tempfile.mkdtemp(prefix='rq-chrome-')}"):
            options.add_argument(arg)
        options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        drivers.append(driver)
        mobile = width < 600
        metrics = {"width": width, "height": height, "mobile": mobile}
        metrics["deviceScaleFactor"] = 2 if mobile else 1
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        driver.get(at + path)
        _wait(driver, lambda d: _find(d, "#rq-question textarea"))
        return driver

    yield start
    for driver in drivers:
        driver.quit()


def _find(driver, css: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def _wait(driver, condition, timeout: float = WAIT):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # An element found and then re-rendered before it is read (Gradio replaces a block's
    # nodes on update) is looked for again at the next poll, not taken as a failure.
    ignored = (StaleElementReferenceException,)
    return WebDriverWait(driver, timeout, 0.2, ignored).until(condition)


def _ask(driver, question: str, expect: str):
    """Type ``question``, press Enter, wait for a final answer containing ``expect``."""
    from selenium.webdriver.common.keys import Keys

    final = "#rq-chat .rq-answer, #rq-chat .rq-refusal, #rq-chat .rq-error"
    before = len(_find(driver, final))
    box = _wait(driver, lambda d: _enabled(d, "#rq-question textarea"))
    box.send_keys(question, Keys.ENTER)

    def answered(d):
        done = _find(d, final)
        return done[-1] if len(done) > before and expect in done[-1].text else False

    answer = _wait(driver, answered)
    _wait(driver, lambda d: _enabled(d, "#rq-question textarea"))  # ready for the next
    return answer


def _enabled(driver, css: str):
    found = _find(driver, css)
    return found[0] if found and found[0].is_enabled() else False


def _click(driver, css: str) -> None:
    _wait(driver, lambda d: _enabled(d, css)).click()


def _tab(driver, name: str) -> None:
    """Open the side panel's tab ``name`` (``reports`` or ``upload``)."""
    _click(driver, f"#rq-tab-{name}-button")


def _shot(driver, tmp_path: Path, name: str, full_page: bool = False) -> Path:
    import base64

    path = tmp_path / name
    if full_page:
        data = driver.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
        path.write_bytes(base64.b64decode(data["data"]))
    else:
        driver.save_screenshot(str(path))
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)
    return path


def _no_horizontal_scroll(driver) -> bool:
    width = driver.execute_script("return document.documentElement.scrollWidth")
    return width <= driver.execute_script("return window.innerWidth")


def test_laptop_answer_with_highlighted_citation(open_page, tmp_path):
    driver = open_page(1280, 800)
    assert driver.title == "政府工作报告问答"
    page = driver.find_element("tag name", "body").text
    for label in ("政府工作报告问答", "报告列表", "上传报告", "示例问题", "清空对话", "提问"):
        assert label in page
    _wait(driver, lambda d: "太原" in _find(d, "#rq-docs")[0].text)
    answer = _ask(driver, "今年新增多少养老床位", "2000")
    marks = answer.find_elements("css selector", ".rq-card mark.rq-quote")
    assert any("2000张" in m.text for m in marks)
    card = answer.find_elements("css selector", ".rq-card")[0].text
    assert "[1]" in answer.text and "[1]" in card and "2025年" in card and "太原市" in card
    assert "第" in card and "段" in card
    assert _shot(driver, tmp_path, "laptop-1280x800.png").stat().st_size > 10_000
    _shot(driver, tmp_path, "laptop-1280x800-full.png", full_page=True)
    assert _no_horizontal_scroll(driver)
    ratios = driver.execute_script(_CONTRAST, READ)  # the light theme is readable too
    assert min(r for _, r in ratios) >= 4.5, sorted(ratios, key=lambda kr: kr[1])[:3]

    # 清空对话 asks first: cancelled, the conversation stays; confirmed, it goes
    def asking(d) -> bool:
        found = _find(d, "#rq-clear-yes")
        return bool(found) and found[0].is_displayed()

    _click(driver, "#rq-clear")
    _wait(driver, asking)
    assert "清空整个对话" in _find(driver, "#rq-clear-confirm")[0].text
    _click(driver, "#rq-clear-no")
    _wait(driver, lambda d: not asking(d))
    assert _find(driver, "#rq-chat .rq-msg")
    _click(driver, "#rq-clear")
    _click(driver, "#rq-clear-yes")
    _wait(driver, lambda d: not _find(d, "#rq-chat .rq-msg"))


def test_phone_layout_and_example_question(open_page, tmp_path):
    driver = open_page(390, 844)
    example = [b for b in _find(driver, ".rq-example") if b.text == "城镇新增就业目标是多少"]
    example[0].click()
    _wait(driver, lambda d: any("8万人" in a.text for a in _find(d, "#rq-chat .rq-answer")))
    assert _find(driver, "#rq-chat .rq-card mark.rq-quote")
    assert _no_horizontal_scroll(driver)
    _shot(driver, tmp_path, "phone-390x844.png")
    _shot(driver, tmp_path, "phone-390x844-full.png", full_page=True)


def test_follow_up_uses_the_conversation(open_page):
    driver = open_page()
    _ask(driver, "今年新增多少养老床位", "2000")
    answer = _ask(driver, "那就业呢", "8万人")
    assert len(_find(driver, "#rq-chat .rq-question")) == 2 and answer.text


def test_refusal_looks_different(open_page):
    driver = open_page()
    refusal = _ask(driver, "火星基地今年建设几座", "未找到")
    assert "rq-refusal" in refusal.get_attribute("class")
    assert not refusal.find_elements("css selector", ".rq-cards-title")


def test_a_near_miss_and_an_overview_render_as_such(open_page, tmp_path):
    driver = open_page()
    near = _ask(driver, "今年新增多少张医疗床位", "报告未给出")
    assert "rq-near-miss" in near.get_attribute("class")
    related = near.find_elements("css selector", ".rq-related .rq-card")
    assert related and "2000张" in related[0].text  # shown open, as related
    assert "不是所问的数字" in near.text
    overview = _ask(driver, "今年在养老方面有什么打算", "概览")
    assert "rq-overview" in overview.get_attribute("class")
    text = overview.find_element("css selector", ".rq-text").text
    assert text.count("\n") >= 3 and len(overview.find_elements("css selector", ".rq-card")) >= 2
    _shot(driver, tmp_path, "near-miss-and-overview.png")


def _docs_loaded(driver) -> str:
    """The report list once the page has loaded it."""
    return _wait(driver, lambda d: "份报告" in (t := _find(d, "#rq-docs")[0].text) and t)


def _upload(driver, path: Path, expect: str) -> str:
    _tab(driver, "upload")
    _wait(driver, lambda d: _find(d, "#rq-upload input[type=file]"))[0].send_keys(str(path))
    status = _wait(driver, lambda d: (s := _find(d, "#rq-upload-status")) and expect in s[0].text)
    assert status
    return _find(driver, "#rq-upload-status")[0].text


def test_upload_gb18030_report_then_ask_about_it(open_page, tmp_path):
    driver = open_page()
    report = tmp_path / "2025年示例市政府工作报告.txt"
    report.write_bytes(BOOKS.encode("gb18030"))
    assert "已加入索引" in _upload(driver, report, "索引")
    _tab(driver, "reports")
    _wait(driver, lambda d: "示例市" in _find(d, "#rq-docs")[0].text)
    answer = _ask(driver, "今年将新建多少座城市书房", "25")
    assert any("25座" in m.text for m in answer.find_elements("css selector", "mark.rq-quote"))
    _shot(driver, tmp_path, "upload-gb18030.png")


def test_an_upload_that_waits_is_told_what_runs_and_cancel_answers(open_page, tmp_path):
    from tests.conftest import holding_turn
    from ui.builds import DESK

    driver = open_page()
    report = tmp_path / "2025年排队市政府工作报告.txt"
    report.write_bytes(BOOKS.replace("示例市", "排队市").encode("utf-8"))
    with holding_turn(DESK, "占用.txt"):  # another change, in this server's process
        waiting = _upload(driver, report, "已排队")
        assert waiting.startswith("✔ 正在为「占用.txt」建立索引（已进行")
        _find(driver, "#rq-cancel-build")[0].click()
        _wait(driver, lambda d: "已请求取消为「占用.txt」" in _find(d, "#rq-upload-status")[0].text)
    # The cancel was the running change's: the queued upload runs after it, whole.
    _wait(driver, lambda d: "已加入索引" in _find(d, "#rq-upload-status")[0].text)
    _find(driver, "#rq-cancel-build")[0].click()
    _wait(driver, lambda d: "当前没有正在建立的索引" in _find(d, "#rq-upload-status")[0].text)


def test_upload_rejects_wrong_type_in_chinese(open_page, tmp_path):
    driver = open_page()
    before = _docs_loaded(driver)
    bad = tmp_path / "报告.exe"
    bad.write_bytes(b"MZ not a report")
    assert "不支持的文件类型" in _upload(driver, bad, "不支持")
    field = _find(driver, "#rq-upload input[type=file]")[0]
    assert field.get_attribute("accept") == ".txt,.md,.html,.htm,.docx,.pdf"
    _tab(driver, "reports")
    assert _find(driver, "#rq-docs")[0].text == before


def test_upload_over_the_size_limit_is_stopped_in_chinese_before_sending(
    open_page, tmp_path, ui_settings
):
    from index.readers import max_file_bytes

    driver = open_page()
    before = _docs_loaded(driver)
    big = tmp_path / "大报告.txt"
    with big.open("wb") as fh:  # sparse: the browser reads only its size
        fh.truncate(max_file_bytes(ui_settings) + 1)
    _tab(driver, "upload")
    _wait(driver, lambda d: _find(d, "#rq-upload input[type=file]"))[0].send_keys(str(big))
    note = _wait(driver, lambda d: _find(d, "#rq-too-big"))[0]
    assert "大报告.txt" in note.text and "MB 的上限，未上传" in note.text
    assert not _find(driver, "#rq-upload-status")[0].text  # nothing reached the server
    _tab(driver, "reports")
    assert _find(driver, "#rq-docs")[0].text == before


def test_markup_in_a_report_shows_as_text(open_page, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException

    driver = open_page()
    report = tmp_path / "2025年测试县政府工作报告.html"
    report.write_text(MARKUP, encoding="utf-8")
    _upload(driver, report, "已加入索引")
    answer = _ask(driver, "今年将建设多少个智慧农场", "8个")
    passages = " ".join(p.text for p in answer.find_elements("css selector", ".rq-passage"))
    assert "<script>alert(1)</script>" in passages and "onerror=alert(2)" in passages
    assert not _find(driver, "#rq-chat script, #rq-chat img, #rq-chat [onerror]")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 -- raises when no alert is open
    _shot(driver, tmp_path, "markup-as-text.png")


# --- the chat for daily use, at a laptop's and a phone's width ----------------------------

SIZES = pytest.mark.parametrize("size", [(1280, 800), (390, 844)], ids=["laptop", "phone"])


def _choose(driver, css: str, option: str) -> None:
    """Pick ``option`` in the Gradio dropdown ``css``."""
    _click(driver, f"{css} input")
    _wait(driver, lambda d: _find(d, f'[role=option][aria-label="{option}"]'))[0].click()
    _wait(driver, lambda d: _find(d, f"{css} input")[0].get_attribute("value") == option)


@SIZES
def test_a_question_sent_while_pending_is_not_dropped_and_stop_works(open_page, gated, size):
    from selenium.webdriver.common.keys import Keys

    at, gate = gated
    gate.clear()
    driver = open_page(*size, at=at)
    box = _find(driver, "#rq-question textarea")[0]
    box.send_keys("第一个问题", Keys.ENTER)
    _wait(driver, lambda d: "正在" in d.find_element("css selector", "#rq-chat").text)
    # Busy, visibly: the box is disabled (so nothing typed is dropped or erased), the ask
    # button has become a stop button, the examples cannot start a second answer.
    assert not box.is_enabled() and box.get_attribute("placeholder").startswith("正在回答")
    assert _find(driver, "#rq-stop")[0].is_displayed() and not _find(driver, "#rq-ask")
    assert not any(b.is_enabled() for b in _find(driver, ".rq-example"))
    gate.set()
    _wait(driver, lambda d: "（第一个问题）" in d.find_element("css selector", "#rq-chat").text)
    _wait(driver, lambda d: box.is_enabled())
    box.send_keys("第二个问题")
    assert box.get_attribute("value") == "第二个问题"  # what is typed after the answer stays
    gate.clear()
    box.send_keys(Keys.ENTER)
    _wait(driver, lambda d: _find(d, "#rq-chat .rq-streaming"))
    _click(driver, "#rq-stop")
    _wait(driver, lambda d: _find(d, "#rq-chat .rq-stopped"))
    _wait(driver, lambda d: box.is_enabled() and _find(d, "#rq-ask"))
    questions = [q.text for q in _find(driver, "#rq-chat .rq-question")]
    assert questions == ["第一个问题", "第二个问题"]
    gate.set()
    answer = _ask(driver, "第三个问题", "（第三个问题）")
    assert "rq-answer" in answer.get_attribute("class")
    assert not _find(driver, "#rq-chat .rq-streaming")  # the stopped answer never came in


def _copied(driver, answer) -> str:
    """Click the answer's copy button; return what it put on the clipboard."""
    driver.execute_script(
        "window.__copied = null; navigator.clipboard.writeText = (t) => "
        "{ window.__copied = t; return Promise.resolve(); };"
    )
    answer.find_element("css selector", ".rq-copy").click()
    return _wait(driver, lambda d: d.execute_script("return window.__copied"))


# The conversation list open and in its place: not folded, not still sliding in.
_LIST_IN_PLACE = """const bar = document.querySelector('#rq-chats-bar.open');
return !!bar && bar.getBoundingClientRect().left === 0
  && !bar.getAnimations().length && !bar.closest('.sidebar-parent').getAnimations().length;"""


def _feedback_lines(settings) -> list[dict]:
    path = settings.home / "feedback.jsonl"
    text = path.read_text("utf-8") if path.exists() else ""
    return [json.loads(line) for line in text.splitlines()]


@SIZES
def test_copy_link_feedback_and_history_after_reload(open_page, ui_settings, tmp_path, size):
    width = size[0]
    driver = open_page(*size)
    answer = _ask(driver, "今年新增多少养老床位", "2000")
    # Copy: the answer, then its sources as plain text, not the HTML.
    text = _copied(driver, answer)
    first, blank, source = text.split("\n")[:3]
    assert first == answer.find_element("css selector", ".rq-text").text and blank == ""
    assert source.startswith("[1] 2025年太原市政府工作报告 · 2025年 · 太原市 · ")
    assert "第" in source and "段：" in source and "2000张" in source and "<" not in text
    # [n] leads to its card and flashes it.
    driver.execute_script("window.scrollTo(0, 0)")
    answer.find_element("css selector", ".rq-link").click()
    card = answer.find_element("css selector", ".rq-card")
    _wait(driver, lambda d: "rq-flash" in card.get_attribute("class"))
    top = driver.execute_script("return arguments[0].getBoundingClientRect().top", card)
    assert 0 <= top < driver.execute_script("return window.innerHeight")
    # and opens the source viewer over the page (tests/test_ui_viewer.py): closed again
    _wait(driver, lambda d: (v := _find(d, ".rq-viewer .rq-view-close")) and v[0].is_displayed())
    _find(driver, ".rq-viewer .rq-view-close")[0].click()
    _wait(driver, lambda d: not _find(d, ".rq-viewer")[0].is_displayed())
    # On a laptop the conversation list is back at once, not sliding in: while it slid the
    # chat re-wrapped under the pointer, and 👎 ended below the chat's box (ui/chat_list.py).
    assert width <= 768 or driver.execute_script(_LIST_IN_PLACE)
    # 👎 goes to the feedback file, with the question, the answer and its citations.
    before = len(_feedback_lines(ui_settings))
    dislike = "#rq-chat button[aria-label='踩'], #rq-chat button[aria-label='Dislike']"
    button = _find(driver, dislike)[-1]  # the last answer's (Gradio's labels follow the locale)
    # mid-screen: on a phone the question box covers the bottom of the screen
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()  # a real click: what is on top at its centre gets it
    _wait(driver, lambda d: len(_feedback_lines(ui_settings)) > before)
    record = _feedback_lines(ui_settings)[-1]
    assert record["verdict"] == "down" and record["question"] == "今年新增多少养老床位"
    assert "2000" in record["answer"] and record["citations"][0]["region"] == "太原市"
    _shot(driver, tmp_path, f"chat-{width}.png")
    # A reload shows the conversation again, and a follow-up still knows it.
    driver.refresh()
    _wait(driver, lambda d: "2000" in d.find_element("css selector", "#rq-chat").text)
    assert [q.text for q in _find(driver, "#rq-chat .rq-question")] == ["今年新增多少养老床位"]
    follow = _ask(driver, "那就业呢", "8万人")
    assert len(_find(driver, "#rq-chat .rq-question")) == 2 and follow.text


_CONTRAST = """
const parse = (c) => c.match(/[\\d.]+/g).map(Number);
const lum = (c) => { const [r, g, b] = parse(c).map((v) => v / 255).map(
  (v) => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const background = (el) => { for (; el; el = el.parentElement) {
  const c = getComputedStyle(el).backgroundColor; const v = parse(c);
  if (v.length < 4 || v[3] > 0) return c; } return 'rgb(255, 255, 255)'; };
return [...document.querySelectorAll(arguments[0])].filter((el) => el.textContent.trim())
  .map((el) => { const a = lum(getComputedStyle(el).color), b = lum(background(el));
    return [el.className || el.tagName, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
"""
READ = (
    "#rq-chat .rq-text, #rq-chat .rq-title, #rq-chat .rq-where, #rq-chat .rq-passage, "
    "#rq-chat mark.rq-quote, #rq-chat .rq-sources, #rq-chat .rq-ref, #rq-chat .rq-question, "
    "#rq-docs td, #rq-docs th, #rq-docs .rq-count, .rq-header p, .rq-header h1"
)


@SIZES
def test_dark_theme_is_readable(open_page, tmp_path, size):
    driver = open_page(*size, path="?__theme=dark")
    assert "dark" in driver.find_element("tag name", "body").get_attribute("class")
    _ask(driver, "城镇新增就业目标是多少", "8万人")
    refused = _ask(driver, "今年要在月球上建几座基地", "没有")  # a refusal reads too
    assert "rq-refusal" in refused.get_attribute("class")
    _wait(driver, lambda d: _find(d, "#rq-docs td"))
    ratios = driver.execute_script(_CONTRAST, READ)
    kinds = {kind.split()[0] for kind, _ in ratios}
    assert {"rq-text", "rq-passage", "rq-where", "rq-quote"} <= kinds
    refusal = driver.execute_script(_CONTRAST, "#rq-chat .rq-refusal .rq-text")
    assert refusal and min(r for _, r in refusal) >= 4.5, refusal
    assert min(r for _, r in ratios) >= 4.5, sorted(ratios, key=lambda kr: kr[1])[:3]
    _shot(driver, tmp_path, f"dark-{size[0]}.png")


_SCROLLERS = """return [...document.querySelectorAll('body *')].filter((el) => {
  const s = getComputedStyle(el); return ['auto', 'scroll'].includes(s.overflowY)
    && el.scrollHeight > el.clientHeight + 1 && el.clientHeight > 0; })
  .map((el) => el.id || el.className);"""


def test_phone_has_one_scroller_and_nothing_hidden(open_page, tmp_path):
    driver = open_page(390, 844)
    answer = _ask(driver, "今年新增多少养老床位", "2000")
    _ask(driver, "六条优势赛道是哪些", "低空经济")
    assert driver.execute_script(_SCROLLERS) == []  # the page is the only scroller
    assert _no_horizontal_scroll(driver)
    mark = answer.find_element("css selector", ".rq-card mark.rq-quote")
    passage = answer.find_element("css selector", ".rq-passage")
    clipped = driver.execute_script(
        "const m = arguments[0].getBoundingClientRect(), p = arguments[1].getBoundingClientRect();"
        "return m.top < p.top || m.bottom > p.bottom;",
        mark,
        passage,
    )
    assert not clipped
    assert not any(
        b.is_displayed() for b in _find(driver, "#rq-chat .scroll-down-button-container")
    )
    year = _wait(driver, lambda d: _find(d, "#rq-docs td.rq-year"))[0]
    lines = "const r = document.createRange(); r.selectNodeContents(arguments[0]);"
    assert driver.execute_script(lines + "return r.getClientRects().length", year) == 1
    driver.execute_script("window.scrollTo(0, 0)")
    _shot(driver, tmp_path, "phone-chat-390x844.png")


def _type(driver, css: str, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    field = _wait(driver, lambda d: _enabled(d, f"{css} textarea, {css} input"))
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    if text:
        field.send_keys(text)


def _docs(driver) -> str:
    return _find(driver, "#rq-docs")[0].text


@SIZES
def test_reports_panel_search_filter_edit_delete(open_page, tmp_path, size):
    laptop = size[0] > 600
    old, new = ("青山县", "绿水县") if laptop else ("白云县", "黑土县")
    report = tmp_path / f"2024年{old}政府工作报告.txt"
    report.write_text(
        f"2024年{old}政府工作报告\n\n一、主要目标\n\n今年全县将新建口袋公园12个，新增停车位800个。\n",
        encoding="utf-8",
    )
    driver = open_page(*size)
    assert "已加入索引" in _upload(driver, report, "索引")
    _tab(driver, "reports")
    # Search and filter the list; the count says how many of how many.
    _wait(driver, lambda d: old in _docs(d) and "太原" in _docs(d))
    _type(driver, "#rq-search", old[:2])
    _wait(driver, lambda d: "太原" not in _docs(d))
    assert old in _docs(driver) and "显示 1 /" in _docs(driver)
    _type(driver, "#rq-search", "")
    _choose(driver, "#rq-filter-year", "2024")
    _wait(driver, lambda d: "太原" not in _docs(d) and old in _docs(d))
    years = {td.text for td in _find(driver, "#rq-docs td.rq-year")}
    assert years == {"2024"}
    _choose(driver, "#rq-filter-year", "全部年份")
    _wait(driver, lambda d: "太原" in _docs(d))
    # Correct the region: the list and the answers follow.
    _click(driver, "#rq-manage > button")
    _click(driver, "#rq-pick input")
    _wait(driver, lambda d: _find(d, f'[role=option][aria-label*="{old}"]'))[0].click()
    _wait(driver, lambda d: _find(d, "#rq-edit-year textarea, #rq-edit-year input"))
    field = "#rq-edit-region textarea, #rq-edit-region input"
    _wait(driver, lambda d: _find(d, field)[0].get_attribute("value") == old)
    _type(driver, "#rq-edit-region", new)
    _click(driver, "#rq-save")
    status = _wait(driver, lambda d: "已保存" in _find(d, "#rq-manage-status")[0].text)
    assert status
    row = f"2024年{old}政府工作报告 2024 {new}"  # the title keeps its words; the region is new
    _wait(driver, lambda d: row in _docs(d))
    if laptop:
        _shot(driver, tmp_path, "reports-panel-1280x800.png")
    answer = _ask(driver, f"{new}今年新建口袋公园多少个", "12个")
    assert new in answer.find_element("css selector", ".rq-card").text
    # The filter under the chat narrows the next questions to that region.
    _choose(driver, "#rq-scope-region", new)
    scoped = _ask(driver, "今年新增停车位多少个", "800个")
    assert {c.text.split(" · ")[-1] for c in scoped.find_elements("css selector", ".rq-title")} == {
        new
    }
    _choose(driver, "#rq-scope-region", "不限地区")
    # Delete, after confirming: gone from the list and from the answers.
    _click(driver, "#rq-delete")
    confirm = _wait(driver, lambda d: _find(d, "#rq-confirm-text"))[0]
    _wait(driver, lambda d: "确定从索引中删除" in confirm.text)
    _click(driver, "#rq-confirm")
    _wait(driver, lambda d: "已删除" in _find(d, "#rq-manage-status")[0].text)
    _wait(driver, lambda d: new not in _docs(d) and "太原" in _docs(d))
    gone = _ask(driver, f"{new}今年新建口袋公园多少个", new)
    assert "rq-refusal" in gone.get_attribute("class")


@pytest.fixture(scope="module")
def compare_url(sample_settings, real_embeddings, tmp_path_factory):
    """The real app over three small city reports that each state their targets."""
    from index import build_index
    from ui import create_app, serve

    root = tmp_path_factory.mktemp("compare")
    for region, year, targets in (
        ("大同市", 2025, "地区生产总值增长6%左右"),
        ("大同市", 2026, "地区生产总值增长5.5%左右，城镇新增就业5万人"),
        ("朔州市", 2026, "地区生产总值增长6%以上"),
        ("长治市", 2026, "地区生产总值增长5%左右"),
    ):
        review = "过去一年，地区生产总值增长5.1%。" if (region, year) == ("大同市", 2026) else ""
        (root / f"{region}{year}.txt").write_text(
            f"{year}年{region}政府工作报告\n\n一、工作回顾\n\n{review}各项工作取得新进展。\n\n"
            f"二、今年工作安排\n\n今年主要预期目标是：{targets}。\n",
            "utf-8",
        )
    settings = dataclasses.replace(sample_settings, home=root / "home")
    build_index([root], settings=settings, embeddings=real_embeddings)
    app = serve(create_app(settings, embeddings=real_embeddings), port=_free_port(), block=False)
    yield app.local_url
    app.close()


def test_a_comparison_table_renders_sorts_and_downloads(open_page, compare_url, tmp_path):
    driver = open_page(at=compare_url)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    answer = _ask(driver, "各地今年GDP增长目标是多少", "GDP增长目标")
    table = answer.find_element("css selector", ".rq-table")

    def column(n: int) -> list[str]:
        rows = table.find_elements("css selector", "tbody tr")
        return [r.find_elements("css selector", "td")[n].text for r in rows]

    assert column(0) == ["大同市", "朔州市", "长治市"]
    assert column(3) == ["5.5", "6", "5"] and "[2]" in column(6)[1]
    headers = table.find_elements("css selector", ".rq-sort")
    headers[3].click()  # 数值: lowest first, then highest first
    assert column(0) == ["长治市", "大同市", "朔州市"]
    headers[3].click()
    assert column(0) == ["朔州市", "大同市", "长治市"]
    _shot(driver, tmp_path, "comparison-table.png")
    answer.find_element("css selector", ".rq-csv").click()
    done = _wait(driver, lambda d: list(tmp_path.glob("*.csv")))
    text = done[0].read_text("utf-8-sig")
    assert text.splitlines()[0].startswith('"地区","年份","指标","数值"')
    assert '"朔州市","2026","地区生产总值增长","6"' in text.splitlines()[1]


def test_a_trend_is_a_chart_of_the_cited_points(open_page, compare_url, tmp_path):
    driver = open_page(at=compare_url)
    answer = _ask(driver, "大同市这几年GDP增长目标怎么变", "历年报告")
    chart = answer.find_element("css selector", "svg.rq-chart")
    assert len(chart.find_elements("css selector", "circle")) == 2
    labels = [t.text for t in chart.find_elements("css selector", "text")]
    assert "6% [1]" in labels and "5.5% [2]" in labels and {"2025", "2026"} <= set(labels)
    first, second = (c.rect["y"] for c in chart.find_elements("css selector", "circle"))
    assert first < second  # 6% is drawn above 5.5%
    _shot(driver, tmp_path, "trend-chart.png")


def test_a_reports_key_figures_show_as_tables_that_sort_and_download(
    open_page, compare_url, tmp_path
):
    driver = open_page(at=compare_url)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    _tab(driver, "figures")
    _choose(driver, "#rq-figures-pick", "2026年大同市政府工作报告 · 2026 · 大同市")
    tables = _wait(driver, lambda d: len(_find(d, "#rq-figures .rq-table")) == 2 and d)
    headings = [h.text for h in _find(tables, "#rq-figures .rq-figures-heading")]
    assert headings == ["主要预期目标（2026年）", "上年主要指标完成情况（2025年）"]
    targets, results = _find(driver, "#rq-figures .rq-table")

    def column(table, n: int) -> list[str]:
        rows = table.find_elements("css selector", "tbody tr")
        return [r.find_elements("css selector", "td")[n].text for r in rows]

    assert column(targets, 2) == ["地区生产总值增长", "城镇新增就业"]
    assert column(results, 3) == ["5.1"] and column(results, 6) == ["地区生产总值增长5.1%"]
    targets.find_elements("css selector", ".rq-sort")[3].click()  # 数值, lowest first
    assert column(targets, 3) == ["5", "5.5"]
    _shot(driver, tmp_path, "key-figures.png")
    _find(driver, "#rq-figures .rq-csv")[0].click()
    done = _wait(driver, lambda d: list(tmp_path.glob("*.csv")))
    assert done[0].name == "2026年大同市政府工作报告主要预期目标.csv"
    assert '"大同市","2026","城镇新增就业","5"' in done[0].read_text("utf-8-sig")


def test_an_empty_send_keeps_the_conversation_and_focus_returns_to_the_box(open_page, gated):
    from selenium.webdriver.common.keys import Keys

    at, gate = gated
    gate.set()
    driver = open_page(at=at)
    _ask(driver, "第一个问题", "（第一个问题）")
    box = _find(driver, "#rq-question textarea")[0]
    # focus is back in the box: the next question is just typed
    assert driver.switch_to.active_element == box
    box.send_keys(Keys.ENTER)  # nothing typed: nothing happens
    box.send_keys("  ", Keys.ENTER)
    _ask(driver, "第二个问题", "（第二个问题）")  # the page still answers after them
    questions = [q.text for q in _find(driver, "#rq-chat .rq-question")]
    assert questions == ["第一个问题", "第二个问题"]  # and the first exchange never went


def test_a_long_paste_is_kept_and_told_its_limit(open_page, gated):
    from selenium.webdriver.common.keys import Keys

    from assistant.question import MAX_CHARS

    at, gate = gated
    gate.set()
    driver = open_page(at=at)
    pasted = "新增养老床位" * 500  # 3,000 characters
    box = _find(driver, "#rq-question textarea")[0]
    driver.execute_script(
        "const box = arguments[0]; box.value = arguments[1];"
        "box.dispatchEvent(new Event('input', {bubbles: true}));",
        box,
        pasted,
    )
    box.send_keys(Keys.END, Keys.ENTER)
    note = _wait(driver, lambda d: _find(d, "#rq-input-note .rq-input-note"))[0]
    assert f"{MAX_CHARS}字以内" in note.text and "3000字" in note.text
    assert box.get_attribute("value") == pasted  # kept whole, to shorten
    assert not _find(driver, "#rq-chat .rq-question")  # and not sent
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("新增养老床位多少张", Keys.ENTER)  # shortened: sent, and the note goes
    _wait(driver, lambda d: not _find(d, "#rq-input-note .rq-input-note"))
    _wait(driver, lambda d: _find(d, "#rq-chat .rq-question"))


def test_esc_stops_and_up_recalls_the_last_question(open_page, gated):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    at, gate = gated
    gate.clear()
    driver = open_page(at=at)
    box = _find(driver, "#rq-question textarea")[0]
    box.send_keys("第一个问题", Keys.ENTER)
    _wait(driver, lambda d: _find(d, "#rq-chat .rq-streaming"))
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    _wait(driver, lambda d: _find(d, "#rq-chat .rq-stopped"))
    _wait(driver, lambda d: box.is_enabled())
    gate.set()
    box.click()
    box.send_keys(Keys.ARROW_UP)
    assert box.get_attribute("value") == "第一个问题"
    box.send_keys(Keys.ENTER)  # sent again as it was
    _wait(driver, lambda d: "（第一个问题）" in d.find_element("css selector", "#rq-chat").text)


@pytest.fixture(scope="module")
def forty_url(sample_settings, tmp_path_factory):
    """The real app over forty small reports (fake embeddings: the list is what is tried)."""
    from index import build_index
    from tests.conftest import CountingFakeEmbeddings
    from ui import create_app, serve

    root = tmp_path_factory.mktemp("forty")
    for n in range(40):
        (root / f"r{n:02d}.txt").write_text(
            f"{1990 + n}年示例市政府工作报告\n\n今年新建公园{n + 1}个。\n", "utf-8"
        )
    settings = dataclasses.replace(sample_settings, home=root / "home")
    fake = CountingFakeEmbeddings()
    build_index([root], settings=settings, embeddings=fake)
    app = serve(create_app(settings, embeddings=fake), port=_free_port(), block=False)
    yield app.local_url
    app.close()


# The rows of the list that cannot be brought into view, or are then not what is at their
# centre (past a box that does not scroll, or under the section below: both happened). One
# script, so the list cannot be redrawn between rows.
_UNREACHABLE = """return [...document.querySelectorAll('#rq-docs tbody tr')].filter((row) => {
  row.scrollIntoView({block: 'center'}); const r = row.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  if (y < 0 || y > window.innerHeight || x < 0 || x > window.innerWidth) return true;
  const hit = document.elementFromPoint(x, y); return !hit || hit.closest('tr') !== row;
}).map((row) => row.textContent);"""


@SIZES
def test_every_report_of_forty_is_reachable_in_the_list(open_page, forty_url, size, tmp_path):
    driver = open_page(*size, at=forty_url)
    _tab(driver, "reports")
    _wait(driver, lambda d: "共 40 份报告" in _docs(d))
    assert len(_find(driver, "#rq-docs tbody tr")) == 40
    assert driver.execute_script(_UNREACHABLE) == []
    _shot(driver, tmp_path, f"reports-40-{size[0]}.png")


_BUTTONS = """return [...document.querySelectorAll('#rq-chat button')]
  .filter((b) => b.offsetParent).map((b) => { const r = b.getBoundingClientRect();
    return [b.getAttribute('aria-label') || b.title || b.className, r.width, r.height]; });"""


def test_feedback_buttons_are_tap_targets_and_only_the_asking_clear_is_shown(open_page):
    driver = open_page(390, 844)
    _ask(driver, "今年新增多少养老床位", "2000")
    shown = driver.execute_script(_BUTTONS)
    votes = [(w, h) for label, w, h in shown if label in ("赞", "踩")]
    assert len(votes) == 2 and all(w >= 44 and h >= 44 for w, h in votes), shown
    assert not [s for s in shown if s[0] == "清空对话"]  # the chat's own icon: it did not ask
    assert _find(driver, "#rq-clear")[0].is_displayed()
