"""Suggested follow-ups (assistant.suggest): the same topic in another year or region the
index holds, and the cited report's neighbouring key figures."""

from __future__ import annotations

import shutil

import pytest

from assistant.suggest import Asked, Suggestion, asked_topic, follow_ups, suggest
from assistant.types import Answer, Citation
from index.figures import Figure
from index.model import Document
from tests.conftest import DATA, lenient_answer_model


def doc(doc_id: str, region: str, year: int) -> Document:
    return Document(doc_id, f"{year}年{region}政府工作报告", year, region, f"/r/{doc_id}.txt", "x")


NATIONAL_24 = doc("n24", "全国", 2024)
NATIONAL_25 = doc("n25", "全国", 2025)
BEIJING = doc("bj", "北京市", 2026)
TIANJIN = doc("tj", "天津市", 2026)
GUANGDONG = doc("gd", "广东省", 2026)
SHANXI = doc("sx", "山西省", 2026)
TAIYUAN = doc("ty", "太原市", 2025)
DOCUMENTS = (NATIONAL_24, NATIONAL_25, BEIJING, TIANJIN, GUANGDONG, SHANXI, TAIYUAN)
TARGETS_PARAGRAPH = 12


def figure(indicator, canonical, value, unit, kind="target", paragraph=TARGETS_PARAGRAPH):
    text = f"{indicator}{value:g}{unit}"
    section = "二" if kind == "target" else "一"  # the plan's part, the review's
    return Figure(indicator, canonical, value, None, unit, "", kind, text, paragraph, 0, 9, section)


FIGURES = {
    "bj": [
        figure("地区生产总值增长", "GDP增长", 5, "%"),
        figure("城镇新增就业", "城镇新增就业", 26, "万人"),
        figure("居民消费价格涨幅", "居民消费价格涨幅", 2, "%"),
        figure("一般公共预算收入增长", "一般公共预算收入增长", 5, "%"),
        figure("地区生产总值增长", "GDP增长", 5.4, "%", kind="result", paragraph=3),
    ],
    "tj": [figure("地区生产总值增长", "GDP增长", 4.5, "%")],
    "gd": [figure("城镇新增就业", "城镇新增就业", 110, "万人")],  # no growth target
    "sx": [figure("地区生产总值增长", "GDP增长", 5, "%")],
    "n24": [figure("居民消费价格涨幅", "居民消费价格涨幅", 0.2, "%", kind="result")],
    "n25": [figure("居民消费价格涨幅", "居民消费价格涨幅", 0.2, "%", kind="result")],
}


def cited(document: Document, paragraph: int = TARGETS_PARAGRAPH, section: str = "二") -> Citation:
    return Citation(
        1, "……", "……", document.source, document.title, document.year,
        document.region, section, paragraph, 1.0,
    )  # fmt: skip


def answered(question: str, text: str, document: Document, **citation) -> Answer:
    return Answer(question, text, True, (cited(document, **citation),), question, kind="figure")


def questions(found) -> list[tuple[str, str]]:
    return [(s.kind, s.question) for s in found]


@pytest.mark.parametrize(
    ("question", "report_year", "expect"),
    [
        ("北京今年GDP增速定在多少？", 2026, Asked("生产总值增速定在多少？", 0)),
        ("2024年全国居民消费价格实际上涨了多少？", 2025, Asked("居民消费价格实际上涨了多少？", -1)),
        ("安徽去年的经济总量有多大？", 2026, Asked("生产总值有多大？", -1)),
        ("2025年黑龙江全省城镇新增就业达到了多少人？", 2026,
         Asked("城镇新增就业达到了多少人？", -1)),
        ("国务院2025年政府工作报告把居民消费价格涨幅目标定为多少？", 2025,
         Asked("居民消费价格涨幅目标定为多少？", 0)),
        ("上海要新建多少公里绿道", 2026, Asked("要新建多少公里绿道？", None)),
        # a place the topic names stays: it is what is asked about, not whose report
        ("北京今年和天津协同发展有哪些打算", 2026, Asked("和天津协同发展有哪些打算？", 0)),
        ("山西今年打算给老楼加装电梯不？装多少部？", 2026,
         Asked("打算给老楼加装电梯不，装多少部？", 0)),
    ],
)  # fmt: skip
def test_the_asked_topic_is_the_question_without_its_place_and_year(question, report_year, expect):
    assert asked_topic(question, DOCUMENTS, report_year) == expect


