"""The list of conversations: a sidebar (open on a laptop, folded away on a phone) with
新对话, the conversations to switch between, 重命名, 删除 (asked first) and 导出 (Markdown).

The conversations are a book (:mod:`ui.chats`) kept in the browser; each handler here reads
the browser's copy, changes it and writes it back, and puts the conversation it shows into
the page's session (``state``) and the chat. While an answer comes in, the list and its
buttons are disabled (:data:`LOCKED` of them, by :func:`ui.chat.busy`): the answer is kept
into the conversation on screen once it is in (:func:`keep`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import gradio as gr

from ui import render
from ui.chats import (
    CHATS_SAVED,
    choices,
    current,
    deleted,
    kept,
    renamed,
    restored_book,
    state_of,
    switched,
    title_of,
    with_new,
)
from ui.conversation import new_state
from ui.export import conversation_markdown, file_name

# What is disabled while an answer comes in (ChatList.locked()).
_LOCKED = ("pick", "new", "rename", "delete", "export", "rename_save", "delete_yes")
LOCKED = len(_LOCKED)
PRIVATE = {"api_visibility": "private"}

# The sidebar opens by itself on a wide screen only: on a phone it would cover the chat.
# (768 px: where Gradio's sidebar becomes the whole screen.) On a phone it folds away again
# once a conversation is picked, to show it. Its button is named in Chinese.
OPEN_WIDE = """() => { const toggle = document.querySelector('#rq-chats-bar .toggle-button');
  if (!toggle) return;
  toggle.setAttribute('aria-label', '对话列表');
  toggle.title = '对话列表';
  if (window.innerWidth > 768 && !toggle.closest('.open')) toggle.click(); }"""
CLOSE_NARROW = """() => { if (window.innerWidth <= 768)
  document.querySelector('#rq-chats-bar.open .toggle-button')?.click(); }"""
# On a wide screen the source viewer (ui/viewer.py) covers the right of the page: while it
# is open the list folds away, so the chat beside the viewer keeps its box and buttons, and
# comes back once it closes (only if it was folded for the viewer). A list opened by hand
# while the viewer is open stays open.
# Folded and brought back at once, as the viewer itself opens and closes, not with Gradio's
# 0.3 s slide: during a slide the chat's column narrows bit by bit and its answers re-wrap
# and grow, so the page moved on under the pointer after ✕ and a button just aimed at (an
# answer's 👎 scrolled into view) slid away, below the chat's box. A fold by hand still
# slides. (The list and the page's padding, .sidebar-parent, have their transitions off
# until the list is drawn in its new place.)
SCRIPT = """(() => {
  let viewing = false, folded = false;
  const instantly = (bar, toggle) => {
    const moving = [bar, bar.closest('.sidebar-parent')].filter(Boolean);
    const open = !bar.classList.contains('open');
    moving.forEach((el) => el.style.setProperty('transition', 'none', 'important'));
    toggle.click();
    const settle = (tries) => requestAnimationFrame(() => {
      if (bar.classList.contains('open') !== open && tries) { settle(tries - 1); return; }
      void bar.offsetWidth;  // its place computed with no transition: none starts later
      moving.forEach((el) => el.style.removeProperty('transition'));
    });
    settle(10);
  };
  const sync = () => {
    const bar = document.querySelector('#rq-chats-bar');
    const now = !!document.querySelector('#rq-viewer-holder .rq-viewer:not([hidden])');
    if (!bar || now === viewing) return;
    viewing = now;
    const open = bar.classList.contains('open');
    const toggle = bar.querySelector('.toggle-button');
    if (window.innerWidth <= 768 || !toggle) return;
    if (viewing && open) { folded = true; instantly(bar, toggle); }
    if (!viewing && folded) { folded = false; if (!open) instantly(bar, toggle); }
  };
  new MutationObserver(sync).observe(document.documentElement,
    { childList: true, subtree: true, attributes: true, attributeFilter: ['hidden'] });
})();"""
# The export's Markdown comes from the server in a hidden box, as JSON {text, name}.
SAVE = """(payload) => { if (!payload) return;
  const file = JSON.parse(payload); window.rqSave(file.text, file.name, 'text/markdown'); }"""


@dataclass
class ChatList:
    """The sidebar's components."""

    pick: gr.Radio
    new: gr.Button
    rename: gr.Button
    delete: gr.Button
    export: gr.Button
    rename_row: gr.Row
    rename_box: gr.Textbox
    rename_save: gr.Button
    rename_cancel: gr.Button
    delete_row: gr.Row
    delete_text: gr.HTML
    delete_yes: gr.Button
    delete_no: gr.Button
    export_box: gr.Textbox

    def locked(self) -> list:
        """What is disabled while an answer comes in (:data:`LOCKED` of them)."""
        return [getattr(self, name) for name in _LOCKED]


