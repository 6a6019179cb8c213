"""The reports panel's 关键指标 tab: one report's key figures (its targets, last year's
results) as tables to sort and download as CSV."""

from __future__ import annotations

import gradio as gr

from assistant.figures import key_figures
from index import ReportQAError, list_documents
from ui import render, reports


def figures_tab(core) -> None:
    """The tab, its report picker (filled each time it is opened) and its tables."""
    with gr.Tab("关键指标", elem_id="rq-tab-figures") as tab:
        pick = gr.Dropdown([], value=None, label="选择报告", elem_id="rq-figures-pick")
        view = gr.HTML(
            '<div class="rq-note">选择一份报告，查看它的主要预期目标和上年主要指标。</div>',
            elem_id="rq-figures",
        )
    private = dict(api_visibility="private", show_progress="hidden")
    tab.select(_make_choices(core), inputs=pick, outputs=pick, **private)
    pick.change(_make_show(core), inputs=pick, outputs=view, **private)


def _make_choices(core):
    def choices(picked: str | None):
        """Every indexed report, newest first; the picked one stays picked while held."""
        try:
            documents = list_documents(core.settings)
        except ReportQAError:
            return gr.update(choices=[], value=None)
        shown = reports.select(documents, reports.View())
        held = {d.doc_id for d in shown}
        picks = list(zip(reports.pick_labels(shown), [d.doc_id for d in shown], strict=True))
        return gr.update(choices=picks, value=picked if picked in held else None)

    return choices


def _make_show(core):
    def show(doc_id: str | None) -> str:
        """The picked report's figures, or a message why there are none."""
        if not doc_id:
            return ""
        try:
            found = [d for d in list_documents(core.settings) if d.doc_id == doc_id]
            if not found:
                return render.error_html("这份报告已不在索引中，请重新选择。")
            rows = key_figures(doc_id=doc_id, settings=core.settings)
        except ReportQAError as exc:
            return render.error_html(exc.message_zh)
        return render.figures_html(found[0].title, rows)

    return show