def test_a_key_figure_suggests_another_region_that_states_it_and_its_neighbour():
    answer = answered("北京今年GDP增速定在多少？", "地区生产总值增长5%[1]", BEIJING)
    found = suggest(answer, DOCUMENTS, FIGURES, holds=lambda d: True)
    assert questions(found) == [
        # 天津 (a province-level city of the same year and part of the country) before 山西;
        # 广东 states no growth target: not suggested, whatever ``holds`` says
        ("region", "天津市2026年生产总值增速定在多少？"),
        ("figure", "北京市2026年城镇新增就业的目标是多少？"),
        ("region", "山西省2026年生产总值增速定在多少？"),
    ]
    assert found[0] == Suggestion("天津市2026年生产总值增速定在多少？", "region", "天津市", 2026)


def test_another_year_of_the_same_region_comes_first():
    answer = answered(
        "2024年全国居民消费价格实际上涨了多少？", "居民消费价格涨幅0.2%[1]", NATIONAL_25
    )
    found = suggest(answer, DOCUMENTS, FIGURES, holds=lambda d: True)
    # its year counted from the other report's as from the cited one's (去年 of each)
    assert questions(found)[0] == ("year", "全国2023年居民消费价格实际上涨了多少？")
    assert all(s.kind != "region" for s in found)  # no other region states that result


def test_a_topic_that_is_no_key_figure_is_suggested_where_a_report_holds_its_words():
    answer = answered(
        "北京今年要改造多少个老小区？", "改造老旧小区300个[1]", BEIJING, paragraph=40, section="四"
    )
    found = suggest(answer, DOCUMENTS, FIGURES, holds=lambda d: d.doc_id == "gd")
    assert questions(found) == [("region", "广东省2026年要改造多少个老旧小区？")]


@pytest.mark.parametrize(
    ("kind", "paragraph", "expect"),
    [
        # the cited passage is of the targets' section: its targets in report order
        ("target", TARGETS_PARAGRAPH, ["北京市2026年地区生产总值增长的目标是多少？",
                                       "北京市2026年城镇新增就业的目标是多少？"]),
        # the review's results: asked as what was reached, in the year reviewed
        ("result", 3, ["北京市2025年地区生产总值增长了多少？"]),
    ],
)  # fmt: skip
def test_neighbouring_figures_of_the_cited_section(kind, paragraph, expect):
    section = "二" if kind == "target" else "一"
    answer = Answer(
        "北京今年要建多少公里绿道？", "新建绿道200公里[1]", True,
        (cited(BEIJING, paragraph=paragraph, section=section),), "北京今年要建多少公里绿道？",
    )  # fmt: skip
    found = suggest(answer, DOCUMENTS, FIGURES, holds=lambda d: False, limit=5)
    figures = [s.question for s in found if s.kind == "figure"]
    assert figures[: len(expect)] == expect
    assert len(figures) == (4 if kind == "target" else 1)  # only the cited section's


def test_nothing_for_a_refusal_without_evidence_and_never_the_asked_question():
    refusal = Answer("澳门今年要建多少套公共房屋？", "索引中没有澳门的报告。", False)
    assert suggest(refusal, DOCUMENTS, FIGURES, holds=lambda d: True) == ()
    answer = answered("北京今年城镇新增就业的目标是多少？", "城镇新增就业26万人[1]", BEIJING)
    found = suggest(answer, DOCUMENTS, FIGURES, holds=lambda d: True)
    assert "北京市2026年城镇新增就业的目标是多少？" not in [s.question for s in found]
    assert len(found) == 3 and len({s.question for s in found}) == 3


