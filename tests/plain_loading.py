"""Summary token ids of an exported model, through NewsBrief and through plain transformers/peft."""

from __future__ import annotations

import torch

from newsbrief.infer.engine import NewsBrief

TEXTS = ["Shares in the carmaker fell 9 percent on Tuesday after it warned that tariffs could cut its profit.",
         "The central bank raised its key interest rate by a quarter point to 5 percent.",
         "The home side won the cup final 2-1 after extra time."]


def _rows(sequences: torch.Tensor, pad: int) -> list[list[int]]:
    """Each row's tokens, without the padding after its end (the two loops pad to different lengths)."""
    rows = []
    for row in sequences.tolist():
        while row and row[-1] == pad:
            row.pop()
        rows.append(row)
    return rows


def newsbrief_tokens(engine: NewsBrief, texts: list[str] = TEXTS) -> tuple[dict, list[list[int]]]:
    """The inputs (truncated to the model's source length) and NewsBrief's summary tokens for them."""
    batch = engine.tokenizer(texts, truncation=True, max_length=engine.window.max_length,
                             padding=True, return_tensors="pt")
    sequences, _ = engine.model.brief(batch["input_ids"], batch["attention_mask"],
                                      **engine.generation.generate_kwargs())
    return batch, _rows(sequences, engine.tokenizer.pad_token_id)


def plain_tokens(seq2seq, batch: dict, pad: int, **generate_kwargs) -> list[list[int]]:
    with torch.no_grad():
        return _rows(seq2seq.eval().generate(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                                             **generate_kwargs), pad)
