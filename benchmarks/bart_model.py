"""A seeded random BART (bart-base shape by default) with the MiniLM vocabulary, as a plain Hugging Face
folder and as a NewsBrief model directory: the model the inference speed benchmarks share.

There is no pretrained BART offline; speed does not depend on the weights, and random weights force
equal work on every engine when min = max new tokens.
"""

from __future__ import annotations

from pathlib import Path


def build_bart(tokenizer, folder: Path, d_model: int, layers: int, new_tokens: int, max_length: int, seed: int) -> None:
    """A seeded random BART with the MiniLM vocabulary, saved as safetensors + tokenizer."""
    import torch
    from transformers import BartConfig, BartForConditionalGeneration

    from newsbrief.config import GenerationSettings
    from newsbrief.models.backbone import apply_generation_settings

    # CTranslate2's BART converter reads bos/eos from the tokenizer; BERT's has neither, so name them.
    tokenizer.bos_token, tokenizer.eos_token = tokenizer.cls_token, tokenizer.sep_token
    special = {"pad_token_id": tokenizer.pad_token_id, "bos_token_id": tokenizer.cls_token_id,
               "eos_token_id": tokenizer.sep_token_id, "decoder_start_token_id": tokenizer.cls_token_id,
               # BartConfig forces eos at the last position by default; CTranslate2 does not.
               "forced_bos_token_id": None, "forced_eos_token_id": None}
    heads = d_model // 64
    config = BartConfig(vocab_size=len(tokenizer), d_model=d_model, encoder_layers=layers,
                        decoder_layers=layers, encoder_attention_heads=heads, decoder_attention_heads=heads,
                        encoder_ffn_dim=4 * d_model, decoder_ffn_dim=4 * d_model,
                        max_position_embeddings=max(1024, max_length + new_tokens + 2),
                        scale_embedding=False,
                        # As bart-base's config.json has them (post-norm, layernorm on embeddings);
                        # transformers 5's BartConfig dropped them, CTranslate2's converter reads them.
                        normalize_before=False, normalize_embedding=True, **special)
    torch.manual_seed(seed)
    model = BartForConditionalGeneration(config).eval()
    for name, value in special.items():
        setattr(model.generation_config, name, value)
    apply_generation_settings(model, GenerationSettings(num_beams=1, max_new_tokens=new_tokens,
                                                      min_new_tokens=new_tokens, no_repeat_ngram_size=0))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: random BART (seed {seed}), d_model {d_model}, {layers}+{layers} layers, "
          f"{heads} heads, FFN {4 * d_model}, vocab {len(tokenizer)}, {params / 1e6:.1f}M parameters")


def make_newsbrief_dir(bart_dir: Path, folder: Path, new_tokens: int, batch_size: int, max_length: int,
                       seed: int) -> None:
    """Wrap the saved BART as a NewsBrief model directory, the way the package builds and saves one."""
    import torch

    from newsbrief.config import GenerationSettings, InferenceConfig, ModelConfig, RunConfig
    from newsbrief.labels import LabelSpace
    from newsbrief.models.backbone import build_seq2seq, load_tokenizer
    from newsbrief.models.model_dir import save_model
    from newsbrief.models.multitask import NewsBriefModel

    config = RunConfig(model=ModelConfig(backbone=str(bart_dir)),
                       generation=GenerationSettings(num_beams=1, max_new_tokens=new_tokens,
                                                   min_new_tokens=new_tokens, no_repeat_ngram_size=0),
                       inference=InferenceConfig(batch_size=batch_size,
                                                 max_batch_tokens=batch_size * max_length))
    config.data.max_source_length = max_length
    tokenizer = load_tokenizer(config.model)
    seq2seq = build_seq2seq(config.model, tokenizer)
    labels = LabelSpace(["business", "entertainment", "politics", "sport", "tech"], {})  # BBC's five topics
    torch.manual_seed(seed)
    save_model(NewsBriefModel(seq2seq, len(labels.names)), tokenizer, labels, None, config, folder)
