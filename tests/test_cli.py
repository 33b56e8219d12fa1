"""The command line: `newsbrief evaluate` prints a JSON report, `newsbrief train` names a bad key."""

import json

import pytest

from newsbrief.cli import main

from tests.conftest import ROOT, TINY_CONFIG


def test_evaluate_reports_rouge_topics_and_the_first_words_baseline(tiny_model_dir, capsys, tmp_path):
    out = tmp_path / "report.json"
    main(["evaluate", "--model", str(tiny_model_dir), "--data", str(ROOT / "tests/fixtures/tiny_wire.jsonl"),
          "--split", "test", "--out", str(out)])
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads(out.read_text())
    assert report["examples"] == 5
    assert {"rouge1", "rouge2", "rougeL", "rougeLsum", "topic_micro_f1", "topic_macro_f1"} <= report.keys()
    assert set(report["topic_per_label"]) == {"acq", "crude", "earn", "energy"}  # only this corpus' labels
    assert report["baseline_first_words"]["words"] == 10 and 0 < report["baseline_first_words"]["rouge1"] <= 1


def test_train_with_a_misspelt_override_exits_naming_the_key(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", str(TINY_CONFIG), "train.lerning_rate=0.1"])
    assert "train.lerning_rate: unknown key" in str(exit_info.value)
