"""Loading a model directory: nothing in the directory decides that its own code runs."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from newsbrief.cli import main
from newsbrief.models.model_dir import CONFIG_FILE, load_model
from newsbrief.models.load_errors import UntrustedCodeError


@pytest.fixture
def code_bearing_model(tiny_model_dir, tmp_path):
    """The tiny model, with a Python file that its config.json maps to and its newsbrief.yaml allows:
    what a downloaded folder could hold. Importing the file leaves a marker file."""
    folder = tmp_path / "downloaded"
    shutil.copytree(tiny_model_dir, folder)
    marker = tmp_path / "code-ran"
    (folder / "planted.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    settings = yaml.safe_load((folder / CONFIG_FILE).read_text())
    settings["model"]["trust_remote_code"] = True
    (folder / CONFIG_FILE).write_text(yaml.safe_dump(settings))
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "planted.PlantedConfig", "AutoModelForSeq2SeqLM": "planted.PlantedModel"}
    (folder / "config.json").write_text(json.dumps(config))
    return folder, marker


def test_a_model_directory_cannot_allow_its_own_code(code_bearing_model):
    folder, marker = code_bearing_model
    with pytest.raises(UntrustedCodeError, match="pass --trust-remote-code") as refused:
        load_model(folder)
    assert str(folder / "config.json") in str(refused.value) and "\n" not in str(refused.value)
    assert not marker.exists()


def test_predict_refuses_a_code_bearing_model_in_one_line(code_bearing_model, tmp_path):
    folder, marker = code_bearing_model
    (tmp_path / "a.jsonl").write_text('{"id": "a", "text": "Acme said profit rose."}\n')
    with pytest.raises(SystemExit) as exited:
        main(["predict", "--model", str(folder), "--input", str(tmp_path / "a.jsonl"),
              "--output", str(tmp_path / "briefs.jsonl"), "--device", "cpu"])
    message = str(exited.value)
    assert exited.value.code == 6 and "--trust-remote-code" in message and "\n" not in message
    assert not marker.exists()


def test_a_trusted_caller_lets_the_code_run(code_bearing_model):
    folder, marker = code_bearing_model
    with pytest.raises(Exception):  # the planted file defines no classes: loading fails after importing it
        load_model(folder, trust_remote_code=True)
    assert marker.exists()
