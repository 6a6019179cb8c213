"""The reports panel beside the chat: the list (search, filter, sort), correcting and
removing a report, uploads, and the 关键指标 tab."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from index import BuildStep, ReportQAError, list_documents
from index.readers import format_mb, max_file_bytes
from ui import render, reports
from ui.builds import DESK
from ui.chat import ANY_REGION, ANY_YEAR, choice
from ui.core import Core
from ui.figures_view import figures_tab
from ui.uploads import ALLOWED_SUFFIXES, add_reports, edit_report, remove_report

# The page's changes to the index wait for their turn at ui.builds.DESK, which tells a
# waiting upload what it waits for: Gradio lets this many reach it at once.
CHANGES_AT_ONCE = 4

_STAGES = {
    "waiting": ("另一个建索引任务正在进行，等待它完成", ""),
    "reading": ("正在读取报告", "份"),
    "embedding": ("正在计算段落和句子的向量", "条"),
    "storing": ("正在写入索引", "段"),
}


def time_left_zh(seconds: float) -> str:
    """``seconds`` as the page says a time left: 45秒, 3分05秒."""
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}分{seconds:02d}秒" if minutes else f"{seconds}秒"


@dataclass(frozen=True)
class Panel:
    """The components the reports panel's handlers read and write."""

    search: gr.Textbox
    region: gr.Dropdown
    year: gr.Dropdown
    sort: gr.Dropdown
    docs: gr.HTML
    pick: gr.Dropdown
    scope_region: gr.Dropdown
    scope_year: gr.Dropdown

    @property
    def inputs(self) -> list:
        return [
            self.region,
            self.year,
            self.pick,
            self.search,
            self.sort,
            self.scope_region,
            self.scope_year,
        ]

    @property
    def outputs(self) -> list:
        return [
            self.docs,
            self.region,
            self.year,
            self.pick,
            self.scope_region,
            self.scope_year,
        ]


def make_refresh(core: Core):
    """The handler that redraws the list and the choices of the filters and pickers."""

    def refresh(region, year, pick, query, sort, scope_region, scope_year):
        """The list as searched, filtered and sorted; the filters' and pickers' choices
        (a choice whose reports are gone falls back to all)."""
        try:
            documents = list_documents(core.settings)
        except ReportQAError as exc:
            return render.error_html(exc.message_zh), *(gr.skip(),) * 5
        regions, years = reports.region_choices(documents), reports.year_choices(documents)
        region = region if region in regions else reports.ALL_REGIONS
        year = year if year in years else reports.ALL_YEARS
        view = reports.View(query or "", region, year, sort or reports.SORTS[0])
        shown = reports.select(documents, view)
        picks = list(zip(reports.pick_labels(shown), [d.doc_id for d in shown], strict=True))
        pick = pick if pick in {d.doc_id for d in shown} else None
        scope_regions = [ANY_REGION, *sorted({d.region for d in documents if d.region})]
        scope_years = [ANY_YEAR, *[y for y in years if y.isdigit()]]
        scope_region = scope_region if scope_region in scope_regions else ANY_REGION
        scope_year = scope_year if scope_year in scope_years else ANY_YEAR
        return (
            render.documents_html(shown, len(documents)),
            gr.update(choices=regions, value=region),
            gr.update(choices=years, value=year),
            gr.update(choices=picks, value=pick),
            gr.update(choices=scope_regions, value=scope_region),
            gr.update(choices=scope_years, value=scope_year),
        )

    return refresh


def make_fill(core: Core):
    """The handler that fills the edit fields from the picked report."""

    def fill(doc_id: str | None):
        """Put the chosen report's title, year and region into the edit fields."""
        found = [d for d in list_documents(core.settings) if d.doc_id == doc_id]
        if not found:
            return "", "", "", gr.update(visible=False)
        doc = found[0]
        return doc.title, str(doc.year or ""), doc.region, gr.update(visible=False)

    return fill


