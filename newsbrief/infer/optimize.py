"""Optional speed-ups for inference: dynamic int8 quantization on CPU, and torch.compile."""

from __future__ import annotations

import warnings

import torch

from newsbrief.models.multitask import NewsBriefModel


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
