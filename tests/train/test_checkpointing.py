"""Checkpoints: pickle-free optimizer round trip, atomic publication, pruning to the best k, the best one,
and a damaged latest checkpoint skipped for the previous intact one."""

import json
import logging
from pathlib import Path

import pytest
import torch

from newsbrief.config import RunConfig
from newsbrief.train.checkpointing import (
    DamagedCheckpoint,
    TrainerState,
    best_checkpoint,
    checkpoint_dir,
    init_weights_file,
    latest_checkpoint,
    prune_checkpoints,
    restore_checkpoint,
    resume_checkpoint,
    save_checkpoint,
    verify_checkpoint,
)
from newsbrief.train.loop import train


def _stepped_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (step + 1))
    for _ in range(3):
        model(torch.randn(2, 4)).sum().backward()
        optimizer.step()
        scheduler.step()
    return model, optimizer, scheduler


def test_checkpoint_round_trip_restores_model_optimizer_schedule_and_rng(tmp_path):
    model, optimizer, scheduler = _stepped_model()
    state = TrainerState(step=3, epoch=1, batch_in_epoch=5, best_metric=0.5, scores={"step-0000003": 0.5})
    directory = checkpoint_dir(tmp_path, 3)
    save_checkpoint(directory, model, optimizer, scheduler, state, RunConfig())
    expected_draw = torch.rand(3)

    fresh, fresh_optimizer, fresh_scheduler = _stepped_model()
    with torch.no_grad():
        for p in fresh.parameters():
            p.add_(1.0)
    restored = restore_checkpoint(directory, fresh, fresh_optimizer, fresh_scheduler)

    assert restored == state
    assert torch.equal(torch.rand(3), expected_draw)  # the RNG continues where the saved run was
    for a, b in zip(model.parameters(), fresh.parameters()):
        assert torch.equal(a, b)
    for key, value in optimizer.state_dict()["state"][0].items():
        assert torch.equal(value, fresh_optimizer.state_dict()["state"][0][key])
    assert fresh_scheduler.last_epoch == scheduler.last_epoch
    assert not list(directory.glob("*.bin")) and not list(directory.glob("*.pkl"))


def test_restoring_into_an_optimizer_that_took_no_steps_gives_the_saved_state(tmp_path):
    # The round trip above restores into an optimizer that replayed the same seeded steps, which already
    # equals the saved one; a resumed run starts from one that has taken none.
    model, optimizer, scheduler = _stepped_model()
    directory = checkpoint_dir(tmp_path, 3)
    save_checkpoint(directory, model, optimizer, scheduler, TrainerState(step=3), RunConfig())
    fresh = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    fresh_optimizer = torch.optim.AdamW(fresh.parameters(), lr=0.1)
    fresh_scheduler = torch.optim.lr_scheduler.LambdaLR(fresh_optimizer, lambda step: 1.0 / (step + 1))
    assert not fresh_optimizer.state_dict()["state"]
    restore_checkpoint(directory, fresh, fresh_optimizer, fresh_scheduler)

    saved, restored = optimizer.state_dict(), fresh_optimizer.state_dict()
    assert restored["state"].keys() == saved["state"].keys() == {0, 1, 2, 3}
    for index, values in saved["state"].items():
        assert restored["state"][index].keys() == values.keys()
        for key, value in values.items():
            assert torch.equal(torch.as_tensor(restored["state"][index][key]), torch.as_tensor(value)), (index, key)
    assert restored["param_groups"] == json.loads(json.dumps(saved["param_groups"]))  # betas: a list, not a tuple
    assert fresh_scheduler.state_dict() == scheduler.state_dict()
    assert fresh_scheduler.get_last_lr() == scheduler.get_last_lr() == [0.1 / 4]


def test_an_unfinished_save_is_ignored_and_cleaned(tmp_path):
    model, optimizer, scheduler = _stepped_model()
    save_checkpoint(checkpoint_dir(tmp_path, 10), model, optimizer, scheduler, TrainerState(step=10), RunConfig())
    half_written = checkpoint_dir(tmp_path, 20).with_name("step-0000020.tmp")
    half_written.mkdir()
    (half_written / "model.safetensors").write_bytes(b"truncated")
    assert latest_checkpoint(tmp_path).name == "step-0000010"
    assert not half_written.exists()


def test_init_from_takes_a_checkpoint_folder_or_the_latest_checkpoint_of_a_run(tmp_path):
    model, optimizer, scheduler = _stepped_model()
    for step in (10, 20):
        save_checkpoint(checkpoint_dir(tmp_path, step), model, optimizer, scheduler, TrainerState(step=step), RunConfig())
    earlier = checkpoint_dir(tmp_path, 10)
    assert init_weights_file(earlier) == earlier / "model.safetensors"
    assert init_weights_file(tmp_path) == checkpoint_dir(tmp_path, 20) / "model.safetensors"
    with pytest.raises(ValueError, match=r"^model.init_from: .*empty is neither a checkpoint nor a run folder"):
        init_weights_file(tmp_path / "empty")