def make_save(core: Core):
    """The handler of 保存修改."""

    def save(doc_id: str | None, title: str, year: str, region: str) -> str:
        """Correct the chosen report (its meta file, then a re-index); say how it went."""
        if not doc_id:
            return render.status_html([(False, "请先选择一份报告。")])
        try:
            doc = edit_report(
                doc_id,
                title=title,
                year=year,
                region=region,
                settings=core.settings,
                embeddings=core.embeddings,
            )
        except ReportQAError as exc:
            return render.status_html([(False, exc.message_zh)])
        shown = reports.pick_label(doc)
        return render.status_html([(True, f"已保存并重新索引：{shown}")])

    return save


def make_confirm(core: Core):
    """The handler of 删除报告: it asks first."""

    def confirm(doc_id: str | None):
        """Ask before removing: show which report would go."""
        found = [d for d in list_documents(core.settings) if d.doc_id == doc_id]
        if not found:
            return gr.update(visible=False), "", render.status_html([(False, "请先选择一份报告。")])
        question = f"确定从索引中删除《{render.esc(found[0].title)}》吗？此操作不能撤销。"
        return gr.update(visible=True), f'<div class="rq-confirm">{question}</div>', ""

    return confirm


def make_delete(core: Core):
    """The handler of 确认删除."""

    def delete(doc_id: str | None):
        """Remove the chosen report (as ``reportqa index remove``)."""
        hide = gr.update(visible=False)
        if not doc_id:
            return hide, render.status_html([(False, "请先选择一份报告。")])
        try:
            title = remove_report(doc_id, settings=core.settings, embeddings=core.embeddings)
        except ReportQAError as exc:
            return hide, render.status_html([(False, exc.message_zh)])
        return hide, render.status_html([(True, f"已删除：{title}")])

    return delete


def make_upload(core: Core):
    """The handler of an upload."""

    def upload(files, progress=gr.Progress()):  # noqa: B008 -- gradio's injection idiom
        """Index uploaded reports with a progress bar; per-file results in Chinese. An
        upload that waits for another change is told what it waits for."""
        paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in files or []]
        if not paths:
            yield "", None
            return
        if (running := DESK.running) is not None:
            waiting = f"{running.describe()}，本次上传已排队，完成后自动开始。"
            yield render.status_html([(True, waiting)]), gr.update()
        progress(0, desc="正在读取报告…")

        def step(at: BuildStep) -> None:
            desc, unit = _STAGES[at.stage]
            if at.seconds_left is not None:
                desc += f"，约剩{time_left_zh(at.seconds_left)}"
            progress((at.done, at.total) if at.total else 0, desc=desc, unit=unit)

        result = add_reports(
            paths, settings=core.settings, embeddings=core.embeddings, progress=step
        )
        yield render.status_html(result.lines), None

    return upload


def reports_column(core: Core, demo, scope: tuple[gr.Dropdown, gr.Dropdown]) -> None:
    """The side column's tabs: the list with its editor, uploads, key figures."""
    with gr.Tabs(elem_id="rq-side"):
        with gr.Tab("报告列表", elem_id="rq-tab-reports"):
            panel = _report_list(scope)
            _report_editor(core, panel)
        with gr.Tab("上传报告", elem_id="rq-tab-upload"):
            _upload_area(core, panel)
        figures_tab(core)
    # The search box on change: its input event carried the text before the keystroke,
    # so the list stayed filtered after the box was emptied.
    panel.search.change(trigger_mode="always_last", **_refreshing(core, panel))
    for control in (panel.region, panel.year, panel.sort):
        control.input(trigger_mode="always_last", **_refreshing(core, panel))
    demo.load(**_refreshing(core, panel))


def _refreshing(core: Core, panel: Panel) -> dict:
    """The event that redraws the list after a change: quietly, the old list stays shown
    until the new one is in (no spinner over it)."""
    return dict(
        fn=make_refresh(core),
        inputs=panel.inputs,
        outputs=panel.outputs,
        show_progress="hidden",
        api_visibility="private",
    )


