#!/usr/bin/env python3
"""Reference sentence embeddings for tests/reference.rs, computed without candle.

A plain numpy (float64) BERT forward pass over the same model files the Rust embedder
reads, followed by what sentence-transformers does for all-MiniLM-L6-v2 (modules.json:
Transformer -> Pooling(mean) -> Normalize):

  tokens    tokenizer.json via the `tokenizers` package, truncated to 256 word pieces
            (sentence_bert_config.json max_seq_length), no padding
  forward   embeddings (word + position + token type, LayerNorm) and 6 encoder layers
            (12-head self-attention, GELU (erf) feed-forward, post-LayerNorm, eps 1e-12)
  pooling   mean of the last hidden states over the attention mask
  normalise L2 to unit length

Usage (the model directory as printed by scripts/fetch-embedding-model.sh):

  python3 -m venv /tmp/ref-venv
  /tmp/ref-venv/bin/pip install numpy safetensors tokenizers
  /tmp/ref-venv/bin/python crates/querent-embed/tests/reference.py MODEL_DIR \
      "How many singers do we have?"

prints the 384 floats as a Rust array literal (paste into REFERENCE in reference.rs).
With `--json` it prints one JSON list per sentence instead.
"""

import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MAX_TOKENS = 256

_erf = np.frompyfunc(math.erf, 1, 1)


def model_dir(path):
    if os.path.exists(os.path.join(path, "model.safetensors")):
        return path
    return os.path.join(path, "model")


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def linear(x, w, b):
    # torch's Linear stores weight as (out, in).
    return x @ w.T + b


def embed(directory, sentence):
    cfg = json.load(open(os.path.join(directory, "config.json")))
    w = {k: v.astype(np.float64) for k, v in load_file(os.path.join(directory, "model.safetensors")).items()}
    tok = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_TOKENS)
    enc = tok.encode(sentence)
    ids = np.array(enc.ids)
    types = np.array(enc.type_ids)
    mask = np.array(enc.attention_mask, dtype=np.float64)
    n = len(ids)

    eps = cfg["layer_norm_eps"]
    heads = cfg["num_attention_heads"]
    hidden = cfg["hidden_size"]
    hd = hidden // heads

    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][np.arange(n)]
        + w["embeddings.token_type_embeddings.weight"][types]
    )
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)

    # Additive mask (all ones for one unpadded sentence, kept for clarity).
    bias = (1.0 - mask)[None, None, :] * -1e30
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q = linear(x, w[p + "attention.self.query.weight"], w[p + "attention.self.query.bias"])
        k = linear(x, w[p + "attention.self.key.weight"], w[p + "attention.self.key.bias"])
        v = linear(x, w[p + "attention.self.value.weight"], w[p + "attention.self.value.bias"])
        q = q.reshape(n, heads, hd).transpose(1, 0, 2)
        k = k.reshape(n, heads, hd).transpose(1, 0, 2)
        v = v.reshape(n, heads, hd).transpose(1, 0, 2)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(hd) + bias
        scores = scores - scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs = probs / probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(1, 0, 2).reshape(n, hidden)
        attn = linear(ctx, w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"])
        x = layer_norm(attn + x, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
        inter = gelu(linear(x, w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"]))
        out = linear(inter, w[p + "output.dense.weight"], w[p + "output.dense.bias"])
        x = layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)

    pooled = (x * mask[:, None]).sum(0) / max(mask.sum(), 1e-9)
    return pooled / np.linalg.norm(pooled), enc.tokens


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) < 2:
        sys.exit(__doc__)
    directory = model_dir(args[0])
    for sentence in args[1:]:
        vec, tokens = embed(directory, sentence)
        if "--json" in sys.argv:
            print(json.dumps([float(f"{v:.8f}") for v in vec]))
            continue
        print(f"// {sentence!r}: {len(tokens)} tokens {tokens}")
        print(f"const REFERENCE: [f32; {len(vec)}] = [")
        # Shortest decimal that reads back as the same f32 (what clippy accepts as an f32
        # literal).
        f32 = [np.format_float_positional(np.float32(v), unique=True, trim="0") for v in vec]
        for i in range(0, len(f32), 6):
            print("    " + " ".join(f"{v}," for v in f32[i : i + 6]))
        print("];")


if __name__ == "__main__":
    main()