def chat_list() -> ChatList:
    """The sidebar, folded until the page opens it (:data:`OPEN_WIDE`)."""
    with gr.Sidebar(label="对话列表", open=False, width=280, elem_id="rq-chats-bar"):
        gr.HTML('<div class="rq-h">对话</div>', elem_id="rq-chats-head")
        new = gr.Button("＋ 新对话", variant="primary", elem_id="rq-chat-new")
        pick = gr.Radio([], show_label=False, container=False, elem_id="rq-chats")
        with gr.Row(elem_id="rq-chat-tools"):
            rename = gr.Button("重命名", size="sm", elem_id="rq-chat-rename", min_width=60)
            delete = gr.Button("删除", size="sm", elem_id="rq-chat-delete", min_width=60)
            export = gr.Button("导出", size="sm", elem_id="rq-chat-export", min_width=60)
        with gr.Row(visible=False, elem_id="rq-rename-row") as rename_row:
            rename_box = gr.Textbox(
                label="新名称",
                max_lines=1,
                elem_id="rq-rename-box",
                placeholder="留空则用第一个问题",
            )
            rename_save = gr.Button("保存", size="sm", variant="primary", elem_id="rq-rename-save")
            rename_cancel = gr.Button("取消", size="sm", elem_id="rq-rename-cancel")
        with gr.Row(visible=False, elem_id="rq-delete-row") as delete_row:
            delete_text = gr.HTML("", elem_id="rq-delete-text")
            delete_yes = gr.Button("确认删除", size="sm", variant="stop", elem_id="rq-delete-yes")
            delete_no = gr.Button("取消", size="sm", elem_id="rq-delete-no")
        gr.HTML(
            f'<div class="rq-hint">对话保存在本浏览器中（最近 {CHATS_SAVED} 个）；'
            "导出为 Markdown 文件，含问题、回答和引用原文。</div>"
        )
        export_box = gr.Textbox(visible="hidden", elem_id="rq-export", container=False)
    return ChatList(
        pick,
        new,
        rename,
        delete,
        export,
        rename_row,
        rename_box,
        rename_save,
        rename_cancel,
        delete_row,
        delete_text,
        delete_yes,
        delete_no,
        export_box,
    )


def listed(book: dict):
    """The list's update: its entries, the one on screen chosen."""
    return gr.update(choices=choices(book), value=book["current"])


def shown(book: dict) -> tuple:
    """``(state, messages, book, list)`` of the conversation on screen in ``book``."""
    state = state_of(book)
    return state, state["messages"], book, listed(book)


def folded(book: dict) -> tuple:
    """:func:`shown`, the rename and delete rows closed (they were the last one's)."""
    return *shown(book), gr.update(visible=False), gr.update(visible=False)


def restore(saved) -> tuple:
    """After a load: the browser's conversations (an earlier version's one conversation
    becomes the first), the one last on screen shown again."""
    return shown(restored_book(saved))


def keep(state: dict, saved) -> tuple:
    """After an answer: ``(book, list)`` with the conversation on screen as ``state`` now
    is, into the browser's copy."""
    book = kept(restored_book(saved), state or new_state())
    return book, listed(book)


def cleared(saved) -> tuple:
    """清空对话: the conversation on screen emptied (it stays in the list)."""
    return shown(kept(restored_book(saved), new_state()))


def new(saved) -> tuple:
    """新对话: an empty conversation on screen, first in the list."""
    return folded(with_new(restored_book(saved)))


def switch(saved, chat_id: str) -> tuple:
    """A conversation picked in the list, shown with its history, 👍/👎 and sources."""
    book = switched(restored_book(saved), chat_id)
    return folded(book) if book is not None else (gr.skip(),) * 6


def ask_rename(saved) -> tuple:
    """重命名: the box, holding the title it has."""
    return gr.update(visible=True), title_of(current(restored_book(saved)))


def rename(saved, title: str) -> tuple:
    """The conversation on screen renamed: ``(book, list, rename row)``."""
    book = renamed(restored_book(saved), title)
    return book, listed(book), gr.update(visible=False)


