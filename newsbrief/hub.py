"""NewsBrief models on the Hugging Face Hub: download (with the cache and offline rules of
huggingface_hub), save with a Hub model card, and upload."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from huggingface_hub import HfApi, ModelCard, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    HFValidationError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from newsbrief.config import RunConfig
from newsbrief.models.model_dir import CONFIG_FILE, read_run_config
from newsbrief.models.load_errors import ModelLoadError

# Weights in pickle formats are never downloaded (a NewsBrief model is safetensors, JSON and YAML), nor
# code unless the caller trusts the repository.
NOT_DOWNLOADED = ["*.bin", "*.pt", "*.pth", "*.ckpt", "*.pkl", "*.h5", "*.msgpack", "*.onnx"]
CARD = "README.md"


class ModelNotFound(ModelLoadError, FileNotFoundError):
    """A model name that resolves to no NewsBrief model directory; the message says why and what to do."""


def model_directory(name: str | Path, revision: str | None = None, token: str | bool | None = None,
                    cache_dir: str | Path | None = None, trust_remote_code: bool = False) -> Path:
    """A local model directory as it is; otherwise a Hub repository id, downloaded to (or found in) the
    Hugging Face cache by `snapshot_download`, so that HF_HUB_OFFLINE, HF_HUB_CACHE and tokens work as
    everywhere else in the ecosystem."""
    if Path(name).exists():
        return Path(name)
    name = str(name)
    try:
        folder = Path(snapshot_download(name, revision=revision, token=token, cache_dir=cache_dir,
                                        ignore_patterns=NOT_DOWNLOADED + ([] if trust_remote_code else ["*.py"]),
                                        library_name="newsbrief"))
    except HFValidationError:
        raise ModelNotFound(f"{name}: no such model directory, and not a Hub repository id (org/name)") from None
    except GatedRepoError:
        raise ModelNotFound(f"{name}: a gated Hub repository: ask for access on its page, then log in "
                            "(`hf auth login`) or pass token=") from None
    except RevisionNotFoundError:
        raise ModelNotFound(f"{name}: the Hub repository has no revision `{revision}` (a branch, tag or commit)") from None
    except RepositoryNotFoundError:
        raise ModelNotFound(f"{name}: no such model directory, and no such Hub repository (a private one needs "
                            "`hf auth login` or token=)") from None
    except LocalEntryNotFoundError:
        at = f" at revision `{revision}`" if revision else ""
        raise ModelNotFound(f"{name}: no such model directory, and the Hub repository{at} is not in the local "
                            "Hugging Face cache while the Hub cannot be reached (HF_HUB_OFFLINE=1 or no network): "
                            "download it once online, or pass a local directory") from None
    if not (folder / CONFIG_FILE).is_file():
        raise ModelNotFound(f"{name}: a Hub repository, but not a NewsBrief model (no {CONFIG_FILE}); to add your "
                            f"topics to it, train with it as the backbone: model.backbone: {name} (and "
                            "model.freeze_summarizer: true to keep a summarizer's summaries)")
    return folder


def save_directory(source: Path, directory: str | Path) -> Path:
    """A copy of the model directory `source` in `directory`, its model card with Hub metadata (from the
    directory's own run config)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for file in source.iterdir():
        if file.is_file():
            shutil.copyfile(file, directory / file.name)  # the files, not the cache's symlinks
    card_path = directory / CARD
    card = ModelCard.load(card_path) if card_path.is_file() else ModelCard("")
    for key, value in hub_metadata(read_run_config(source)).items():
        if not getattr(card.data, key, None):
            setattr(card.data, key, value)
    card.save(card_path)
    return directory


def hub_metadata(config: RunConfig) -> dict:
    """The model card's YAML front matter, the fields the Hub indexes."""
    metadata = {"library_name": "newsbrief", "pipeline_tag": "summarization",
                "tags": ["newsbrief", "summarization", "text-classification", "multi-label-classification", "news"],
                "metrics": ["rouge", "f1"]}
    backbone = config.model.backbone
    if not Path(backbone).exists():  # a Hub name, not a folder of the machine that trained it
        metadata["base_model"] = backbone
    datasets = [s.path for s in config.data.sources if s.path and not Path(s.path).suffix and "/" in s.path]
    if datasets:
        metadata["datasets"] = datasets
    return metadata


def push_directory(source: Path, repo_id: str, *, revision: str | None = None,
                   private: bool | None = None, token: str | bool | None = None,
                   commit_message: str = "Upload NewsBrief model"):
    """Create the repository if needed and upload the model directory, as `save_directory` writes it, in
    one commit (huggingface_hub's `upload_folder`)."""
    api = HfApi(token=token, library_name="newsbrief")
    api.create_repo(repo_id, private=private, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        save_directory(source, folder)
        return api.upload_folder(repo_id=repo_id, folder_path=folder, revision=revision,
                                 commit_message=commit_message)
