"""The source viewer without a browser: a report's passages in order (the core), and the
viewer's HTML and handler (``ui.viewer``)."""

from __future__ import annotations

import dataclasses

import pytest

from assistant.report_text import report_text
from assistant.types import Answer, Citation
from index import ReportNotFoundError, build_index, list_documents, remove_document

REPORT = (
    "2025年示例市政府工作报告\n\n一、主要目标\n\n今年全市将新建城市书房25座，改造老旧小区120个。"
    "全市地区生产总值增长5%左右。\n\n二、重点工作\n\n（一）民生\n\n推进全民阅读<script>alert(1)"
    "</script>，举办读书节活动30场。\n\n（二）交通\n\n新建公交线路12条，新增停车位800个。\n"
)


@pytest.fixture
def indexed(settings, fake_embeddings, tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "2025年示例市政府工作报告.txt").write_text(REPORT, encoding="utf-8")
    build_index([folder], settings=settings, embeddings=fake_embeddings)
    (doc,) = list_documents(settings)
    return doc


def _citation(n: int, passage, quote: str, doc) -> Citation:
    return Citation(
        n=n,
        text=passage.text,
        quote=quote,
        source=doc.source,
        title=doc.title,
        year=doc.year,
        region=doc.region,
        section=passage.section,
        paragraph=passage.paragraph,
        score=1.0,
    )


def test_a_reports_passages_come_in_order_by_id_or_source(settings, indexed):
    report = report_text(indexed.doc_id, settings=settings)
    assert report.document.doc_id == indexed.doc_id
    texts = [p.text for p in report.passages]
    assert any("城市书房25座" in t for t in texts) and "停车位800个" in texts[-1]
    starts = [p.start for p in report.passages]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert report_text(indexed.source, settings=settings) == report
    with pytest.raises(ReportNotFoundError) as refused:
        report_text("no-such-report", settings=settings)
    assert "不在索引中" in refused.value.message_zh


def test_the_viewer_marks_the_cited_sentence_escapes_the_report_and_offers_next(settings, indexed):
    from ui.viewer import viewer_html

    report = report_text(indexed.doc_id, settings=settings)
    reading = next(p for p in report.passages if "全民阅读" in p.text)
    parking = next(p for p in report.passages if "停车位" in p.text)
    first = _citation(1, reading, "举办读书节活动30场。", indexed)
    second = _citation(2, parking, "新增停车位800个。", indexed)
    html = viewer_html(report, 3, first, (second, first), "n1")
    assert "<script" not in html and 'data-name="2025年示例市' in html
    cited = html.split('class="rq-view-p rq-view-cited"')
    assert len(cited) == 2 and '<mark class="rq-quote">举办读书节活动30场。</mark>' in cited[1]
    also = html.split('class="rq-view-p rq-view-also"')
    assert len(also) == 2 and "停车位800个" in also[1].split("</div>")[0]
    # the headings above each passage, once: 二、重点工作 before both of its parts
    assert html.count(">二、重点工作<") == 1 and html.index("（一）民生") < html.index("（二）交通")
    assert "第 1 / 2 处" in html and 'data-turn="3" data-n="2"' in html
    assert 'class="rq-view-go rq-view-prev" disabled' in html
    # a citation whose passage the report no longer holds is shown, and said to be gone
    gone = dataclasses.replace(first, text="旧版本的段落。", quote="旧版本", paragraph=999)
    assert "原引用的段落不在当前版本中" in viewer_html(report, 0, gone, (gone,), "n2")


def test_report_text_and_titles_are_escaped_in_the_viewer(indexed):
    from assistant.report_text import ReportText
    from index import Passage
    from ui.viewer import viewer_error_html, viewer_html

    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>"'
    doc = dataclasses.replace(indexed, title=f"报告{hostile}")
    passage = Passage(indexed.doc_id, f"建设智慧农场8个。{hostile}", f"一、{hostile}", 1, 0, 40)
    cited = _citation(1, passage, "建设智慧农场8个。", doc)
    html = viewer_html(ReportText(doc, (passage,)), 0, cited, (cited,), f"n{hostile}")
    html += viewer_error_html(hostile, hostile)
    assert "<script" not in html and "<img" not in html and '"<' not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5  # title, heading, text …


def test_the_handler_reads_the_answer_from_the_conversation(settings, indexed):
    import gradio as gr

    from ui.conversation import added, chat_with, new_state
    from ui.core import Core
    from ui.viewer import make_show

    report = report_text(indexed.doc_id, settings=settings)
    cited = _citation(1, report.passages[1], "", indexed)
    answer = Answer("问", "答[1]", True, (cited,), kind="figure")
    state = added(new_state(), "问", chat_with(new_state(), "问", "答"), answer)
    state = added(state, "错", chat_with(state, "错", "错"), None)
    show = make_show(Core(settings, None, None))
    assert 'class="rq-view-p rq-view-cited"' in show("0:1:x", state)
    for asked in ("1:1:x", "0:2:x", "5:1:x", "", "a:b"):  # an error, no such [n], garbage
        assert show(asked, state) == gr.skip()
    remove_document(indexed.doc_id, settings=settings)
    assert "不在索引中" in show("0:1:y", state)
