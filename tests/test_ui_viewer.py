"""The source viewer in headless chromium: a citation's [n] opens its whole report at the
cited sentence, with previous/next citation, download and close.

The page, its server and the helpers are those of ``tests/test_ui_browser.py``.
"""

from __future__ import annotations

import pytest

from tests import test_ui_browser as browser
from tests.test_ui_browser import MARKUP, SIZES, _ask, _find, _shot, _upload, _wait

pytestmark = browser.pytestmark
# The page's fixtures (a server over a copy of the sample index, a fresh chromium).
ui_settings, url, open_page = browser.ui_settings, browser.url, browser.open_page

VIEW = "#rq-viewer-holder .rq-viewer"


def _open(driver, answer, n: int):
    """Click [n] of ``answer``; return the viewer once it shows citation n."""
    link = [a for a in answer.find_elements("css selector", ".rq-link") if a.text == f"[{n}]"]
    link[0].click()
    return _shown(driver, n)


def _shown(driver, n: int):
    def at_n(d):
        found = _find(d, VIEW)
        if not (found and found[0].is_displayed()):
            return False
        count = found[0].find_elements("css selector", ".rq-view-count")
        placed = found[0].get_attribute("data-placed")
        return found[0] if placed and count and count[0].text.startswith(f"引用 [{n}]") else False

    return _wait(driver, at_n)


# Whether the cited paragraph is inside the viewer's scroll box, in view (not just in the
# report somewhere below), and how far the box was scrolled to show it.
_IN_VIEW = """const body = arguments[0].querySelector('.rq-view-body');
const cited = body.querySelector('.rq-view-cited mark.rq-quote');
const b = body.getBoundingClientRect(), c = cited.getBoundingClientRect();
return [c.top >= b.top && c.bottom <= b.bottom, body.scrollTop];"""
# Whether an element is what is on top at its right end (not under the side panel).
_UNCOVERED = """const r = arguments[0].getBoundingClientRect();
const hit = document.elementFromPoint(r.right - 4, r.top + r.height / 2);
return hit === arguments[0] || arguments[0].contains(hit);"""
_RECT = "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height];"


@SIZES
def test_a_citation_opens_the_whole_report_at_the_cited_sentence(open_page, tmp_path, size):
    width, height = size
    driver = open_page(*size)
    answer = _ask(driver, "今年新增多少养老床位", "2000")
    card_quote = answer.find_element("css selector", ".rq-card mark.rq-quote").text
    view = _open(driver, answer, 1)
    assert "2025年太原市政府工作报告" in view.find_element("css selector", ".rq-view-title").text
    assert "太原市" in view.find_element("css selector", ".rq-view-meta").text
    # The whole report: every paragraph, under its headings, not only the passage cited.
    assert len(view.find_elements("css selector", ".rq-view-p")) > 50
    assert len(view.find_elements("css selector", ".rq-view-h")) > 5
    (cited,) = view.find_elements("css selector", ".rq-view-cited")
    assert cited.find_element("css selector", "mark.rq-quote").text == card_quote
    in_view, scrolled = driver.execute_script(_IN_VIEW, view)
    assert in_view and scrolled > 0  # scrolled down to it, the sentence on screen
    left, top, w, h = driver.execute_script(_RECT, view)
    if width > 600:  # a side panel: the chat and its box stay usable beside it
        right = driver.execute_script("return document.documentElement.clientWidth")
        assert top == 0 and h == height and left >= width / 2 and left + w == right
        for usable in ("#rq-question textarea", "#rq-ask"):  # the list folds away for it
            _wait(driver, lambda d, css=usable: d.execute_script(_UNCOVERED, _find(d, css)[0]))
        _shot(driver, tmp_path, "source-viewer.png")
    else:  # the whole screen on a phone
        assert (left, top, w, h) == (0, 0, width, height)
        _shot(driver, tmp_path, "source-viewer-phone.png")
    # Closed with ✕: gone, the focus back on the [1] that opened it.
    view.find_element("css selector", ".rq-view-close").click()
    _wait(driver, lambda d: not _find(d, VIEW)[0].is_displayed())
    assert driver.switch_to.active_element.text == "[1]"
    if width > 600:  # the conversation list is back
        _wait(driver, lambda d: _find(d, "#rq-chats-bar.open"))


def test_previous_and_next_go_through_the_answers_citations(open_page, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver = open_page()
    answer = _ask(driver, "今年在养老方面有什么打算", "概览")
    cards = answer.find_elements("css selector", ".rq-card")
    assert len(cards) >= 2
    quotes = [
        c.find_element("css selector", "mark.rq-quote").get_attribute("textContent") for c in cards
    ]
    view = _open(driver, answer, 1)
    total = len(answer.find_elements("css selector", ".rq-card"))
    assert f"第 1 / {total} 处" in view.find_element("css selector", ".rq-view-count").text
    assert not view.find_element("css selector", ".rq-view-prev").is_enabled()
    view.find_element("css selector", ".rq-view-next").click()
    view = _shown(driver, 2)
    mark = view.find_element("css selector", ".rq-view-cited mark.rq-quote")
    assert mark.get_attribute("textContent") == quotes[1]
    assert driver.execute_script(_IN_VIEW, view)[0]
    assert f"第 2 / {total} 处" in view.find_element("css selector", ".rq-view-count").text
    view.find_element("css selector", ".rq-view-prev").click()
    view = _shown(driver, 1)
    assert (
        view.find_element("css selector", ".rq-view-cited mark.rq-quote").get_attribute(
            "textContent"
        )
        == quotes[0]
    )
    # Esc closes the viewer (and does not stop or clear anything else).
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    _wait(driver, lambda d: not _find(d, VIEW)[0].is_displayed())
    assert len(_find(driver, "#rq-chat .rq-question")) == 1


def test_the_report_downloads_as_text(open_page, tmp_path, ui_settings):
    from assistant.report_text import report_text
    from index import list_documents

    driver = open_page()
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    answer = _ask(driver, "城镇新增就业目标是多少", "8万人")
    view = _open(driver, answer, 1)
    view.find_element("css selector", ".rq-view-download").click()
    # the file is there once whole (a download may show its name before its bytes)
    done = _wait(driver, lambda d: [f for f in tmp_path.glob("*.txt") if f.stat().st_size])
    assert done[0].name == "2025年太原市政府工作报告.txt"
    text = done[0].read_text("utf-8")
    assert text.startswith("2025年太原市政府工作报告\n") and "城镇新增就业" in text
    (doc,) = [d for d in list_documents(ui_settings) if d.title == "2025年太原市政府工作报告"]
    passages = report_text(doc.doc_id, settings=ui_settings).passages
    flat = text.replace("\n", "")
    assert all(p.text.replace("\n", "") in flat for p in passages)  # the whole report
    assert "<" not in text  # as plain text


def test_markup_in_a_report_shows_as_text_in_the_viewer(open_page, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException

    driver = open_page()
    report = tmp_path / "2025年测试县政府工作报告.html"
    report.write_text(MARKUP, encoding="utf-8")
    _upload(driver, report, "已加入索引")
    answer = _ask(driver, "今年将建设多少个智慧农场", "8个")
    view = _open(driver, answer, 1)
    text = view.find_element("css selector", ".rq-view-body").text
    assert "<script>alert(1)</script>" in text and "onerror=alert(2)" in text
    assert not view.find_elements("css selector", "script, img, [onerror], [style]")
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018 -- raises when no alert is open
