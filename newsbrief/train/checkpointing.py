"""Training checkpoints: everything a resumed run needs, written atomically, with no pickle.

A checkpoint is a folder `checkpoints/step-NNNNNNN` holding
  model.safetensors       the whole multi-task model (shared tensors stored once)
  optimizer.safetensors   optimizer tensors; optimizer.json holds the rest of its state
  scheduler.json          the learning-rate schedule's position
  rng.safetensors         torch (and CUDA) generator states; rng.json the Python and NumPy ones
  trainer_state.json      step, epoch, position in the epoch, best metrics
It is written under a `.tmp` name and renamed when complete, so a kill during a save leaves either
the previous checkpoints or a `.tmp` folder that is ignored and cleaned up, never a half checkpoint.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from newsbrief.models.checkpoint import unique_tensors

PREFIX = "step-"


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
    root = output_dir / "checkpoints"
    if not root.is_dir():
        return None
    for leftover in root.glob("*.tmp"):
        shutil.rmtree(leftover, ignore_errors=True)
    complete = sorted(p for p in root.iterdir() if p.name.startswith(PREFIX) and p.suffix != ".tmp")
    return complete[-1] if complete else None


def init_weights_file(source: Path) -> Path:
    """The weights `model.init_from` names: a checkpoint folder's, or the latest checkpoint's of a run folder."""
    checkpoint = source if (source / "model.safetensors").is_file() else latest_checkpoint(source)
    if checkpoint is None:
        raise ValueError(f"model.init_from: {source} is neither a checkpoint nor a run folder with checkpoints")
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


def save_checkpoint(directory: Path, model: torch.nn.Module, optimizer, scheduler, state: TrainerState) -> None:
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
    _fsync_tree(tmp)
    shutil.rmtree(directory, ignore_errors=True)
    os.replace(tmp, directory)


def restore_checkpoint(directory: Path, model: torch.nn.Module, optimizer, scheduler) -> TrainerState:
    load_weights(model, directory / "model.safetensors")
    optimizer.load_state_dict(_join_optimizer_state(load_file(directory / "optimizer.safetensors"),
                                                    _read_json(directory / "optimizer.json")))
    scheduler.load_state_dict(_read_json(directory / "scheduler.json"))
    _set_rng_state(load_file(directory / "rng.safetensors"), _read_json(directory / "rng.json"))
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


def _write_json(path: Path, payload) -> None:
    path.write_text(json.dumps(payload))


def _read_json(path: Path):
    return json.loads(path.read_text())


def _fsync_tree(directory: Path) -> None:
    """Flush file contents before the rename that publishes them."""
    for path in directory.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
