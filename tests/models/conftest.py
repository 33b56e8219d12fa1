"""The vocabularies the fact guard is tested on: WordPiece (uncased, the default backbone's), and small cased
byte-level BPE and SentencePiece ones trained here."""

import pytest

from newsbrief.config import ModelConfig
from newsbrief.models.backbone import load_tokenizer

from tests.models.guard_cases import trained


@pytest.fixture(scope="module", params=["wordpiece", "bpe", "sentencepiece"])
def tokenizer(request):
    return load_tokenizer(ModelConfig()) if request.param == "wordpiece" else trained(request.param)
