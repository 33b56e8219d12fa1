"""The model card's validation section, written by training and rewritten when thresholds are tuned again."""

from pathlib import Path

import pytest

from newsbrief.config import load_config
from newsbrief.labels import LabelSpace
from newsbrief.train.checkpointing import TrainerState
from newsbrief.train.model_card import model_card, validation_section, with_validation_section

from tests.conftest import ROOT

CONFIG = load_config(ROOT / "configs" / "tiny.yaml")
LABELS = LabelSpace(["business", "sport"], {"news": ["business", "sport"]})
MEASURED = {"loss": 3.5, "topic_micro_f1": 0.9}


def card(metrics: dict) -> str:
    """The card without its line of the time it was written, which two calls may not share."""
    written = model_card(Path("runs/tiny/model"), CONFIG, LABELS, TrainerState(), metrics, None)
    return "\n".join(line for line in written.splitlines() if not line.startswith("- finished:"))


@pytest.mark.parametrize("metrics", [{}, MEASURED])
def test_the_validation_section_is_replaced_and_the_rest_of_the_card_kept(metrics):
    assert with_validation_section(card({}), validation_section(CONFIG, metrics)) == card(metrics)
    assert with_validation_section(card(MEASURED), validation_section(CONFIG, metrics)) == card(metrics)


def test_a_card_without_its_sections_is_refused_not_cut():
    with pytest.raises(ValueError, match="no validation section"):
        with_validation_section(card(MEASURED).replace("## Full configuration", "## Configuration"),
                                validation_section(CONFIG, {}))
