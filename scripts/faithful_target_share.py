"""The share of each source's training headlines that `data.summary_targets: faithful` keeps as targets,
whole or repaired (newsbrief/faithful_targets.py), under a config's tokenizer and window.

    python scripts/faithful_target_share.py [configs/default-model.yaml]
"""

from __future__ import annotations

import sys

from newsbrief.config import load_config
from newsbrief.data import read_split
from newsbrief.faithful_targets import faithful_targets_of_texts
from newsbrief.models.backbone import load_tokenizer


def main(config_path: str = "configs/default-model.yaml") -> None:
    config = load_config(config_path)
    tokenizer = load_tokenizer(config.model)
    for source in config.data.sources:
        rows = read_split(source, "train", config.data.max_source_length, config.data.split_seed)
        texts, summaries = rows["text"], [s or "" for s in rows["summary"]]
        targets = faithful_targets_of_texts(tokenizer, texts, summaries, config.data)
        kept = sum(bool(ids) for ids in targets)
        print(f"{source.display_name()}: {kept} of {len(texts)} training headlines kept "
              f"({100 * kept / len(texts):.1f}%)")


if __name__ == "__main__":
    main(*sys.argv[1:])
