"""Several conversations kept in the browser: the page's list of them (its "book").

A book is ``{"current": id, "chats": [chat, …]}``, the most recently used conversation
first. A chat is one conversation as :mod:`ui.conversation` keeps it (``pairs``,
``messages``, ``turns``) with an ``id`` and a ``title`` ("" until renamed: it is then called
by its first question). The book lives in the browser (gr.BrowserState under
:data:`SAVED_KEY`, encrypted with :func:`browser_key`), so a reload or a server restart
shows it again; the conversation on screen is also in the server's session (gr.State),
which is what answering, 👍/👎, the source viewer and 重试/编辑 read.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import uuid
from pathlib import Path

from ui.conversation import new_state, question_at, restored, saved

log = logging.getLogger(__name__)

# The key the one conversation was kept under before: a browser's copy of it (that shape)
# is read as the first conversation of the book. (Only a copy encrypted with this home's
# key reads: before the key was kept (browser_key), every server start made its own, and
# what a browser kept then reads as nothing once that process has gone.)
SAVED_KEY = "reportqa-chat"
# A browser gives a page's localStorage about 5 MB, and Gradio drops a copy that does not
# fit without a word (every conversation would be lost, not the oldest). The book is sent
# as JSON (UTF-8) and stored encrypted in base64 (4/3 of it): 1 MB of JSON stays well inside
# the limit however the browser counts it. Past either bound the conversations used least
# recently go first; the one on screen always stays (its own 50 exchanges are < 1 MB).
CHATS_SAVED = 30
BYTES_SAVED = 1_000_000
TITLE_CHARS = 20  # of the first question, for a title nobody gave
TITLE_MAX = 40  # of a title given by 重命名
NEW_TITLE = "新对话"
KEY_FILE = "browser-key"


def new_chat() -> dict:
    """An empty conversation with a fresh id."""
    return {"id": uuid.uuid4().hex[:12], "title": "", **new_state()}


def new_book() -> dict:
    """A book of one empty conversation."""
    chat = new_chat()
    return {"current": chat["id"], "chats": [chat]}


def title_of(chat: dict) -> str:
    """The title given to ``chat``, else its first question cut short, else "新对话"."""
    if chat.get("title"):
        return chat["title"]
    if not chat["messages"]:
        return NEW_TITLE
    question = " ".join(question_at(chat, 0).split())
    return question if len(question) <= TITLE_CHARS else question[:TITLE_CHARS] + "…"


def choices(book: dict) -> list[tuple[str, str]]:
    """The list's entries: (title, id), the most recently used first."""
    return [(title_of(chat), chat["id"]) for chat in book["chats"]]


def current(book: dict) -> dict:
    """The conversation on screen."""
    return next(chat for chat in book["chats"] if chat["id"] == book["current"])


def state_of(book: dict) -> dict:
    """The conversation on screen as the page's session holds it (:mod:`ui.conversation`)."""
    chat = current(book)
    return {
        "pairs": [tuple(p) for p in chat["pairs"]],
        "messages": chat["messages"],
        "turns": chat["turns"],
    }


def restored_book(kept) -> dict:
    """The book the browser kept, checked; the one conversation an earlier version kept
    becomes the book's first; anything unexpected starts afresh."""
    chats: list[dict] = []
    if isinstance(kept, dict) and isinstance(kept.get("chats"), list):
        for item in kept["chats"]:
            chat = _restored_chat(item)
            if chat is not None and chat["id"] not in {c["id"] for c in chats}:
                chats.append(chat)
    elif isinstance(kept, dict) and "messages" in kept:  # the earlier shape
        state = restored(kept)
        chats = [{**new_chat(), **_stored(state)}] if state["messages"] else []
    if not chats:
        return new_book()
    ids = [chat["id"] for chat in chats]
    chosen = kept.get("current")
    return _capped({"current": chosen if chosen in ids else ids[0], "chats": chats})