def _report_list(scope: tuple[gr.Dropdown, gr.Dropdown]) -> Panel:
    with gr.Row(elem_id="rq-filters"):
        search = gr.Textbox(
            placeholder="搜索标题、地区或年份",
            show_label=False,
            container=False,
            elem_id="rq-search",
            min_width=160,
        )
        region = choice([reports.ALL_REGIONS], "rq-filter-region", 110)
        year = choice([reports.ALL_YEARS], "rq-filter-year", 100)
        sort = choice(list(reports.SORTS), "rq-sort", 120)
    docs = gr.HTML(elem_id="rq-docs")
    pick = gr.Dropdown([], value=None, label="选择报告", elem_id="rq-pick", render=False)
    return Panel(search, region, year, sort, docs, pick, *scope)


def _report_editor(core: Core, panel: Panel) -> None:
    with gr.Accordion("修改或删除报告", open=False, elem_id="rq-manage"):
        panel.pick.render()
        with gr.Row():
            title = gr.Textbox(label="标题", elem_id="rq-edit-title", scale=3)
            year = gr.Textbox(label="年份", elem_id="rq-edit-year", scale=1, min_width=80)
            region = gr.Textbox(label="地区", elem_id="rq-edit-region", scale=1, min_width=100)
        with gr.Row():
            save = gr.Button("保存修改", variant="primary", elem_id="rq-save", size="sm")
            delete = gr.Button("删除报告", variant="stop", elem_id="rq-delete", size="sm")
        with gr.Row(visible=False, elem_id="rq-confirm-row") as confirm_row:
            question = gr.HTML(elem_id="rq-confirm-text")
            confirm = gr.Button("确认删除", variant="stop", elem_id="rq-confirm", size="sm")
            cancel = gr.Button("取消", elem_id="rq-cancel", size="sm")
        status = gr.HTML(elem_id="rq-manage-status")
    private = dict(api_visibility="private")
    panel.pick.change(
        make_fill(core),
        inputs=panel.pick,
        outputs=[title, year, region, confirm_row],
        **private,
    )
    save.click(
        make_save(core),
        inputs=[panel.pick, title, year, region],
        outputs=status,
        concurrency_limit=CHANGES_AT_ONCE,
        concurrency_id="build",
        **private,
    ).then(**_refreshing(core, panel))
    delete.click(
        make_confirm(core),
        inputs=panel.pick,
        outputs=[confirm_row, question, status],
        **private,
    )
    confirm.click(
        make_delete(core),
        inputs=panel.pick,
        outputs=[confirm_row, status],
        concurrency_limit=CHANGES_AT_ONCE,
        concurrency_id="build",
        **private,
    ).then(**_refreshing(core, panel))
    cancel.click(lambda: gr.update(visible=False), outputs=confirm_row, **private)


def _upload_area(core: Core, panel: Panel) -> None:
    kinds = "、".join(s.lstrip(".") for s in ALLOWED_SUFFIXES)
    limit = max_file_bytes(core.settings)
    # Read by the page's script (ui.style.head), which stops larger files before sending.
    gr.HTML(
        f'<div id="rq-limit" data-max-bytes="{limit}" data-max-mb="{format_mb(limit)}"></div>',
        elem_id="rq-limit-holder",
    )
    files = gr.File(
        label=f"上传报告（{kinds}；单个文件不超过 {format_mb(limit)} MB）",
        file_count="multiple",
        elem_id="rq-upload",
    )
    status = gr.HTML("", elem_id="rq-upload-status")
    stop = gr.Button("取消建立索引", elem_id="rq-cancel-build", size="sm")
    files.upload(
        make_upload(core),
        inputs=files,
        outputs=[status, files],
        show_progress_on=files,
        api_visibility="private",
        concurrency_limit=CHANGES_AT_ONCE,
        concurrency_id="build",
    ).then(**_refreshing(core, panel))
    # Not in the "build" group: it must run while a build does.
    stop.click(
        lambda: render.status_html([(False, DESK.cancel())]),
        outputs=status,
        api_visibility="private",
        concurrency_limit=None,
    )
