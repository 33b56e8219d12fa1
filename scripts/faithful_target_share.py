"""The share of each source's training headlines that `data.summary_targets: faithful` keeps as targets,
whole or repaired (newsbrief/faithful_targets.py), under a config's tokenizer and window.

    python scripts/faithful_target_share.py [configs/default-model.yaml]
"""

from __future__ import annotations

import sys

from newsbrief.config import load_config
from newsbrief.data import read_split
from newsbrief.faithful_targets import faithful_targets, needs_offsets
from newsbrief.models.backbone import load_tokenizer
from newsbrief.models.guard_vocabulary import Vocabulary

BATCH = 256


def main(config_path: str = "configs/default-model.yaml") -> None:
    config = load_config(config_path)
    tokenizer = load_tokenizer(config.model)
    vocabulary = Vocabulary.of(tokenizer)
    for source in config.data.sources:
        rows = read_split(source, "train", config.data.max_source_length, config.data.split_seed)
        texts, summaries = rows["text"], [s or "" for s in rows["summary"]]
        kept = 0
        for start in range(0, len(texts), BATCH):
            batch, headlines = texts[start:start + BATCH], summaries[start:start + BATCH]
            encoded = tokenizer(batch, max_length=config.data.max_source_length, truncation=True,
                                return_offsets_mapping=needs_offsets(tokenizer))
            targets = faithful_targets(tokenizer, batch, encoded, headlines, config.data.max_target_length, vocabulary)
            kept += sum(bool(ids) for ids in targets)
        print(f"{source.display_name()}: {kept} of {len(texts)} training headlines kept ({100 * kept / len(texts):.1f}%)")


if __name__ == "__main__":
    main(*sys.argv[1:])