def _restored_chat(item) -> dict | None:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
        return None
    title = item.get("title")
    title = " ".join(title.split())[:TITLE_MAX] if isinstance(title, str) else ""
    return {"id": item["id"][:40], "title": title, **_stored(restored(item))}


def _stored(state: dict) -> dict:
    """A conversation's content as the book holds it: as JSON has it (pairs as lists)."""
    pairs = [list(pair) for pair in state["pairs"]]
    return {"pairs": pairs, "messages": state["messages"], "turns": state["turns"]}


def kept(book: dict, state: dict) -> dict:
    """``book`` with the conversation on screen as ``state`` now is (its last exchanges);
    a conversation that changed becomes the most recently used."""
    chat, content = current(book), _stored(saved(state))
    if content["messages"] == chat["messages"]:
        return book
    others = [c for c in book["chats"] if c is not chat]
    return _capped({"current": chat["id"], "chats": [{**chat, **content}, *others]})


def with_new(book: dict) -> dict:
    """``book`` with an empty conversation on screen, first in the list: the untitled
    empty one it holds if any (新对话 pressed twice makes one, not two)."""
    empty = [c for c in book["chats"] if not c["messages"] and not c["title"]]
    chat = empty[0] if empty else new_chat()
    others = [c for c in book["chats"] if c is not chat]
    return _capped({"current": chat["id"], "chats": [chat, *others]})


def switched(book: dict, chat_id: str) -> dict | None:
    """``book`` with conversation ``chat_id`` on screen (the list keeps its order, so an
    entry does not move under the finger); None when the book holds no such one."""
    if chat_id not in [chat["id"] for chat in book["chats"]]:
        return None
    return {**book, "current": chat_id}


def renamed(book: dict, title: str) -> dict:
    """``book`` with the conversation on screen called ``title`` (blank: by its question)."""
    title = " ".join(str(title or "").split())[:TITLE_MAX]
    chats = [{**c, "title": title} if c["id"] == book["current"] else c for c in book["chats"]]
    return {**book, "chats": chats}


def deleted(book: dict) -> dict:
    """``book`` without the conversation on screen; the most recently used one is shown
    next, or an empty one when none is left."""
    chats = [c for c in book["chats"] if c["id"] != book["current"]]
    return {"current": chats[0]["id"], "chats": chats} if chats else new_book()


def _capped(book: dict) -> dict:
    """``book`` within :data:`CHATS_SAVED` conversations and :data:`BYTES_SAVED` bytes,
    the least recently used dropped first, never the one on screen."""
    chosen = book["current"]
    chats = [c for i, c in enumerate(book["chats"]) if i < CHATS_SAVED or c["id"] == chosen]
    sizes = [len(json.dumps(c, ensure_ascii=False).encode()) for c in chats]
    while sum(sizes) > BYTES_SAVED and len(chats) > 1:
        last = max(i for i, c in enumerate(chats) if c["id"] != chosen)
        del chats[last], sizes[last]
    return {"current": chosen, "chats": chats}


def browser_key(home: Path) -> str:
    """The key the browser's copy of the book is encrypted with, made once and kept in the
    index home (:data:`KEY_FILE`). Gradio's default is a new key per server process, and a
    restarted server could then read no conversation any browser kept.

    Gradio gives this key to the page, which encrypts in the browser: it keeps the copy
    from lying in the browser's storage as plain text, not from the page's own users.
    Where the home cannot be written, a key for this process only (and a warning).
    """
    path = home / KEY_FILE
    try:
        key = path.read_text("ascii").strip()
        if key:
            return key
    except FileNotFoundError:
        pass
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("cannot read %s (%s): conversations will not survive a restart", path, exc)
        return secrets.token_urlsafe(24)
    key = secrets.token_urlsafe(24)
    try:
        home.mkdir(parents=True, exist_ok=True)
        # O_EXCL: of two processes starting at once, both end up with the first one's key
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
            fh.write(key)
    except FileExistsError:
        return path.read_text("ascii").strip() or key
    except OSError as exc:
        log.warning("cannot write %s (%s): conversations will not survive a restart", path, exc)
    return key
