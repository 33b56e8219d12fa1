"""A seeded random BART (bart-base shape by default) with a given tokenizer (MiniLM's WordPiece, or a
byte-level BPE), as a plain Hugging Face folder and as a NewsBrief model directory: the model the
inference speed benchmarks share.

There is no pretrained BART offline; speed does not depend on the weights, and random weights force
equal work on every engine when min = max new tokens.
"""

from __future__ import annotations

from pathlib import Path


def build_bart(tokenizer, folder: Path, d_model: int, layers: int, new_tokens: int, max_length: int, seed: int,
               vocab_size: int | None = None, min_new_tokens: int | None = None, varied_output: bool = False) -> None:
    """A seeded random BART with the tokenizer's vocabulary, saved as safetensors + tokenizer: `vocab_size`
    (default: the tokenizer's) widens its output layer, the ids past the tokenizer's never chosen;
    `min_new_tokens` defaults to `new_tokens` (every row the same length). A random BART whose output
    layer is its embedding repeats the token it was just given, from the start token on: `varied_output`
    gives it an output layer of its own and never a special token but the end, so that its text varies."""
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
    config = BartConfig(vocab_size=max(vocab_size or 0, len(tokenizer)), d_model=d_model, encoder_layers=layers,
                        decoder_layers=layers, encoder_attention_heads=heads, decoder_attention_heads=heads,
                        encoder_ffn_dim=4 * d_model, decoder_ffn_dim=4 * d_model,
                        max_position_embeddings=max(1024, max_length + new_tokens + 2),
                        scale_embedding=False,
                        # As bart-base's config.json has them (post-norm, layernorm on embeddings);
                        # transformers 5's BartConfig dropped them, CTranslate2's converter reads them.
                        normalize_before=False, normalize_embedding=True, tie_word_embeddings=not varied_output,
                        **special)
    torch.manual_seed(seed)
    model = BartForConditionalGeneration(config).eval()
    model.final_logits_bias[:, len(tokenizer):] = NEVER
    if varied_output:
        model.final_logits_bias[:, [i for i in tokenizer.all_special_ids if i != tokenizer.eos_token_id]] = NEVER
    for name, value in special.items():
        setattr(model.generation_config, name, value)
    apply_generation_settings(model, GenerationSettings(
        num_beams=1, max_new_tokens=new_tokens, no_repeat_ngram_size=0,
        min_new_tokens=new_tokens if min_new_tokens is None else min_new_tokens))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: random BART (seed {seed}), d_model {d_model}, {layers}+{layers} layers, "
          f"{heads} heads, FFN {4 * d_model}, vocab {config.vocab_size} (tokenizer {len(tokenizer)}), "
          f"{params / 1e6:.1f}M parameters")


def end_rows_early(folder: Path, texts: list[str], mean_tokens: float, max_length: int, device: str) -> None:
    """Raise the end-of-summary logit of the saved BART so that greedy summaries of `texts` are
    `mean_tokens` long on average, rows of a batch ending at different steps as real summaries do (a
    random model never ends by itself). Greedy choices before a row's end do not change (only the end
    token's logit moves), so the lengths found here are the ones decoding gives these texts."""
    import torch
    from transformers import AutoTokenizer, BartForConditionalGeneration

    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = BartForConditionalGeneration.from_pretrained(folder).to(device).eval()
    settings = model.generation_config
    inputs = tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt").to(device)
    with torch.no_grad():
        out = model.generate(**inputs, min_new_tokens=settings.max_new_tokens, do_sample=False, num_beams=1,
                             output_logits=True, return_dict_in_generate=True)
    logits = torch.stack(out.logits).float()[settings.min_new_tokens:]  # steps where a row may end
    others = logits.clone()
    others[..., settings.eos_token_id] = float("-inf")
    margins = (others.amax(-1) - logits[..., settings.eos_token_id]).cpu()  # steps x rows

    def mean_length(bias: float) -> float:
        ends = margins < bias
        first = torch.where(ends.any(0), ends.float().argmax(0), torch.tensor(len(margins)))
        return settings.min_new_tokens + first.float().mean().item()

    low, high = margins.min().item(), margins.max().item() + 1
    for _ in range(40):  # bisection: the mean length falls as the bias grows
        middle = (low + high) / 2
        low, high = (middle, high) if mean_length(middle) > mean_tokens else (low, middle)
    model.final_logits_bias[0, settings.eos_token_id] += high
    model.save_pretrained(folder)


def tiny_model(folder: Path) -> Path:
    """A tiny random BART (d_model 64, 1+1 layers, MiniLM's WordPiece, 32 new tokens) as a NewsBrief model
    directory in `folder`: the model's share of a job at its smallest, and a smoke test's model."""
    from transformers import AutoTokenizer

    from newsbrief.infer.loading import DEFAULT_MODEL

    build_bart(AutoTokenizer.from_pretrained(DEFAULT_MODEL), folder / "bart", d_model=64, layers=1, new_tokens=32,
               max_length=512, seed=0)
    make_newsbrief_dir(folder / "bart", folder / "tiny", new_tokens=32, batch_size=32, max_length=512, seed=0)
    return folder / "tiny"


NEVER = -1e4
"""The output-layer bias of ids no text can hold: large enough for bf16, never chosen."""


def make_newsbrief_dir(bart_dir: Path, folder: Path, new_tokens: int, batch_size: int, max_length: int,
                       seed: int, min_new_tokens: int | None = None) -> None:
    """Wrap the saved BART as a NewsBrief model directory, the way the package builds and saves one
    (`min_new_tokens` as in build_bart)."""
    import torch

    from newsbrief.config import GenerationSettings, InferenceConfig, ModelConfig, RunConfig
    from newsbrief.labels import LabelSpace
    from newsbrief.models.backbone import build_seq2seq, load_tokenizer
    from newsbrief.models.model_dir import save_model
    from newsbrief.models.multitask import NewsBriefModel

    config = RunConfig(model=ModelConfig(backbone=str(bart_dir)),
                       generation=GenerationSettings(
                           num_beams=1, max_new_tokens=new_tokens, no_repeat_ngram_size=0,
                           min_new_tokens=new_tokens if min_new_tokens is None else min_new_tokens),
                       inference=InferenceConfig(batch_size=batch_size,
                                                 max_batch_tokens=batch_size * max_length))
    config.data.max_source_length = max_length
    tokenizer = load_tokenizer(config.model)
    seq2seq = build_seq2seq(config.model, tokenizer)
    labels = LabelSpace(["business", "entertainment", "politics", "sport", "tech"], {})  # BBC's five topics
    torch.manual_seed(seed)
    save_model(NewsBriefModel(seq2seq, len(labels.names)), tokenizer, labels, None, config, folder)
