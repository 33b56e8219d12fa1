"""Training checkpoints: everything a resumed run needs, written atomically, with no pickle.

A checkpoint is a folder `checkpoints/step-NNNNNNN` holding
  model.safetensors       the whole multi-task model (shared tensors stored once)
  optimizer.safetensors   optimizer tensors; optimizer.json holds the rest of its state
  scheduler.json          the learning-rate schedule's position
  rng.safetensors         torch (and CUDA) generator states; rng.json the Python and NumPy ones
  trainer_state.json      step, epoch, position in the epoch, best metrics
  newsbrief.yaml          the resolved config, which a resume compares with its own (train/resume_config.py)
  manifest.json           every other file's size and SHA-256, written last
It is written under a `.tmp` name and renamed when complete, so a kill during a save leaves either
the previous checkpoints or a `.tmp` folder that is ignored and cleaned up, never a half checkpoint.
A checkpoint damaged later (a truncated or changed file) fails its manifest: resuming skips it, with a
warning that names the file, for the newest one that is intact.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from newsbrief.config import ConfigError, RunConfig, save_config
from newsbrief.disk import sync_path
from newsbrief.models.model_dir import CONFIG_FILE, unique_tensors
from newsbrief.models.load_errors import ModelLoadError

PREFIX = "step-"
MANIFEST = "manifest.json"
logger = logging.getLogger(__name__)


class DamagedCheckpoint(ModelLoadError):
    """A checkpoint file that is missing, truncated or changed, named in one line."""


@dataclass
class TrainerState:
    step: int = 0
    """Optimizer steps taken."""
    epoch: int = 0
    """Passes over the training data started."""
    batch_in_epoch: int = 0
    """Micro-batches of the current epoch already consumed (all processes together)."""
    best_metric: float | None = None
    evals_without_improvement: int = 0
    scores: dict[str, float] = field(default_factory=dict)
    """Checkpoint folder name -> its value of metric_for_best."""
    train_seconds: float = 0.0


def checkpoint_dir(output_dir: Path, step: int) -> Path:
    return output_dir / "checkpoints" / f"{PREFIX}{step:07d}"


def latest_checkpoint(output_dir: Path) -> Path | None:
    """The newest complete checkpoint; unfinished `.tmp` folders from a killed save are removed."""
    complete = complete_checkpoints(output_dir)
    return complete[-1] if complete else None


def complete_checkpoints(output_dir: Path) -> list[Path]:
    """Published checkpoints, oldest first; unfinished `.tmp` folders from a killed save are removed."""
    root = output_dir / "checkpoints"
    if not root.is_dir():
        return []
    for leftover in root.glob("*.tmp"):
        shutil.rmtree(leftover, ignore_errors=True)
    return sorted(p for p in root.iterdir() if p.name.startswith(PREFIX) and p.suffix != ".tmp")


def resume_checkpoint(output_dir: Path, model: torch.nn.Module, optimizer,
                      scheduler) -> tuple[Path, TrainerState] | None:
    """Restore the newest intact checkpoint; a damaged one is skipped with a warning naming its bad file.
    None when there is none; DamagedCheckpoint when there are some and none is intact."""
    damaged = []
    for directory in reversed(complete_checkpoints(output_dir)):
        try:
            verify_checkpoint(directory)
            return directory, restore_checkpoint(directory, model, optimizer, scheduler)
        except DamagedCheckpoint as error:  # restoring it again from an earlier one overwrites all it set
            logger.warning("skipping a damaged checkpoint: %s", error)
            damaged.append(str(error))
    if damaged:
        raise DamagedCheckpoint(f"no intact checkpoint to resume from: {'; '.join(damaged)}")
    return None


def verify_checkpoint(directory: Path) -> None:
    """Every file as the manifest lists it. A checkpoint saved before manifests has none: restoring it
    still names a file that does not load."""
    manifest = directory / MANIFEST
    if not manifest.is_file():
        return
    try:
        listed = _read_json(manifest)
    except ValueError as error:
        raise DamagedCheckpoint(f"{manifest}: not valid JSON ({error})") from None
    for name, (size, digest) in sorted(listed.items()):
        path = directory / name
        if not path.is_file() or path.stat().st_size != size or _sha256(path) != digest:
            raise DamagedCheckpoint(f"{path}: missing or changed since it was saved (size or SHA-256 "
                                    "differs from manifest.json)")


def init_weights_file(source: Path) -> Path:
    """The weights `model.init_from` names: a checkpoint folder's, or the latest checkpoint's of a run folder."""
    checkpoint = source if (source / "model.safetensors").is_file() else latest_checkpoint(source)
    if checkpoint is None:
        raise ConfigError(f"model.init_from: {source} is neither a checkpoint nor a run folder with checkpoints")
    return checkpoint / "model.safetensors"


def load_weights(model: torch.nn.Module, path: Path, prefix: str = "") -> None:
    """Load weights saved by `unique_tensors` (a missing name must share storage with a loaded one):
    those stored under `prefix` (e.g. "seq2seq." for that submodule alone), or all."""
    stored = {name[len(prefix):]: tensor for name, tensor in load_file(path).items() if name.startswith(prefix)}
    try:
        missing, unexpected = model.load_state_dict(stored, strict=False)
    except RuntimeError as error:  # shapes differ: another architecture or label space
        raise ValueError(f"{path}: weights do not match the model: {str(error).splitlines()[-1].strip()}") from None
    state = model.state_dict()
    pointers = {tensor.data_ptr() for name, tensor in state.items() if name in stored}
    truly_missing = [name for name in missing if state[name].data_ptr() not in pointers]
    if truly_missing or unexpected:
        raise ValueError(f"{path}: weights do not match the model (missing {truly_missing[:5]}, "
                         f"unexpected {unexpected[:5]})")


def save_checkpoint(directory: Path, model: torch.nn.Module, optimizer, scheduler, state: TrainerState,
                    config: RunConfig) -> None:
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(unique_tensors(model.state_dict()), tmp / "model.safetensors")
    tensors, rest = _split_optimizer_state(optimizer.state_dict())
    save_file(tensors, tmp / "optimizer.safetensors")
    _write_json(tmp / "optimizer.json", rest)
    _write_json(tmp / "scheduler.json", scheduler.state_dict())
    rng_tensors, rng_rest = _rng_state()
    save_file(rng_tensors, tmp / "rng.safetensors")
    _write_json(tmp / "rng.json", rng_rest)
    _write_json(tmp / "trainer_state.json", asdict(state))
    save_config(config, tmp / CONFIG_FILE)
    _write_json(tmp / MANIFEST, {p.name: [p.stat().st_size, _sha256(p)] for p in sorted(tmp.iterdir())})
    for written in tmp.iterdir():  # contents on disk before the rename that publishes them
        sync_path(written)
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(tmp, directory)


def restore_checkpoint(directory: Path, model: torch.nn.Module, optimizer, scheduler) -> TrainerState:
    """Restore a checkpoint; a file that does not load is a DamagedCheckpoint that names it."""
    with _naming(directory / "model.safetensors"):
        load_weights(model, directory / "model.safetensors")
    with _naming(directory / "optimizer.safetensors"):
        tensors = load_file(directory / "optimizer.safetensors")
    with _naming(directory / "optimizer.json"):
        optimizer.load_state_dict(_join_optimizer_state(tensors, _read_json(directory / "optimizer.json")))
    with _naming(directory / "scheduler.json"):
        scheduler.load_state_dict(_read_json(directory / "scheduler.json"))
    with _naming(directory / "rng.safetensors"):
        rng_tensors = load_file(directory / "rng.safetensors")
    with _naming(directory / "rng.json"):
        _set_rng_state(rng_tensors, _read_json(directory / "rng.json"))
    with _naming(directory / "trainer_state.json"):
        return TrainerState(**_read_json(directory / "trainer_state.json"))


def prune_checkpoints(output_dir: Path, state: TrainerState, keep_best: int, higher_is_better: bool) -> None:
    """Keep the `keep_best` best-scoring checkpoints and the newest one (the resume point)."""
    root = output_dir / "checkpoints"
    keep = set(ranked_checkpoints(state, higher_is_better)[:keep_best])
    newest = latest_checkpoint(output_dir)
    if newest is not None:
        keep.add(newest.name)
    for name in list(state.scores):
        if name not in keep:
            shutil.rmtree(root / name, ignore_errors=True)
            del state.scores[name]


def best_checkpoint(output_dir: Path, state: TrainerState, higher_is_better: bool) -> Path | None:
    ranked = ranked_checkpoints(state, higher_is_better)
    return output_dir / "checkpoints" / ranked[0] if ranked else None


def ranked_checkpoints(state: TrainerState, higher_is_better: bool) -> list[str]:
    """Checkpoint names, best score first. A tie goes to the later checkpoint: the same score after more
    training (a metric on a small validation sample ties often), and the schedule's end is the intended model."""
    sign = 1 if higher_is_better else -1
    return sorted(state.scores, key=lambda name: (sign * state.scores[name], name), reverse=True)


