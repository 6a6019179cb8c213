"""The soak's page writer: uploads reports through the page as a browser does.

A browser uploads a file to Gradio's upload route, then runs the upload event of the
file box through Gradio's queue (``queue/join``, then the event stream of
``queue/data``); the page's answer is the status line under the box. This writer does
the same with plain HTTP, checks the status says the report was indexed and that the
server then answers from it, and removes it again (``DELETE /api/reports/{doc_id}``: no
other process may write a served embedded index) so that the index stays the size it was.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

# Regions no other report of the soak claims: a page upload's figure is its own.
PAGE_REGIONS = ("晋城市", "朔州市")
EVENT_TIMEOUT = 300.0  # an upload waits its turn behind the other writer's builds


class PageWriterError(Exception):
    """A page upload that did not end as a browser's would."""


class PageWriter:
    """Uploads a report through the page, asks for its figure, removes it; in turn."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.rounds: Counter[str] = Counter()
        self.failures: list[str] = []
        self.seconds: list[float] = []
        self.current = ""

    def run(self, stop: threading.Event) -> None:
        round_ = 0
        while not stop.is_set():
            started = time.perf_counter()
            # A connection per round, as a page opened anew: one kept idle through a build
            # is closed by the server (keep-alive 5 s) and reset when it is used again.
            try:
                with httpx.Client(base_url=self.base, timeout=EVENT_TIMEOUT) as http:
                    self.step(http, upload_event(http), round_)
            except Exception as exc:  # recorded and reported; the soak goes on
                self.failures.append(f"page round {round_} {self.current}: {exc!r}")
            finally:
                self.seconds.append(time.perf_counter() - started)
                self.current = ""
            round_ += 1

    def step(self, http: httpx.Client, upload: tuple[int, int], round_: int) -> None:
        region = PAGE_REGIONS[round_ % len(PAGE_REGIONS)]
        number = 500 + round_
        name = f"page-{round_ % len(PAGE_REGIONS)}-{round_}.txt"
        text = (
            f"2025年{region}政府工作报告\n\n一、2025年工作安排\n\n"
            f"今年新建口袋公园{number}个，新建城市书房{number + 7}座。\n"
        )
        self.current = f"upload {name}"
        status = page_upload(http, upload, name, text.encode("utf-8"))
        if "已加入索引" not in status:
            raise PageWriterError(f"the page said: {status[:200]}")
        self.rounds["uploaded"] += 1
        self.current = f"ask {name}"
        asked = http.post("/api/ask", json={"question": f"{region}今年新建口袋公园多少个"})
        if asked.status_code != 200 or f"{number}个" not in asked.json().get("text", ""):
            raise PageWriterError(f"not served after upload: {asked.text[:200]}")
        self.current = f"remove {name}"
        doc = next(d for d in http.get("/api/reports").json() if Path(d["source"]).name == name)
        removed = http.delete(f"/api/reports/{doc['doc_id']}")
        if removed.status_code != 200:
            raise PageWriterError(f"remove {removed.status_code}: {removed.text[:200]}")
        self.rounds["removed"] += 1


def upload_event(http: httpx.Client) -> tuple[int, int]:
    """The page's upload event: its index in Gradio's config and its file box's id."""
    config = http.get("/config").json()
    box = next(
        c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == "rq-upload"
    )
    for index, dependency in enumerate(config["dependencies"]):
        if [box, "upload"] in dependency.get("targets", []):
            return dependency.get("id", index), box
    raise PageWriterError("the page has no upload event")


def page_upload(http: httpx.Client, event: tuple[int, int], name: str, data: bytes) -> str:
    """Upload ``data`` as ``name`` through the page; the status line it shows, as text."""
    posted = http.post("/gradio_api/upload", files={"files": (name, data)})
    if posted.status_code != 200:
        raise PageWriterError(f"upload {posted.status_code}: {posted.text[:200]}")
    (path,) = posted.json()
    fn_index, trigger = event
    session = uuid.uuid4().hex[:10]
    files = [{"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}]
    body = {
        "data": [files],
        "event_data": None,
        "fn_index": fn_index,
        "trigger_id": trigger,
        "session_hash": session,
    }
    joined = http.post("/gradio_api/queue/join", json=body)
    if joined.status_code != 200:
        raise PageWriterError(f"queue/join {joined.status_code}: {joined.text[:200]}")
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session}) as events:
        for line in events.iter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line.removeprefix("data:"))
            if message.get("msg") == "process_completed":
                if not message.get("success"):
                    raise PageWriterError(f"the event failed: {json.dumps(message)[:300]}")
                status_html = message["output"]["data"][0]
                return _text(status_html)
    raise PageWriterError("the event stream ended without a result")


def _text(html: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", html)
