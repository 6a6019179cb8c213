"""One conversation as a Markdown file: each question, its answer and the passages it cites.

Built here from the conversation's state (:mod:`ui.conversation`), downloaded by the page
(``window.rqSave``). Text from questions and reports is escaped so that it reads as the
text it is, never as Markdown structure or HTML.
"""

from __future__ import annotations

import html
import re

from ui.conversation import question_at, turn_answer
from ui.render import listed_citations

# Characters that would start Markdown emphasis, code or HTML anywhere in a line.
_INLINE = re.compile(r"([\\`*_<])")
# What would make a line a heading, a quote or a list item (``*`` is escaped anywhere): a
# backslash goes where the group ends.
_LINE_START = re.compile(r"^(\s*\d+(?=[.)](?:\s|$))|\s*(?=#|>|[-+](?:\s|$)))", re.MULTILINE)
# Characters a file name may not hold on Windows, macOS or Linux.
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def escaped(text: str) -> str:
    """``text`` as Markdown that shows it as it is: its markup characters escaped."""
    return _LINE_START.sub(r"\1\\", _INLINE.sub(r"\\\1", text))


def file_name(title: str) -> str:
    """The download's name, ``对话-<title>.md``, safe on every system."""
    safe = _UNSAFE_NAME.sub("_", title).strip(" ._") or "对话"
    return f"对话-{safe}.md"


def conversation_markdown(title: str, state: dict) -> str:
    """The conversation ``state`` as Markdown: a heading per question, the answer's text,
    then each passage it cites (report, year, region, section, paragraph, the quoted
    sentence). A reply that is not an answer (an error, a stopped one) keeps its words."""
    lines = [f"# {escaped(_one_line(title))}", ""]
    for turn in range(len(state["turns"])):
        question = _one_line(question_at(state, turn))
        lines += [f"## {turn + 1}. {escaped(question)}", ""]
        answer = turn_answer(state, turn)
        if answer is None:
            lines += [escaped(_reply_text(state["messages"][2 * turn + 1]["content"])), ""]
            continue
        lines += [f"{escaped(line)}\n" for line in answer.text.splitlines() if line.strip()]
        if answer.note:
            lines += [f"*{escaped(answer.note)}*", ""]
        listed = listed_citations(answer)
        if listed:
            heading = "相关内容（不是所问的数字）" if answer.kind == "near_miss" else "出处"
            lines += [f"**{heading}**", ""]
        for c in listed:
            where = [c.title or "（无标题）", f"{c.year}年" if c.year else "", c.region]
            where += [c.section or "正文", f"第{c.paragraph}段"]
            lines += [f"[{c.n}] " + escaped(" · ".join(p for p in where if p)), ""]
            lines += [f"> {escaped(line)}" for line in (c.quote or c.text).splitlines()] + [""]
    return "\n".join(lines).rstrip() + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _reply_text(content: str) -> str:
    """The words of a reply that holds no answer, from its HTML (ui.render): its label
    ("已停止", "出错了") and what it says."""
    label = re.search(r'class="rq-label">([^<]*)<', content)
    words = re.search(r'class="rq-text">(.*?)</div>', content, re.DOTALL)
    text = words.group(1).replace("<br>", " ") if words else ""
    text = html.unescape(re.sub(r"<[^>]*>", "", text))
    return f"（{label.group(1)}）{text}" if label else text