def _split_optimizer_state(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict] = {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value.contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _join_optimizer_state(tensors: dict[str, torch.Tensor], rest: dict) -> dict:
    state: dict[int, dict] = {}
    for name, tensor in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = tensor
    for index, values in rest["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": rest["param_groups"]}


def _rng_state() -> tuple[dict[str, torch.Tensor], dict]:
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda.{i}"] = s
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    rest = {"python": [version, list(internal), gauss],
            "numpy": [kind, keys.tolist(), pos, has_gauss, cached]}
    return tensors, rest


def _set_rng_state(tensors: dict[str, torch.Tensor], rest: dict) -> None:
    torch.set_rng_state(tensors["torch"])
    cuda = [tensors[k] for k in sorted(tensors) if k.startswith("cuda.")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    version, internal, gauss = rest["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = rest["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))


@contextmanager
def _naming(path: Path) -> Iterator[None]:
    """What a damaged file raises (safetensors, JSON, a missing file, a mismatched state), as one line."""
    try:
        yield
    except (SafetensorError, OSError, ValueError, KeyError, TypeError, IndexError, RuntimeError) as error:
        raise DamagedCheckpoint(f"{path}: does not load ({type(error).__name__}: {error})".splitlines()[0]) from None


def _sha256(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _write_json(path: Path, payload) -> None:
    path.write_text(json.dumps(payload))


def _read_json(path: Path):
    return json.loads(path.read_text())
