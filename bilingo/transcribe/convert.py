"""CTranslate2 Whisper weights → an openai-whisper checkpoint, so both engines run the same weights.

The bundled models are CTranslate2 folders (`model.bin` + `config.json`) holding float16 tensors;
openai-whisper loads a torch file `{"dims": {...}, "model_state_dict": {...}}`. The conversion is
a renaming plus a split of CTranslate2's fused attention projections, with the values kept
bit for bit (float16 in, float16 out). It runs once per model: the checkpoint is written atomically
into the bilingo cache with a marker beside it, and reused while the marker matches.

`model.bin` (binary version 6): uint32 version; string spec name; uint32 revision; uint32 variable
count; per variable: string name, uint8 rank, uint32 × rank dims, uint8 dtype id, uint32 byte
count, raw little-endian bytes; then uint32 alias count and (alias, target) string pairs.
A string is a uint16 length (counting a trailing NUL) and the bytes with the NUL.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BilingoError, ExitCode
from ..fsutil import atomic_write_text
from .models import BUNDLED, ModelRef, cache_dir

CONVERTER_VERSION = 1  # bump when the checkpoint layout changes: old conversions are redone
_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, None)  # id 5 is bfloat16


class _Reader:
    def __init__(self, data: memoryview):
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> Any:
        value = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return value[0] if len(value) == 1 else value

    def string(self) -> str:
        n = self.take("H")
        text = bytes(self.data[self.pos : self.pos + n - 1]).decode("utf-8")
        self.pos += n
        return text

    def raw(self, n: int) -> memoryview:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def read_ct2(model_bin: Path) -> dict[str, np.ndarray]:
    """Every variable of a CTranslate2 `model.bin`, aliases included, as numpy arrays."""
    data = memoryview(model_bin.read_bytes())
    r = _Reader(data)
    version = r.take("I")
    if version != 6:
        raise BilingoError(f"{model_bin}: CTranslate2 binary version {version} is not supported (6 is)", ExitCode.TOOL_MISSING)
    spec = r.string()
    if spec != "WhisperSpec":
        raise BilingoError(f"{model_bin} holds a {spec}, not a Whisper model", ExitCode.BAD_INPUT)
    r.take("I")  # spec revision
    out: dict[str, np.ndarray] = {}
    for _ in range(r.take("I")):
        name = r.string()
        rank = r.take("B")
        shape = tuple(r.take("I") for _ in range(rank))
        dtype_id = r.take("B")
        nbytes = r.take("I")
        buf = r.raw(nbytes)
        dtype = _DTYPES[dtype_id] if dtype_id < len(_DTYPES) else None
        if dtype is None:
            raise BilingoError(f"{model_bin}: variable {name} has dtype id {dtype_id}, which bilingo cannot convert", ExitCode.TOOL_MISSING)
        out[name] = np.frombuffer(buf, dtype=dtype).reshape(shape).copy()
    for _ in range(r.take("I")):
        alias, target = r.string(), r.string()
        out[alias] = out[target]
    return out


def _count(var: dict[str, np.ndarray], prefix: str) -> int:
    n = 0
    while f"{prefix}/layer_{n}/ffn/linear_0/weight" in var:
        n += 1
    return n


def _scalar(var: dict[str, np.ndarray], name: str) -> int:
    return int(np.asarray(var[name]).reshape(()))


def to_openai(var: dict[str, np.ndarray]) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """(dims, state dict as numpy) in openai-whisper's naming, values unchanged."""
    if var["encoder/conv1/weight"].dtype != np.float16:
        # int8 weights come with scales; dequantising them would not be the same model
        raise BilingoError("only float16 CTranslate2 Whisper models can be converted for openai-whisper", ExitCode.TOOL_MISSING)
    sd: dict[str, np.ndarray] = {}

    def ln(dst: str, src: str) -> None:
        sd[f"{dst}.weight"], sd[f"{dst}.bias"] = var[f"{src}/gamma"], var[f"{src}/beta"]

    def linear(dst: str, src: str, bias: bool = True) -> None:
        sd[f"{dst}.weight"] = var[f"{src}/weight"]
        if bias:
            sd[f"{dst}.bias"] = var[f"{src}/bias"]

    def split(dst: str, src: str, names: tuple[str, ...]) -> None:
        """A fused projection → one linear per name; openai-whisper's key has no bias (the fused
        bias holds zeros there, which is checked so nothing is silently dropped)."""
        weights = np.split(var[f"{src}/weight"], len(names), axis=0)
        biases = np.split(var[f"{src}/bias"], len(names), axis=0)
        for name, w, b in zip(names, weights, biases):
            sd[f"{dst}.{name}.weight"] = w.copy()
            if name == "key":
                if np.any(b != 0):
                    raise BilingoError(f"{src}: non-zero key bias, which openai-whisper cannot hold", ExitCode.TOOL_MISSING)
            else:
                sd[f"{dst}.{name}.bias"] = b.copy()

    def self_attn(dst: str, src: str) -> None:
        split(f"{dst}.attn", f"{src}/self_attention/linear_0", ("query", "key", "value"))
        linear(f"{dst}.attn.out", f"{src}/self_attention/linear_1")
        ln(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")

    def mlp(dst: str, src: str) -> None:
        linear(f"{dst}.mlp.0", f"{src}/ffn/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/ffn/linear_1")
        ln(f"{dst}.mlp_ln", f"{src}/ffn/layer_norm")

    n_audio_layer, n_text_layer = _count(var, "encoder"), _count(var, "decoder")
    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    sd["encoder.positional_embedding"] = var["encoder/position_encodings/encodings"]
    for i in range(n_audio_layer):
        dst, src = f"encoder.blocks.{i}", f"encoder/layer_{i}"
        self_attn(dst, src)
        mlp(dst, src)
    ln("encoder.ln_post", "encoder/layer_norm")

    sd["decoder.token_embedding.weight"] = var["decoder/embeddings/weight"]
    sd["decoder.positional_embedding"] = var["decoder/position_encodings/encodings"]
    for i in range(n_text_layer):
        dst, src = f"decoder.blocks.{i}", f"decoder/layer_{i}"
        self_attn(dst, src)
        linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
        split(f"{dst}.cross_attn", f"{src}/attention/linear_1", ("key", "value"))
        linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
        ln(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        mlp(dst, src)
    ln("decoder.ln", "decoder/layer_norm")
    if "decoder/projection/weight" in var and not np.array_equal(var["decoder/projection/weight"], var["decoder/embeddings/weight"]):
        raise BilingoError("the decoder's output projection is not tied to its embeddings", ExitCode.TOOL_MISSING)

    conv1 = var["encoder/conv1/weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(var["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": _scalar(var, "encoder/num_heads"),
        "n_audio_layer": n_audio_layer,
        "n_vocab": int(var["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(var["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(var["decoder/embeddings/weight"].shape[1]),
        "n_text_head": _scalar(var, "decoder/num_heads"),
        "n_text_layer": n_text_layer,
    }
    return dims, sd


def alignment_heads(ref: ModelRef, dims: dict[str, int]) -> bytes | None:
    """The model's cross-attention heads that track time (from its config.json), in the base85
    gzip form `whisper.model.Whisper.set_alignment_heads` takes; None if the config has none."""
    try:
        heads = json.loads((Path(ref.path) / "config.json").read_text()).get("alignment_heads")
    except (OSError, ValueError, TypeError):
        return None
    if not heads:
        return None
    mask = np.zeros((dims["n_text_layer"], dims["n_text_head"]), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0))


def _stem(ref: ModelRef) -> str:
    if ref.name in BUNDLED:
        return ref.name
    return "folder-" + hashlib.sha256(str(ref.path).encode()).hexdigest()[:12]


def _marker(ref: ModelRef) -> dict[str, Any]:
    src = Path(ref.path) / "model.bin"
    st = src.stat()
    return {"converter": CONVERTER_VERSION, "source": str(src), "source_size": st.st_size, "source_mtime_ns": st.st_mtime_ns}


def checkpoint_path(ref: ModelRef) -> Path:
    """The openai-whisper checkpoint for `ref` in the bilingo cache, converted on first use."""
    if ref.path is None:
        raise BilingoError(f"model {ref.name} has no local weights to convert", ExitCode.TOOL_MISSING)
    folder = cache_dir() / "models"
    target = folder / f"openai-{_stem(ref)}.pt"
    marker_path = target.with_suffix(".json")
    want = _marker(ref)
    try:
        have = json.loads(marker_path.read_text())
        if have.get("checkpoint_size") == target.stat().st_size and {k: have.get(k) for k in want} == want:
            return target
    except (OSError, ValueError, AttributeError):
        pass
    convert(ref, target)
    atomic_write_text(marker_path, json.dumps({**want, "checkpoint_size": target.stat().st_size}, indent=1) + "\n")
    return target


def convert(ref: ModelRef, target: Path) -> None:
    """Write the openai-whisper checkpoint for `ref` to `target` atomically (temp file + rename)."""
    import torch

    dims, sd = to_openai(read_ct2(Path(ref.path) / "model.bin"))
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".bilingo-", suffix=".pt.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save({"dims": dims, "model_state_dict": state}, fh)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
