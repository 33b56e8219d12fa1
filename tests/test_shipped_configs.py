"""The shipped recipes without the real corpora: each config validates and reads its data with every source
pointed at a small stand-in file of the real files' schema, and the shipped model's saved config is the
recipe in configs/default-model.yaml. CI has no ../shared/data, so this is what catches a broken recipe there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from newsbrief.config import load_config, to_dict
from newsbrief.data import read_corpora
from newsbrief.labels import LabelSpace
from newsbrief.infer.loading import DEFAULT_MODEL
from tests.conftest import ROOT

REAL_DATA_CONFIGS = [p for p in sorted((ROOT / "configs").glob("*.yaml")) if "shared/data" in p.read_text()]
COLUMNS = ["id", "source", "split", "summary", "text", "title", "topics"]
"""The columns of every file in ../shared/data (checked against them when they are present)."""
SPLITS = ("train", "validation", "test")


def stand_in_overrides(config_path: Path, folder: Path) -> list[str]:
    """Overrides that point each data source of `config_path` at a stand-in file written into `folder`:
    two rows per split in the real files' columns, their topics the labels the source's label_map names
    (so a `section` must be a label that another source's map produces, as AG News' Business -> business)."""
    sources = yaml.safe_load(config_path.read_text())["data"]["sources"]
    overrides = []
    for i, source in enumerate(sources):
        path = folder / Path(source["path"]).name
        topics = sorted(source.get("label_map", {}))
        rows = [{"id": f"{path.stem}-{split}-{n}", "source": path.stem, "split": split, "summary": None,
                 "text": f"Stand-in article {n} of the {split} split. Its second sentence, for gap sentences.",
                 "title": f"Stand-in {n}", "topics": topics}
                for split in SPLITS for n in range(2)]
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        overrides.append(f"data.sources.{i}.path={path}")
    return overrides


def test_the_real_data_configs_are_found():
    assert {p.name for p in REAL_DATA_CONFIGS} >= {"default-model.yaml", "minilm-news.yaml", "bart-base-news.yaml"}


@pytest.mark.parametrize("path", REAL_DATA_CONFIGS, ids=lambda p: p.name)
def test_shipped_config_validates_and_reads_stand_in_data(path, tmp_path):
    config = load_config(path, stand_in_overrides(path, tmp_path))
    corpora = read_corpora(config.data)
    names = [s.display_name() for s in config.data.sources]
    for split in ("train", "validation"):
        assert sorted(corpora[split]) == sorted(names) and all(len(d) == 2 for d in corpora[split].values())
    # The label space as training builds it: a source's `section` must be a label of another source. A
    # pretraining config (every source without topics) has none.
    labels = LabelSpace.from_training_data(corpora["train"], config.data.sources, min_count=1)
    assert bool(labels.names) == any(s.topics_column for s in config.data.sources)


def test_the_shipped_model_was_trained_by_its_recipe(tmp_path):
    recipe = ROOT / "configs" / "default-model.yaml"
    overrides = stand_in_overrides(recipe, tmp_path)
    shipped = to_dict(load_config(DEFAULT_MODEL / "newsbrief.yaml", overrides))
    expected = to_dict(load_config(recipe, overrides))
    for key in ("output_dir", "resume_accepts"):  # where it was written and which changes a rerun accepted, not how
        shipped["train"].pop(key), expected["train"].pop(key)
    assert shipped == expected


def test_the_stand_ins_have_the_real_files_columns(shared_data):
    for path in sorted(shared_data.glob("*.jsonl")):
        with path.open() as lines:
            assert sorted(json.loads(next(lines))) == COLUMNS, path.name
