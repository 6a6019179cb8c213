"""The user's embedding cache: one per model, shared by every index home of the user."""

from __future__ import annotations

import dataclasses
import threading

from index import build_index
from index.store import IndexStore
from index.write import model_id_for
from tests.conftest import CountingFakeEmbeddings


def test_a_second_home_indexing_the_same_reports_embeds_nothing(
    tmp_path, reports, settings, fake_embeddings
):
    first = build_index([reports], settings=settings, embeddings=fake_embeddings)
    assert first.embedded > 20
    asked = fake_embeddings.embedded
    other = dataclasses.replace(settings, home=tmp_path / "other-home")
    second = build_index([reports], settings=other, embeddings=fake_embeddings)
    assert second.embedded == 0 and fake_embeddings.embedded == asked
    assert second.chunks == first.chunks
    # one cache of the user's, under its own folder, not the homes'
    cache = IndexStore(settings).cache_path(model_id_for(settings, fake_embeddings))
    assert cache.is_file() and cache.parent == settings.embedding_cache_dir()
    assert not list(settings.home.glob("embeddings.sqlite*"))


def test_another_model_has_its_own_cache(tmp_path, reports, settings, fake_embeddings):
    build_index([reports], settings=settings, embeddings=fake_embeddings)

    class OtherModel(CountingFakeEmbeddings):
        name = "fake-ngrams-v2"

    other_model = OtherModel()
    other = dataclasses.replace(settings, home=tmp_path / "other-home")
    again = build_index([reports], settings=other, embeddings=other_model)
    assert again.embedded > 20 and other_model.embedded > 0
    store = IndexStore(settings)
    paths = {store.cache_path(m.model_id) for m in (fake_embeddings, other_model)}
    assert len(paths) == 2 and all(p.is_file() for p in paths)


def test_builds_of_two_homes_write_the_cache_at_once(tmp_path, reports, settings):
    """Both builds are inside the model at the same moment (a barrier), then both store
    their vectors in the one cache: neither fails, and a third home embeds nothing."""
    meeting = threading.Barrier(2, timeout=60)

    class Meeting(CountingFakeEmbeddings):
        def embed_documents(self, texts):
            if len(self.calls) == 0:
                meeting.wait()  # the other build is embedding too
            return super().embed_documents(texts)

    homes = [dataclasses.replace(settings, home=tmp_path / f"home-{n}") for n in range(2)]
    models = [Meeting(), Meeting()]
    outcomes: list = [None, None]

    def run(n: int) -> None:
        try:
            outcomes[n] = build_index([reports], settings=homes[n], embeddings=models[n])
        except Exception as exc:  # reported by the assertion below
            outcomes[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(not isinstance(o, Exception) and o.chunks > 20 for o in outcomes), outcomes
    third = CountingFakeEmbeddings()
    home = dataclasses.replace(settings, home=tmp_path / "home-3")
    assert build_index([reports], settings=home, embeddings=third).embedded == 0
    assert third.embedded == 0


def test_a_build_embeds_longest_first_and_tells_the_time_left(
    reports, settings, fake_embeddings, monkeypatch
):
    """Texts go to the model longest first (a batch of one length pads little), passages
    and sentences in one stage, whose steps say the time left once a batch after the
    first (which loads the model) is timed: the cost left at the speed seen so far."""
    import index.cache as cache

    clock = iter(range(0, 10**6, 2))  # two seconds a batch, whatever the machine
    monkeypatch.setattr(cache.time, "monotonic", lambda: float(next(clock)))
    steps = []
    build_index([reports], settings=settings, embeddings=fake_embeddings, progress=steps.append)
    sizes = [len(t) for batch in fake_embeddings.calls for t in batch]
    assert len(fake_embeddings.calls) >= 3 and sizes == sorted(sizes, reverse=True)
    costs = [n + cache.TEXT_COST for n in sizes]
    embedding = [s for s in steps if s.stage == "embedding"]
    assert embedding[0].done == 0 and embedding[-1].done == embedding[-1].total == len(sizes)
    assert [s.seconds_left for s in embedding[:2]] == [None, None]  # nothing timed yet
    left = [s.seconds_left for s in embedding[2:]]
    assert all(x is not None for x in left) and left == sorted(left, reverse=True)
    assert left[-1] == 0.0
    # after the second batch: its 2 s per its cost, times the cost left
    done = sum(costs[: len(fake_embeddings.calls[0]) + len(fake_embeddings.calls[1])])
    second = sum(cache.cost(t) for t in fake_embeddings.calls[1])
    assert left[0] == (sum(costs) - done) * 2 / second


def test_time_left_is_unknown_until_a_second_batch(monkeypatch):
    import index.cache as cache

    now = [100.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])
    clock = cache.TimeLeft(1000)
    assert clock.seconds_left() is None
    clock.done(400)  # the first batch, which loaded the model
    now[0] += 5
    assert clock.seconds_left() is None
    clock.done(100)  # a cost of 100 in 5 s; 500 left
    assert clock.seconds_left() == 25.0
    clock.done(500)
    assert clock.seconds_left() == 0.0


def test_builds_opening_one_new_cache_at_once_both_open_it(tmp_path, fake_embeddings):
    """Two builds open the same new cache file at the same moment (a barrier), many times:
    turning it to WAL takes a lock that SQLite's busy wait does not cover, and neither may
    fail for it (it did about once in fifty tries)."""
    from index.cache import CachedEmbeddings

    failures: list[Exception] = []
    for n in range(100):
        path = tmp_path / f"cache-{n}.sqlite"
        meeting = threading.Barrier(2, timeout=60)

        def open_it(path=path, meeting=meeting) -> None:
            try:
                meeting.wait()
                CachedEmbeddings(fake_embeddings, path, "fake").close()
            except Exception as exc:  # reported by the assertion below
                failures.append(exc)

        threads = [threading.Thread(target=open_it) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not failures, failures[:3]
