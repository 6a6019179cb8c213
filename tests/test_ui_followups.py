"""Suggested follow-ups in headless chromium: buttons under an answer, readable and 44 px
tall in the light and the dark theme, that ask their question as the next one.

The page, its server (the real core over a copy of the sample index) and the helpers are
those of ``tests/test_ui_browser.py``.
"""

from __future__ import annotations

import pytest

from tests import test_ui_browser as browser
from tests.test_ui_browser import _CONTRAST, _ask, _find, _shot, _wait

pytestmark = browser.pytestmark
ui_settings, url, open_page = browser.ui_settings, browser.url, browser.open_page

FINAL = "#rq-chat .rq-answer, #rq-chat .rq-refusal, #rq-chat .rq-error"
_RECT = "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height];"


@pytest.mark.parametrize(
    ("size", "theme"),
    [((1280, 800), ""), ((390, 844), "?__theme=dark")],
    ids=["laptop-light", "phone-dark"],
)
def test_a_follow_up_button_asks_its_question(open_page, tmp_path, size, theme):
    driver = open_page(*size, path=theme)
    first = _ask(driver, "城镇新增就业目标是多少", "8万人")
    buttons = first.find_elements("css selector", ".rq-followups .rq-followup")
    assert 1 <= len(buttons) <= 3
    questions = [b.text for b in buttons]
    assert all(q.endswith("？") and "城镇新增就业" not in q for q in questions), questions
    for button in buttons:
        width, height = driver.execute_script(_RECT, button)
        assert height >= 44 and width >= 44, (button.text, width, height)
    ratios = driver.execute_script(_CONTRAST, "#rq-chat .rq-followup, #rq-chat .rq-followups-label")
    assert len(ratios) == len(buttons) + 1
    assert min(r for _, r in ratios) >= 4.5, ratios
    _shot(driver, tmp_path, f"followups-{size[0]}{'-dark' if theme else ''}.png")

    before = len(_find(driver, FINAL))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", buttons[0])
    buttons[0].click()

    def answered(d):
        done = _find(d, FINAL)
        asked = _find(d, "#rq-chat .rq-question")
        if len(done) <= before or "rq-pending" in done[-1].get_attribute("class"):
            return False
        return done[-1] if asked and asked[-1].text == questions[0] else False

    second = _wait(driver, answered)
    assert "rq-answer" in second.get_attribute("class"), second.text  # found, cited
    assert second.find_elements("css selector", ".rq-card")
    assert second.text.split("\n")[0] != first.text.split("\n")[0]
    assert len(_find(driver, "#rq-chat .rq-question")) == 2  # the next question, not a new chat


def test_a_refusal_without_evidence_suggests_nothing(open_page):
    driver = open_page()
    refusal = _ask(driver, "火星基地今年建设几座", "未找到")
    assert not refusal.find_elements("css selector", ".rq-followup")
