"""The training losses are summed on the device and read on the host only at log steps."""

import pytest
import torch

from newsbrief.models.multitask import MultitaskOutput
from newsbrief.train.loss_meter import LossMeter


def output(summary: float, topic: float) -> MultitaskOutput:
    return MultitaskOutput(torch.tensor(summary + topic, requires_grad=True), torch.tensor(summary),
                           torch.tensor(topic), torch.zeros(1, 2))


def test_the_mean_of_the_micro_batches_since_the_last_read():
    meter = LossMeter()
    meter.add(output(1.0, 0.5))
    meter.add(output(3.0, 1.5))
    assert meter.read() == {"loss": 3.0, "summary_loss": 2.0, "topic_loss": 1.0}
    meter.add(output(5.0, 0.0))
    assert meter.read() == {"loss": 5.0, "summary_loss": 5.0, "topic_loss": 0.0}
    with pytest.raises(ValueError, match="no loss was added"):
        meter.read()


def test_adding_a_loss_reads_nothing_on_the_host():
    """On a GPU a host read (`.item()`, `float(t)`) waits for every queued kernel."""
    meter = LossMeter()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        for step in range(5):
            meter.add(output(float(step), 1.0))
    assert not [e.name for e in profile.events() if e.name in ("aten::_local_scalar_dense", "aten::item")]
