"""The reports panel's small things in headless chromium: the search box emptied brings the
whole list back, reports of the same title are told apart in the pick list, the delete
confirmation reads on its own line.

The page, its server and the helpers are those of ``tests/test_ui_browser.py``.
"""

from __future__ import annotations

from tests import test_ui_browser as browser
from tests.test_ui_browser import SIZES, _click, _docs, _find, _tab, _type, _upload, _wait

pytestmark = browser.pytestmark
# The page's fixtures (a server over a copy of the sample index, a fresh chromium).
ui_settings, url, open_page = browser.ui_settings, browser.url, browser.open_page

# The width of the delete question against its row's.
_SHARE = """const q = document.querySelector('#rq-confirm-text').getBoundingClientRect();
const row = document.querySelector('#rq-confirm-row').getBoundingClientRect();
return q.width / row.width;"""


@SIZES
def test_search_cleared_same_titles_and_the_delete_question(open_page, tmp_path, size):
    place = "同名县" if size[0] > 600 else "同号县"
    title = f"2024年{place}政府工作报告"
    for name in ("甲", "乙"):
        report = tmp_path / f"{place}-{name}.txt"
        report.write_text(f"{title}\n\n一、主要目标\n\n今年新建公园{len(name)}个。\n", "utf-8")
    driver = open_page(*size)
    for name in ("甲", "乙"):
        _upload(driver, tmp_path / f"{place}-{name}.txt", f"{place}-{name}.txt")
    _tab(driver, "reports")
    _wait(driver, lambda d: _docs(d).count(title) == 2)
    everything = _docs(driver)
    # Searched, then the box emptied: the whole list is back.
    _type(driver, "#rq-search", place)
    _wait(driver, lambda d: "显示 2 /" in _docs(d))
    _type(driver, "#rq-search", "")
    _wait(driver, lambda d: _docs(d) == everything)
    assert "共 " in everything
    # The two reports of one title, told apart by their files.
    _click(driver, "#rq-manage > button")
    _click(driver, "#rq-pick input")
    options = _wait(driver, lambda d: _find(d, f'[role=option][aria-label*="{place}"]'))
    labels = sorted(o.get_attribute("aria-label") for o in options)
    assert labels == [f"{title} · 2024 · {place} · {place}-{n}.txt" for n in ("乙", "甲")]
    options[0].click()
    # The delete question takes the panel's width, not a narrow column beside the buttons.
    _click(driver, "#rq-delete")
    asked = _wait(driver, lambda d: _find(d, "#rq-confirm-text"))[0]
    _wait(driver, lambda d: "确定从索引中删除" in asked.text)
    assert driver.execute_script(_SHARE) > 0.9
    _click(driver, "#rq-cancel")
    shown = "return [...document.querySelectorAll('#rq-confirm-row')].some((r) => r.offsetParent)"
    _wait(driver, lambda d: not d.execute_script(shown))
