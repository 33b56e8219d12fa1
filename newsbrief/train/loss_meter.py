"""Training losses summed on the device between log steps and read on the host only when logged.

Reading a loss (`.item()`) makes the host wait for the GPU to finish every kernel queued so far, so
read each step it keeps the host from queueing the next step's work while the GPU runs this one's.
"""

from __future__ import annotations

import torch

from newsbrief.models.multitask import MultitaskOutput

NAMES = ("loss", "summary_loss", "topic_loss")


class LossMeter:
    def __init__(self):
        self.sums: torch.Tensor | None = None
        self.count = 0

    def add(self, output: MultitaskOutput) -> None:
        """One micro-batch's losses, added on their device."""
        losses = torch.stack([output.loss.detach(), output.summary_loss.detach(), output.topic_loss.detach()])
        self.sums = losses if self.sums is None else self.sums + losses
        self.count += 1

    def read(self) -> dict[str, float]:
        """Each loss's mean over the micro-batches added since the last read (one host read for all three)."""
        if self.sums is None:
            raise ValueError("LossMeter.read: no loss was added since the last read")
        means = (self.sums.float() / self.count).tolist()
        self.sums, self.count = None, 0
        return dict(zip(NAMES, means))
