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