def ask_delete(saved) -> tuple:
    """删除 asks first, naming the conversation."""
    title = render.esc(title_of(current(restored_book(saved))))
    text = f'<span class="rq-confirm">删除对话“{title}”？删除后不能恢复。</span>'
    return gr.update(visible=True), text


def delete(saved) -> tuple:
    """The conversation on screen deleted; the most recently used one shown instead."""
    return folded(deleted(restored_book(saved)))


def export(state: dict, saved) -> str:
    """The conversation on screen as ``{"text": markdown, "name": file name}`` for the
    page to save, or "" (and a note) when it has nothing yet."""
    state = state or new_state()
    if not state["turns"]:
        gr.Info("这个对话还没有内容，没有可导出的。")
        return ""
    title = title_of(current(restored_book(saved)))
    text = conversation_markdown(title, state)
    return json.dumps({"text": text, "name": file_name(title)}, ensure_ascii=False)


def wire(demo, parts: ChatList, chat, state, saved) -> None:
    """The sidebar's events; ``saved`` is the browser's book, ``state`` the session's
    conversation, ``chat`` the Chatbot."""
    screen = [state, chat, saved, parts.pick]
    demo.load(restore, inputs=saved, outputs=screen, **PRIVATE)
    demo.load(None, js=OPEN_WIDE, **PRIVATE)
    rows = [parts.rename_row, parts.delete_row]
    for event, handler, inputs in (
        (parts.new.click, new, [saved]),
        (parts.pick.input, switch, [saved, parts.pick]),
    ):
        event(handler, inputs=inputs, outputs=[*screen, *rows], **PRIVATE).then(
            None, js=CLOSE_NARROW, **PRIVATE
        )
    show_rename = [parts.rename_row, parts.rename_box]
    parts.rename.click(ask_rename, inputs=saved, outputs=show_rename, **PRIVATE)
    renaming = [saved, parts.pick, parts.rename_row]
    for event in (parts.rename_save.click, parts.rename_box.submit):
        event(rename, inputs=[saved, parts.rename_box], outputs=renaming, **PRIVATE)
    hide = {"outputs": parts.rename_row, "queue": False, **PRIVATE}
    parts.rename_cancel.click(lambda: gr.update(visible=False), **hide)
    show_delete = [parts.delete_row, parts.delete_text]
    parts.delete.click(ask_delete, inputs=saved, outputs=show_delete, **PRIVATE)
    parts.delete_yes.click(delete, inputs=saved, outputs=[*screen, *rows], **PRIVATE)
    hide = {"outputs": parts.delete_row, "queue": False, **PRIVATE}
    parts.delete_no.click(lambda: gr.update(visible=False), **hide)
    parts.export.click(export, inputs=[state, saved], outputs=parts.export_box, **PRIVATE).then(
        None, inputs=parts.export_box, js=SAVE, **PRIVATE
    )


# The list: one line per conversation, the whole line a 44 px tap target, the one on
# screen marked; the radio dot hidden (the line is what is tapped), kept for the keyboard.
CSS = """
#rq-chats-bar { --rq-subdued: #4b5563; }
.dark #rq-chats-bar { --rq-subdued: #a3aab5; }
#rq-chats .wrap { display: flex; flex-direction: column; gap: 4px; }
#rq-chats label { position: relative; width: 100%; min-height: 44px; box-sizing: border-box;
  margin: 0; padding: 6px 10px; border-radius: 8px; cursor: pointer;
  border: 1px solid transparent; background: none; }
#rq-chats label input { position: absolute; opacity: 0; pointer-events: none; }
#rq-chats label span { margin: 0; overflow: hidden; text-overflow: ellipsis;
  white-space: nowrap; }
#rq-chats label:hover { border-color: var(--border-color-primary); }
#rq-chats label.selected { background: var(--background-fill-primary); font-weight: 600;
  border-color: #f59e0b; }
#rq-chats label:focus-within { outline: 2px solid #d97706; outline-offset: 1px; }
#rq-chat-tools { gap: 6px; flex-wrap: nowrap; }
#rq-chats-bar button { min-height: 44px; }
#rq-rename-row, #rq-delete-row { flex-wrap: wrap; gap: 6px; }
#rq-rename-row > #rq-rename-box, #rq-delete-row > #rq-delete-text { flex: 1 1 100% !important; }
#rq-rename-row > button, #rq-delete-row > button { flex: 1 1 40% !important; }
#rq-chats-bar .toggle-button { width: 44px; height: 44px; }
@media (max-width: 768px) {
  /* The folded list's button sits at the page's top left, where the title began. */
  .rq-header { padding-left: 48px; }
}
"""
