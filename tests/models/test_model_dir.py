"""Loading a model directory: nothing in the directory decides that its own code runs, and a newsbrief.yaml
that does not read is one line naming it."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from newsbrief.cli import main
from newsbrief.infer.engine import NewsBrief
from newsbrief.models.model_dir import CONFIG_FILE, load_model
from newsbrief.models.load_errors import ModelLoadError, UntrustedCodeError


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


def _changed(key: str, value):
    """A spoiler that sets a dotted key (a section, or section.field) of the YAML text to `value`."""
    def change(text: str) -> str:
        settings = node = yaml.safe_load(text)
        *sections, last = key.split(".")
        for section in sections:
            node = node[section]
        node[last] = value
        return yaml.safe_dump(settings, sort_keys=False)
    return change


MALFORMED_CONFIGS = {  # how newsbrief.yaml is spoilt, and what the error must say beside the file's name
    "a YAML syntax error": (lambda text: text.replace("model:\n", "model:\n backbone: x\n", 1),
                            "line 3, column 11: mapping values are not allowed here"),
    "a key given twice": (lambda text: text + "model: {}\n", "key 'model' is given twice"),
    "not UTF-8": (lambda text: text.replace("model:", "mod\xe9l:", 1).encode("latin-1"), "not UTF-8"),
    "a list, not a mapping": (lambda text: "- model\n- data\n", "expected a mapping, got list"),
    "an empty file": (lambda text: "", "expected a mapping, got NoneType"),
    "an unknown key": (_changed("model.lerning_rate", 0.1), "model.lerning_rate: unknown key"),
    "a section that is a value": (_changed("inference", 5), "inference: expected a mapping, got int"),
    "a wrong type": (_changed("generation.num_beams", "four"), "generation.num_beams: expected int"),
    "a choice that is not one": (_changed("inference.long_articles", "fold"),
                                 "inference.long_articles: 'fold' is not one of"),
    "an impossible decoding value": (_changed("generation.num_beams", 0),
                                     "generation.num_beams: must be positive, got 0"),
    "an impossible batch": (_changed("inference.max_batch_tokens", -1),
                            "inference.max_batch_tokens: must be positive, got -1"),
}


@pytest.fixture(params=list(MALFORMED_CONFIGS), ids=list(MALFORMED_CONFIGS))
def malformed_model(request, tiny_model_dir, tmp_path):
    """The tiny model with its newsbrief.yaml spoilt one way, and what the error must say about it."""
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    spoil, problem = MALFORMED_CONFIGS[request.param]
    spoilt = spoil((folder / CONFIG_FILE).read_text())
    (folder / CONFIG_FILE).write_bytes(spoilt if isinstance(spoilt, bytes) else spoilt.encode())
    return folder, problem


def test_a_malformed_model_config_is_one_line_naming_the_file_and_problem(malformed_model):
    folder, problem = malformed_model
    with pytest.raises(ModelLoadError) as refused:
        NewsBrief.from_pretrained(folder, device="cpu")
    message = str(refused.value)
    assert str(folder / CONFIG_FILE) in message and problem in message and "\n" not in message


def test_predict_with_a_malformed_model_config_exits_6_in_one_line(malformed_model, tmp_path, capsys):
    folder, problem = malformed_model
    (tmp_path / "a.jsonl").write_text('{"id": "a", "text": "Acme said profit rose."}\n')
    with pytest.raises(SystemExit) as exited:
        main(["predict", "--model", str(folder), "--input", str(tmp_path / "a.jsonl"),
              "--output", str(tmp_path / "briefs.jsonl"), "--device", "cpu"])
    stderr = capsys.readouterr().err
    assert exited.value.code == 6 and str(folder / CONFIG_FILE) in stderr and problem in stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert not (tmp_path / "briefs.jsonl").exists()
