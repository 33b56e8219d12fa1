"""How the model runs: the device and dtype that "auto" picks, and the optional speed-ups, dynamic int8
quantization on CPU and torch.compile."""

from __future__ import annotations

import warnings

import torch

from newsbrief.models.multitask import NewsBriefModel


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
          "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}
"""The dtype names `dtype=` takes besides "auto"."""


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bf16 instructions (AVX512-BF16 or AMX-BF16), not bf16 emulated in fp32."""
    # torch.cpu.get_capabilities is public and reads the flags through the cpuinfo library that torch's own
    # kernels dispatch on; torch.backends.cpu.get_cpu_capability says "AVX512" with or without bf16, and
    # mkldnn's bf16 check is private and also true on AVX-512 CPUs without it. Torch releases before
    # get_capabilities (pyproject allows torch 2.2) get fp32, as every CPU did before bf16 was measured.
    capabilities = getattr(torch.cpu, "get_capabilities", None)
    if capabilities is None:
        return False
    flags = capabilities()
    return bool(flags.get("avx512_bf16") or flags.get("amx_bf16"))


def resolve_dtype(dtype: str | torch.dtype, device: torch.device, int8: bool = False) -> torch.dtype:
    """auto: bf16 (or fp16) on GPUs. On a CPU with native bf16, bf16: on an AVX512-BF16 CPU it briefed 2.4x
    faster than fp32 (embedded model, 128 BBC test articles) and `newsbrief evaluate --dtype bf16
    --baseline-dtype fp32` found no figure significantly worse on the Reuters, BBC and AG News test splits.
    fp32 on other CPUs, where bf16 would be emulated (not measured), and under `int8`, whose quantized layers
    take fp32 inputs."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        native = device.type == "cpu" and not int8 and cpu_has_native_bf16()
        return torch.bfloat16 if native else torch.float32
    if dtype not in DTYPES:
        raise ValueError(f"dtype: {dtype!r} is not one of {['auto', *DTYPES]}")
    return DTYPES[dtype]


def quantize_int8(model: NewsBriefModel) -> NewsBriefModel:
    """Linear layers with int8 weights, activations quantized on the fly (CPU only).

    Speeds up CPU inference of matmul-bound models at a small cost in accuracy; measure both on
    your data before using it for a batch job.
    """
    if next(model.parameters()).device.type != "cpu":
        raise ValueError("int8 dynamic quantization runs on CPU only; use dtype=bf16 or fp16 on GPUs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch deprecates the quantized tensor API it uses
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


def compile_model(model: NewsBriefModel) -> NewsBriefModel:
    """Compile the encoder and the decoder in place; the first batches of each shape pay the compile time."""
    model.seq2seq.get_encoder().compile(dynamic=True)
    model.seq2seq.get_decoder().compile(dynamic=True)
    return model
