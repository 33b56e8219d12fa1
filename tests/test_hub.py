"""Hub names: NewsBrief.from_pretrained resolves them with huggingface_hub's real snapshot_download from a
pre-populated Hub cache, offline; save_pretrained writes a Hub model card; push_to_hub uploads the folder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import huggingface_hub
import pytest
import yaml
from huggingface_hub import HfApi, ModelCard, scan_cache_dir

from newsbrief.hub import ModelNotFound
from newsbrief.infer.engine import NewsBrief
from newsbrief.models.load_errors import UntrustedCodeError

COMMIT = "0123456789abcdef0123456789abcdef01234567"
TEXTS = ["Shares in the carmaker fell 9 percent on Tuesday after it warned that tariffs could cut its profit.",
         "The home side won the cup final 2-1 after extra time."]


def cache_repo(cache: Path, repo_id: str, folder: Path, commit: str = COMMIT) -> None:
    """`folder` as huggingface_hub caches a download of `repo_id` at `commit`, the branch main pointing to it:
    models--org--name/{blobs/<sha256>, snapshots/<commit>/<file> -> blob, refs/main}."""
    storage = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = storage / "snapshots" / commit
    for path in (storage / "blobs", snapshot, storage / "refs"):
        path.mkdir(parents=True, exist_ok=True)
    for file in folder.iterdir():
        blob = storage / "blobs" / hashlib.sha256(file.read_bytes()).hexdigest()
        shutil.copyfile(file, blob)
        (snapshot / file.name).symlink_to(os.path.relpath(blob, snapshot))
    (storage / "refs" / "main").write_text(commit)


@pytest.fixture
def offline(monkeypatch):
    """No network, whatever the environment says: huggingface_hub must answer from the cache."""
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


@pytest.fixture(scope="module")
def engine(tiny_model_dir):
    return NewsBrief.from_pretrained(tiny_model_dir, device="cpu")


def test_a_saved_model_loads_from_the_hub_cache_offline_with_the_same_briefs(engine, tmp_path, offline):
    saved = engine.save_pretrained(tmp_path / "saved")
    card = ModelCard.load(saved / "README.md")
    assert card.data.library_name == "newsbrief" and card.data.pipeline_tag == "summarization"
    assert "## " in card.text  # the figures training wrote are still there, under the front matter
    cache = tmp_path / "hub"
    cache_repo(cache, "newsbrief-tests/tiny", saved)
    assert [r.repo_id for r in scan_cache_dir(cache).repos] == ["newsbrief-tests/tiny"]  # the layout is the real one

    for revision in (None, "main", COMMIT):
        hub = NewsBrief.from_pretrained("newsbrief-tests/tiny", device="cpu", cache_dir=cache, revision=revision)
        assert hub.predict(TEXTS) == engine.predict(TEXTS)
    assert hub.source.parent.name == "snapshots"


@pytest.mark.parametrize("name, revision, message", [
    ("newsbrief-tests/absent", None, "not in the local Hugging Face cache while the Hub cannot be reached"),
    ("newsbrief-tests/tiny", "v9", "at revision `v9` is not in the local Hugging Face cache"),
    ("no/such/folder", None, "no such model directory, and not a Hub repository id"),
])
def test_a_name_that_resolves_to_nothing_says_why_in_one_line(tiny_model_dir, tmp_path, offline, name, revision,
                                                               message):
    cache_repo(tmp_path, "newsbrief-tests/tiny", tiny_model_dir)
    with pytest.raises(ModelNotFound, match=message) as error:
        NewsBrief.from_pretrained(name, revision=revision, cache_dir=tmp_path)
    assert "\n" not in str(error.value)


def test_a_hub_repository_that_is_no_newsbrief_model_is_offered_as_a_backbone(tiny_backbone_dir, tmp_path, offline):
    cache_repo(tmp_path, "someone/bert", tiny_backbone_dir)
    with pytest.raises(ModelNotFound, match="not a NewsBrief model .*model.backbone: someone/bert"):
        NewsBrief.from_pretrained("someone/bert", cache_dir=tmp_path)


def test_a_downloaded_model_runs_no_code_unless_trusted(tiny_model_dir, tmp_path, offline):
    """A repository whose config.json maps to its own Python (and whose newsbrief.yaml allows it, which
    counts for nothing): refused in one line unless the caller trusts it; the code runs only then."""
    folder = shutil.copytree(tiny_model_dir, tmp_path / "remote")
    marker = tmp_path / "code-ran"
    (folder / "planted.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    config = yaml.safe_load((folder / "newsbrief.yaml").read_text())
    config["model"]["trust_remote_code"] = True
    (folder / "newsbrief.yaml").write_text(yaml.safe_dump(config))
    mapped = json.loads((folder / "config.json").read_text())
    mapped["auto_map"] = {"AutoConfig": "planted.PlantedConfig", "AutoModelForSeq2SeqLM": "planted.PlantedModel"}
    (folder / "config.json").write_text(json.dumps(mapped))
    cache_repo(tmp_path / "hub", "someone/remote", folder)
    with pytest.raises(UntrustedCodeError, match="would run its own Python code .*trust_remote_code=True"):
        NewsBrief.from_pretrained("someone/remote", cache_dir=tmp_path / "hub")
    assert not marker.exists()
    with pytest.raises(Exception):  # the planted file defines no classes: loading fails after importing it
        NewsBrief.from_pretrained("someone/remote", cache_dir=tmp_path / "hub", device="cpu", trust_remote_code=True)
    assert marker.exists()


def test_push_to_hub_uploads_the_saved_folder_in_one_commit(engine, monkeypatch):
    """huggingface_hub has no local stand-in for the Hub: the two API calls are recorded instead, and the
    folder is checked while it exists, at the upload call."""
    calls = []

    def create_repo(self, repo_id, **kwargs):
        calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, **kwargs):
        folder = Path(kwargs["folder_path"])
        uploaded = NewsBrief.from_pretrained(folder, device="cpu")
        assert uploaded.predict(TEXTS) == engine.predict(TEXTS)
        assert ModelCard.load(folder / "README.md").data.library_name == "newsbrief"
        calls.append(("upload_folder", kwargs))
        return "commit-info"

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "upload_folder", upload_folder)
    assert engine.push_to_hub("me/tiny-news", private=True, revision="dev", commit_message="tiny") == "commit-info"
    assert calls[0] == ("create_repo", "me/tiny-news", {"private": True, "exist_ok": True})
    upload = calls[1][1]
    assert (upload["repo_id"], upload["revision"], upload["commit_message"]) == ("me/tiny-news", "dev", "tiny")
    assert not Path(upload["folder_path"]).exists()  # a temporary folder, gone after the upload
