"""Every mistake a user can make in a training config or its data, through `newsbrief train`: one line on
stderr that names the file, key or row, the exit code of its cause, no traceback (catalogued in
docs/faults.md)."""

from __future__ import annotations

import json

import pytest
import yaml

from newsbrief.cli import main
from tests.conftest import ROOT

NEWS = ROOT / "tests/fixtures/tiny_news.jsonl"


def tiny_yaml(tmp_path, **sections) -> dict:
    """configs/tiny.yaml with absolute data paths, its run inside tmp_path, and `sections` merged in."""
    config = yaml.safe_load((ROOT / "configs/tiny.yaml").read_text())
    config["data"]["sources"] = [{"path": str(NEWS), "name": "news", "summary_column": "title"}]
    config["train"].update(output_dir=str(tmp_path / "run"), max_steps=2, warmup_steps=1, eval_every=2,
                           tensorboard=False)
    for section, values in sections.items():
        config[section].update(values)
    return config


def fails(capfd, arguments: list[str]) -> tuple[int, str]:
    """The exit code and stderr of a `newsbrief` command that must fail with exactly one line."""
    capfd.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    stderr = capfd.readouterr().err.strip()
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr, stderr
    assert stderr == str(exited.value)
    return exited.value.code, stderr


YAML_MISTAKES = {  # name: (file text, exit code, what the line must say)
    "bad indentation": (b"model:\n  backbone: x\n   random_init: true\n", 3, "line 3, column 15: mapping values"),
    "unclosed bracket": (b"model: {backbone: x\n", 3, "line 2, column 1"),
    "not UTF-8": (b"\xff\xfe model: x\n", 3, "not UTF-8 text (byte 0)"),
    "key given twice": (b"train:\n  max_steps: 1\ntrain:\n  max_steps: 2\n", 3, "line 3, column 1: key 'train' is given twice"),
    "undefined alias": (b"train:\n  max_steps: *steps\n", 3, "found undefined alias 'steps'"),
    "a list, not a mapping": (b"- train\n- data\n", 3, "must hold a mapping at the top level"),
    "a section that is a value": (b"train: 5\n", 3, "train: expected a mapping, got int"),
}


@pytest.mark.parametrize("name", YAML_MISTAKES)
def test_a_yaml_mistake_is_one_line_naming_the_file_and_line(tmp_path, capfd, name):
    text, code, says = YAML_MISTAKES[name]
    path = tmp_path / "mine.yaml"
    path.write_bytes(text)
    exit_code, line = fails(capfd, ["train", str(path)])
    assert exit_code == code and says in line
    assert str(path) in line or name == "a section that is a value"  # found after reading: the key is named


VALUE_MISTAKES = {  # override: what the line must say
    "train.lerning_rate=0.1": "train.lerning_rate: unknown key (did you mean learning_rate?)",
    "train.max_steps=ten": "train.max_steps: expected int, got 'ten'",
    "train.max_steps=[1": "override 'train.max_steps=[1', line 1, column 3",
    "train.max_steps": "override 'train.max_steps': expected key.sub=value",
    "train.learning_rate=2": "train.learning_rate: must be in (0, 1), got 2.0",
    "train.schedule=cosine_restarts": "train.schedule: 'cosine_restarts' is not one of",
    "train.resume_accepts=[train.max_step]": "train.resume_accepts: 'train.max_step' is not a config key",
    "model.init_from=/": "model.init_from: / is neither a checkpoint nor a run folder",
    "data.sources.0.section=nothing": "data.sources.0.section: 'nothing' is not a label of another source",
}


@pytest.mark.parametrize("override", VALUE_MISTAKES)
def test_a_wrong_key_or_value_is_one_line_naming_the_key(tmp_path, capfd, override):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(tiny_yaml(tmp_path)))
    code, line = fails(capfd, ["train", str(path), override])
    assert code == 3 and VALUE_MISTAKES[override] in line


def write_data(tmp_path, name: str, content: bytes | list[dict]):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text("".join(json.dumps(row) + "\n" for row in content))
    return path


ROW = {"id": "a", "text": "Acme Corp said profit rose.", "title": "Acme profit rises", "topics": ["business"],
       "split": "train"}
DATA_MISTAKES = {  # name: (file name, content, exit code, what the line must say after the file's path)
    "missing file": ("absent.jsonl", None, 3, "no such file"),
    "empty file": ("empty.jsonl", b"", 4, ": the file is empty"),
    "JSON that does not parse": ("broken.jsonl", b'{"id": "a", "text": \n', 4, ": cannot read it as json"),
    "no text column": ("body.jsonl", [{"body" if k == "text" else k: v for k, v in ROW.items()}], 4,
                       ": no column 'text'"),
    "a text that is a number": ("number.jsonl", [ROW, {**ROW, "id": "b", "text": 5}], 4, ", row 2: 'text' is not a string"),
    "a blank text": ("blank.jsonl", [ROW, {**ROW, "id": "b", "text": "\u200b "}], 4, ", row 2: 'text' is empty"),
    "topics that are not names": ("topics.jsonl", [{**ROW, "topics": {"a": 1}}], 4, ", row 1: 'topics' is not a topic"),
    "no training rows": ("tests.jsonl", [{**ROW, "split": "test"}], 4, "data.sources: no training rows in"),
    "not Parquet": ("fake.parquet", b"id,text\n1,two\n", 4, ": cannot read it as parquet"),
    "an unterminated CSV quote": ("quote.csv", b'id,text,title,topics,split\na,"Acme said,t,business,train\n', 4,
                                  ": cannot read it as csv"),
    "a Hub dataset that is not there": ("no/such-dataset", None, 4, ": neither a .jsonl, .csv or .parquet file"),
}


@pytest.mark.parametrize("name", DATA_MISTAKES)
def test_a_data_mistake_is_one_line_naming_the_file(tmp_path, capfd, monkeypatch, name):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    file_name, content, code, says = DATA_MISTAKES[name]
    path = write_data(tmp_path, file_name, content) if content is not None else (
        tmp_path / file_name if file_name.endswith(".jsonl") else file_name)
    config = tiny_yaml(tmp_path)
    config["data"]["sources"][0]["path"] = str(path)
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(config))
    exit_code, line = fails(capfd, ["train", str(tmp_path / "mine.yaml")])
    assert exit_code == code and str(path) in line and says in line


def test_an_output_dir_that_cannot_be_made_is_one_line_before_any_data_is_read(tmp_path, capfd):
    (tmp_path / "a-file").write_text("")
    config = tiny_yaml(tmp_path, train={"output_dir": str(tmp_path / "a-file" / "run")})
    config["data"]["sources"][0]["path"] = str(write_data(tmp_path, "empty.jsonl", b""))  # would fail later, as 4
    (tmp_path / "mine.yaml").write_text(yaml.safe_dump(config))
    code, line = fails(capfd, ["train", str(tmp_path / "mine.yaml")])
    assert code == 5 and f"cannot write {tmp_path / 'a-file' / 'run'}" in line