def test_pruning_keeps_the_best_k_and_the_newest(tmp_path):
    model, optimizer, scheduler = _stepped_model()
    scores = {10: 0.9, 20: 0.5, 30: 0.7, 40: 0.8}
    state = TrainerState()
    for step, loss in scores.items():
        save_checkpoint(checkpoint_dir(tmp_path, step), model, optimizer, scheduler, state, RunConfig())
        state.scores[f"step-{step:07d}"] = loss
    prune_checkpoints(tmp_path, state, keep_best=2, higher_is_better=False)
    kept = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert kept == ["step-0000020", "step-0000030", "step-0000040"]
    assert set(state.scores) == set(kept)


def test_a_tie_for_best_goes_to_the_later_checkpoint(tmp_path):
    for higher_is_better, scores, better in ((True, {875: 0.9044, 1750: 0.9044, 2000: 0.8}, 0.95),
                                             (False, {875: 3.85, 1750: 3.85, 2000: 4.0}, 3.5)):
        state = TrainerState(scores={f"step-{step:07d}": score for step, score in scores.items()})
        assert best_checkpoint(tmp_path, state, higher_is_better).name == "step-0001750"
        state.scores["step-0000500"] = better  # a strictly better score wins, however early
        assert best_checkpoint(tmp_path, state, higher_is_better).name == "step-0000500"


def test_the_best_checkpoint_is_its_folder_and_none_before_any_score(tmp_path):
    state = TrainerState()
    assert best_checkpoint(tmp_path, state, higher_is_better=True) is None
    state.scores["step-0000010"] = 0.5
    assert best_checkpoint(tmp_path, state, higher_is_better=True) == checkpoint_dir(tmp_path, 10)


DAMAGE = {  # file -> what happens to it
    "model.safetensors": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
    "optimizer.safetensors": lambda path: path.write_bytes(path.read_bytes()[:-7]),
    "trainer_state.json": lambda path: path.write_text('{"step": 20, "epo'),
    "optimizer.json": lambda path: path.unlink(),
}


@pytest.mark.parametrize("name", DAMAGE)
def test_a_damaged_latest_checkpoint_is_skipped_for_the_previous_one_with_a_warning(tmp_path, caplog, name):
    model, optimizer, scheduler = _stepped_model()
    save_checkpoint(checkpoint_dir(tmp_path, 10), model, optimizer, scheduler, TrainerState(step=10), RunConfig())
    save_checkpoint(checkpoint_dir(tmp_path, 20), model, optimizer, scheduler, TrainerState(step=20), RunConfig())
    DAMAGE[name](checkpoint_dir(tmp_path, 20) / name)
    fresh, fresh_optimizer, fresh_scheduler = _stepped_model()
    with caplog.at_level(logging.WARNING):
        directory, state = resume_checkpoint(tmp_path, fresh, fresh_optimizer, fresh_scheduler)
    assert (directory.name, state.step) == ("step-0000010", 10)
    assert str(checkpoint_dir(tmp_path, 20) / name) in caplog.text
    for a, b in zip(model.parameters(), fresh.parameters()):
        assert torch.equal(a, b)


def test_a_damaged_checkpoint_without_a_manifest_still_names_its_file(tmp_path):
    model, optimizer, scheduler = _stepped_model()
    directory = checkpoint_dir(tmp_path, 10)
    save_checkpoint(directory, model, optimizer, scheduler, TrainerState(step=10), RunConfig())
    (directory / "manifest.json").unlink()  # as checkpoints saved before manifests
    DAMAGE["model.safetensors"](directory / "model.safetensors")
    with pytest.raises(DamagedCheckpoint, match="no intact checkpoint") as raised:
        resume_checkpoint(tmp_path, *_stepped_model())
    assert str(directory / "model.safetensors") in str(raised.value) and "\n" not in str(raised.value)


def test_training_resumes_past_a_damaged_latest_checkpoint(tiny_config, caplog):
    config = tiny_config("train.max_steps=4", "train.eval_every=2", "train.tensorboard=false",
                         "train.save_total_limit=5")
    train(config)
    checkpoints = Path(config.train.output_dir) / "checkpoints"
    latest = sorted(checkpoints.iterdir())[-1]
    DAMAGE["model.safetensors"](latest / "model.safetensors")
    with caplog.at_level(logging.WARNING):
        train(config)  # resumes from the checkpoint before it, and trains to the end again
    assert str(latest / "model.safetensors") in caplog.text
    verify_checkpoint(latest)  # saved again, whole
