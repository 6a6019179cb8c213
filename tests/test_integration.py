"""The real offline model over the bundled sample: answers, refusals, CLI, evaluation."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assistant import answer
from assistant.evaluate import run_eval
from tests.conftest import DATA
from ui.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def held_out(sample_settings, real_embeddings):
    return run_eval(
        DATA / "taiyuan_questions.jsonl", settings=sample_settings, embeddings=real_embeddings
    )


def test_held_out_questions_cite_their_evidence_in_short_answers(held_out):
    assert held_out["evidence_in_citations"] >= 0.9, held_out["misses"]
    assert held_out["median_answer_chars"] <= 40


@pytest.mark.xfail(
    strict=True,
    reason="known regression (issue 7): since the fitted model judges meaning, two of the "
    "eight report-worded unanswerable questions (城镇化率, 空气优良天数比例) get another target",
)
def test_held_out_questions_are_answered_or_refused_rightly(held_out):
    assert held_out["accuracy"] >= 0.9, held_out["misses"]
    assert held_out["refusal_rate_unanswerable"] == 1.0


@pytest.mark.parametrize(
    ("question", "expect"),
    [("今年新增多少养老床位", "2000张"), ("六条优势赛道是哪些", "低空经济")],
)
def test_cited_quote_backs_the_answer(sample_settings, real_embeddings, question, expect):
    a = answer(question, settings=sample_settings, embeddings=real_embeddings)
    assert a.found and expect in a.text
    first = a.citations[0]
    assert expect in first.quote and first.quote in first.text
    assert first.title == "2025年太原市政府工作报告" and first.section.startswith("二、")


def test_cli_ask_json(sample_settings, monkeypatch, capsys):
    monkeypatch.setenv("REPORTQA_HOME", str(sample_settings.home))
    assert main(["ask", "城镇新增就业目标是多少", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["found"] and "8万人" in data["text"]
    assert data["citations"][0]["quote"] in data["citations"][0]["text"]


def test_cli_index_list_and_unchanged_build(sample_settings, monkeypatch, capsys):
    monkeypatch.setenv("REPORTQA_HOME", str(sample_settings.home))
    assert main(["index", "build", "--sample", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["unchanged"]) == 1 and not data["added"] and data["chunks"] > 0
    assert main(["index", "list", "--json"]) == 0
    (doc,) = json.loads(capsys.readouterr().out)
    assert (doc["region"], doc["year"]) == ("太原市", 2025)


def test_cli_errors_are_messages_not_tracebacks(monkeypatch, capsys):
    assert main(["ask", "   "]) == 2
    err = capsys.readouterr().err
    assert "empty" in err and "Traceback" not in err
    assert main(["ask", "今年新增多少养老床位"]) == 2
    assert "no reports" in capsys.readouterr().err


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from ui.cli import main; main(['--help']); main(['ask', '--help']);"
        "heavy = {'torch', 'sentence_transformers', 'gradio', 'chromadb'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"  # after the help texts


def test_every_number_in_an_answer_is_in_a_cited_quote(sample_settings, real_embeddings):
    import re

    questions = [json.loads(line)["question"] for line in (DATA / "taiyuan_questions.jsonl").open()]
    questions += ["今年新增多少养老床位", "地区生产总值增长多少", "新建多少亩高标准农田"]
    for question in questions:
        a = answer(question, settings=sample_settings, embeddings=real_embeddings)
        if not a.found:  # a refusal only echoes the question's own words
            continue
        quotes = "".join(c.quote for c in a.citations)
        for number in re.findall(r"\d+(?:\.\d+)?", re.sub(r"\[\d+\]", "", a.text)):
            assert number in quotes, (question, a.text)


@pytest.mark.parametrize(
    ("question", "expect"),
    [
        ("养老床位今年增加几张", "2000张"),  # other verb, other question word
        ("今年養老床位新增多少張", "2000张"),  # traditional characters
        ("请问一下，根据报告，今年城镇新增就业的目标是多少呀？", "8万人"),  # wrappers, fillers
        ("太原今年高标准农田要弄多少亩啊", "3.6万亩"),  # spoken
        ("检验检测结果能不能互认", "检验检测机构互认"),  # whether, answered by its clause
        # the sentence's first clause counts 项目; the clause naming 学位 is the answer
        ("万柏林一中这批改扩建项目建好了能多出多少学位", "2.4万个"),
    ],
)
def test_everyday_wording_is_answered(sample_settings, real_embeddings, question, expect):
    a = answer(question, settings=sample_settings, embeddings=real_embeddings)
    assert a.found and expect in a.text, a.text
    # one report is indexed: none can be "another report that also answers"
    assert not a.more_reports and "另有" not in a.text, a.text


def test_eval_reads_dialog_files(sample_settings, real_embeddings):
    report = run_eval(
        DATA / "taiyuan_dialogs.jsonl", settings=sample_settings, embeddings=real_embeddings
    )
    assert report["questions"] == 4
    assert report["by_kind"]["follow-up"]["accuracy"] == 1.0, report["misses"]


def test_a_neighbours_figure_is_shown_as_related_not_as_the_answer(
    sample_settings, real_embeddings
):
    a = answer("今年新增多少张医疗床位", settings=sample_settings, embeddings=real_embeddings)
    assert not a.found and a.kind == "near_miss"
    assert "医疗床位" in a.text and "2000张" in a.text
    assert "2000张" in a.citations[0].quote


def test_near_miss_with_a_word_the_index_lacks_is_refused(sample_settings, real_embeddings):
    # 高中 is in no passage of the sample report: 公办幼儿园's figure is another thing's
    q = "今年新建多少所公办高中"
    a = answer(q, settings=sample_settings, embeddings=real_embeddings)
    assert not a.found and a.kind == "near_miss" and "10所" in a.text, a.text


def test_an_open_question_gets_an_overview_in_report_order(sample_settings, real_embeddings):
    a = answer("今年在养老方面有什么打算", settings=sample_settings, embeddings=real_embeddings)
    assert a.found and a.kind == "overview"
    assert a.text.count("\n") >= 3 and "养老床位2000张" in a.text
    paragraphs = [c.paragraph for c in a.citations]
    assert paragraphs == sorted(paragraphs) and len(paragraphs) >= 2


def test_the_index_says_which_words_a_report_uses(sample_settings, real_embeddings):
    from assistant.retrieval import get_retriever

    retriever = get_retriever(sample_settings, real_embeddings)
    (doc,) = retriever.documents
    assert retriever.holds("养老") and retriever.holds("养老", {doc})
    assert not retriever.holds("养老", {"another-report"})
    assert not retriever.holds("游泳馆")  # the sample report builds 足球场, no 游泳馆


def test_a_figure_of_a_thing_the_report_never_names_is_no_answer(sample_settings, real_embeddings):
    # 外资 is in no passage: 高新技术企业680家 is another kind of enterprise
    a = answer("今年要引进多少家外资企业", settings=sample_settings, embeddings=real_embeddings)
    assert not a.found and a.kind == "near_miss", a.text
    assert "“外资企业”的数字" in a.text and "680家" in a.text


def test_an_overview_in_the_askers_words_is_the_section_the_report_titles_otherwise(
    sample_settings, real_embeddings
):
    # no sentence says 看病 or 就医: the section "推进‘病有良医’" is about them
    a = answer("看病就医这块准备怎么弄", settings=sample_settings, embeddings=real_embeddings)
    assert a.found and a.kind == "overview", a.text
    assert {c.section.split(" > ")[-1] for c in a.citations} == {"推进“病有良医”"}


def test_an_open_question_on_what_the_report_never_names_is_refused_by_its_topic(
    sample_settings, real_embeddings
):
    a = answer("航天方面有什么打算", settings=sample_settings, embeddings=real_embeddings)
    assert not a.found and "“航天”" in a.text, a.text


@pytest.mark.parametrize(
    "question",
    [
        "今年要新建几个社区微型消防站",  # the report renews 100 of them: another action
        "社区嵌入式托育点今年建几个",  # the closest clause names no figure of its own
    ],
)
def test_no_figure_of_the_thing_asked_is_no_answer(sample_settings, real_embeddings, question):
    a = answer(question, settings=sample_settings, embeddings=real_embeddings)
    assert not a.found and a.kind == "near_miss", a.text


def test_a_refused_figure_question_names_the_thing_asked(sample_settings, real_embeddings):
    a = answer("火星基地今年要建设几座", settings=sample_settings, embeddings=real_embeddings)
    assert not a.found and "“火星基地”" in a.text and not a.citations, a.text


def test_an_overview_key_is_no_part_of_a_longer_topic_word(sample_settings, real_embeddings):
    # 环境 of 生态环境 is also in 营商环境: the section on 生态治理 answers, not the business one
    a = answer("生态环境方面有哪些打算", settings=sample_settings, embeddings=real_embeddings)
    assert a.found and a.kind == "overview", a.text
    assert "营商环境" not in a.text
    # that section first, and the measures beside it in its task (三大保卫战, 绿色转型)
    sections = {c.section.split(" > ")[-1] for c in a.citations}
    assert "用实招强化生态治理" in sections
    assert all("治山、治水、治气、治城" in c.section for c in a.citations), sections


def test_an_open_question_naming_no_topic_lists_the_main_tasks(sample_settings, real_embeddings):
    a = answer("今年主要抓哪些工作", settings=sample_settings, embeddings=real_embeddings)
    assert a.found and a.kind == "overview" and "的主要任务" in a.text, a.text
    lines = a.text.splitlines()[1:]
    assert len(lines) == 8  # the eight sections of the plan, not the government's own tasks
    assert lines[0].startswith("1. 加快向新而行") and "更好统筹发展和安全" in lines[-1]


def test_a_district_the_city_report_gives_no_figure_for_gets_the_citys_as_related(
    sample_settings, real_embeddings
):
    # 迎泽区 is a district of 太原市; the city's report gives the city's beds only
    a = answer("迎泽区今年新增多少养老床位", settings=sample_settings, embeddings=real_embeddings)
    assert not a.found and a.kind == "near_miss", a.text
    assert a.text.startswith("报告没有给出迎泽区单独的“养老床位”数字"), a.text
    assert "2000张" in a.citations[0].quote
