"""Embedded Chroma clients opened and closed by many threads of one process at once (a
build going live while questions open the new generation's client)."""

from __future__ import annotations

import threading

from index.store import close_client, open_client


def test_clients_opened_and_closed_at_once_all_work(settings):
    # chromadb counts the clients of a shared System in a step apart from finding it: a
    # close between the two stopped the System under the new client. Before the fix this
    # failed dozens of times in 240 opens.
    errors: list[str] = []
    start = threading.Barrier(6)

    def work() -> None:
        start.wait()
        for _ in range(40):
            try:
                client = open_client(settings)
                client.list_collections()
                close_client(settings, client)
            except Exception as exc:  # every failure is counted, none hidden
                errors.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
