"""The web chat in headless chromium, with the real core over the real sample index.

Screenshots go to each test's ``tmp_path`` and are copied to ``/tmp/ui-shots/``.
"""

from __future__ import annotations

import dataclasses
import shutil
import socket
import tempfile
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


@pytest.fixture
def open_page(url):
    """``open_page(width, height)``: a fresh headless chromium showing the app."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def start(width: int = 1280, height: int = 800):
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
        driver.get(url)
        _wait(driver, lambda d: _find(d, "#rq-question textarea"))
        return driver

    yield start
    for driver in drivers:
        driver.quit()


def _find(driver, css: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, css)


def _wait(driver, condition, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(condition)


def _ask(driver, question: str, expect: str):
    """Type ``question``, press Enter, wait for a final answer containing ``expect``."""
    from selenium.webdriver.common.keys import Keys

    before = len(_find(driver, "#rq-chat .rq-msg:not(.rq-pending):not(.rq-streaming)"))
    box = _find(driver, "#rq-question textarea")[0]
    box.send_keys(question, Keys.ENTER)

    def answered(d):
        done = _find(d, "#rq-chat .rq-answer, #rq-chat .rq-refusal, #rq-chat .rq-error")
        return done[-1] if len(done) > before and expect in done[-1].text else False

    return _wait(driver, answered)


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
    assert "太原" in _find(driver, "#rq-docs")[0].text
    answer = _ask(driver, "今年新增多少养老床位", "2000")
    marks = answer.find_elements("css selector", ".rq-card mark.rq-quote")
    assert any("2000张" in m.text for m in marks)
    card = answer.find_elements("css selector", ".rq-card")[0].text
    assert "[1]" in answer.text and "[1]" in card and "2025年" in card and "太原市" in card
    assert "第" in card and "段" in card
    assert _shot(driver, tmp_path, "laptop-1280x800.png").stat().st_size > 10_000
    _shot(driver, tmp_path, "laptop-1280x800-full.png", full_page=True)
    assert _no_horizontal_scroll(driver)
    _find(driver, "#rq-clear")[0].click()
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


def _upload(driver, path: Path, expect: str) -> str:
    _find(driver, "#rq-upload input[type=file]")[0].send_keys(str(path))
    status = _wait(driver, lambda d: (s := _find(d, "#rq-upload-status")) and expect in s[0].text)
    assert status
    return _find(driver, "#rq-upload-status")[0].text


def test_upload_gb18030_report_then_ask_about_it(open_page, tmp_path):
    driver = open_page()
    report = tmp_path / "2025年示例市政府工作报告.txt"
    report.write_bytes(BOOKS.encode("gb18030"))
    assert "已加入索引" in _upload(driver, report, "索引")
    _wait(driver, lambda d: "示例市" in _find(d, "#rq-docs")[0].text)
    answer = _ask(driver, "今年将新建多少座城市书房", "25")
    assert any("25座" in m.text for m in answer.find_elements("css selector", "mark.rq-quote"))
    _shot(driver, tmp_path, "upload-gb18030.png")


def test_upload_rejects_wrong_type_in_chinese(open_page, tmp_path):
    driver = open_page()
    before = _find(driver, "#rq-docs")[0].text
    bad = tmp_path / "报告.exe"
    bad.write_bytes(b"MZ not a report")
    field = _find(driver, "#rq-upload input[type=file]")[0]
    assert field.get_attribute("accept") == ".txt,.md,.html,.htm,.docx,.pdf"
    assert "不支持的文件类型" in _upload(driver, bad, "不支持")
    assert _find(driver, "#rq-docs")[0].text == before


def test_upload_over_the_size_limit_is_stopped_in_chinese_before_sending(
    open_page, tmp_path, ui_settings
):
    from index.readers import max_file_bytes

    driver = open_page()
    before = _find(driver, "#rq-docs")[0].text
    big = tmp_path / "大报告.txt"
    with big.open("wb") as fh:  # sparse: the browser reads only its size
        fh.truncate(max_file_bytes(ui_settings) + 1)
    _find(driver, "#rq-upload input[type=file]")[0].send_keys(str(big))
    note = _wait(driver, lambda d: _find(d, "#rq-too-big"))[0]
    assert "大报告.txt" in note.text and "MB 的上限，未上传" in note.text
    assert not _find(driver, "#rq-upload-status")[0].text  # nothing reached the server
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