def test_a_report_that_is_not_indexed_suggests_nothing():
    stranger = doc("xx", "江苏省", 2026)
    answer = answered("江苏今年GDP增速定在多少？", "地区生产总值增长5%[1]", stranger)
    assert suggest(answer, DOCUMENTS, FIGURES, holds=lambda d: True) == ()


# ---------------------------------------------------------------- over an index


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    from index import Settings, build_index
    from tests.conftest import CountingFakeEmbeddings

    folder = tmp_path_factory.mktemp("suggest-multi")
    for path in (DATA / "multi").iterdir():
        shutil.copy(path, folder / path.name)
    home = tmp_path_factory.mktemp("suggest-home")
    settings = Settings(
        home=home, cache_dir=Settings.from_env().cache_dir, embedding_cache=home / "cache"
    )
    embeddings = CountingFakeEmbeddings(size=64, calls=[])
    build_index([folder], settings=settings, embeddings=embeddings)
    return settings, embeddings


def test_follow_ups_over_an_index_are_answered(multi):
    from assistant import answer

    settings, embeddings = multi
    kw = dict(settings=settings, embeddings=embeddings, answer_model=lenient_answer_model())
    first = answer("北京今年城镇新增就业目标是多少", **kw)
    assert first.found
    found = follow_ups(first, settings=settings, embeddings=embeddings)
    assert {s.kind for s in found} >= {"region", "figure"}
    assert all(s.region != "北京市" for s in found if s.kind == "region")
    for s in found:
        asked = answer(s.question, **kw)
        assert asked.found, (s.question, asked.text)
        assert asked.citations[0].region == s.region


def test_the_json_api_answer_carries_its_suggestions(multi):
    import functools

    from fastapi.testclient import TestClient

    from assistant import answer, stream_answer
    from ui.api import create_api
    from ui.core import Core

    settings, embeddings = multi
    lenient = functools.partial(answer, answer_model=lenient_answer_model())
    with TestClient(create_api(Core(settings, lenient, stream_answer, embeddings))) as client:
        data = client.post("/api/ask", json={"question": "北京今年城镇新增就业目标是多少"}).json()
        refused = client.post("/api/ask", json={"question": "澳门今年要建多少套公共房屋"}).json()
    assert data["found"] and 1 <= len(data["suggestions"]) <= 3
    asked_again = [q for q in data["suggestions"] if "北京市2026年城镇新增就业" in q]
    assert all(q.endswith("？") for q in data["suggestions"]) and not asked_again
    assert not refused["citations"] and refused["suggestions"] == []


class _Keywords:
    """The keyword index of a few passages, one report each (as the retriever has it)."""

    def __init__(self, texts: list[str]) -> None:
        import types

        import numpy as np

        self.texts = texts
        self.codes = {f"d{i}": i for i in range(len(texts))}
        self.index = types.SimpleNamespace(doc_code=np.arange(len(texts)))
        self.bm25 = self

    def rows_with(self, term: str):
        import numpy as np

        return np.array([i for i, t in enumerate(self.texts) if term in t], dtype=np.int64)

    def passage(self, row: int):
        import types

        return types.SimpleNamespace(text=self.texts[row])


@pytest.mark.parametrize(
    ("text", "number", "says"),
    [
        ("今年新增养老床位2000张。", True, True),
        # the words in one sentence but another clause's figure: not the asked figure
        ("新增医疗卫生机构床位6639张，提升养老服务水平。", True, False),
        ("新增医疗卫生机构床位6639张，提升养老服务水平。", False, True),  # no figure asked
        ("推进养老床位建设。", True, False),  # no figure at all
        ("扩大养老服务。新增医院床位300张。", False, False),  # the words in two sentences
    ],
)
def test_a_report_says_a_topic_in_one_sentence(text, number, says):
    from assistant.suggest import _says

    keywords = _Keywords(["无关的段落。", text])
    report = doc("d1", "天津市", 2026)
    assert _says(keywords, report, ["养老", "床位"], number) is says
    assert not _says(keywords, doc("d0", "河北省", 2026), ["养老", "床位"], number)
