"""How the processes of one training run wait for each other and agree.

The main process alone validates, checkpoints and exports; the others wait for it. They wait on a CPU
(gloo) group with a timeout of its own (train.main_process_timeout_minutes), not on the GPUs' group,
whose timeout (NCCL's, minutes by default) a long export (threshold tuning, a topic refit) can
outlast. And the main process decides when to stop early, for all: a process that stopped alone would
leave the others hanging in their next gradient reduction.
"""

from __future__ import annotations

from datetime import timedelta

import torch
import torch.distributed as dist
from accelerate import Accelerator


class MainProcessWait:
    def __init__(self, accelerator: Accelerator, timeout_minutes: float):
        self.timeout = timedelta(minutes=timeout_minutes)
        # Made by every process at the same point (a new group is a collective), before any of them waits.
        self.group = dist.new_group(backend="gloo", timeout=self.timeout) if accelerator.num_processes > 1 else None

    def decision(self, value: bool) -> bool:
        """The main process's `value`, on every process (which wait for it)."""
        if self.group is None:
            return value
        box = [value]
        self._wait(lambda: dist.broadcast_object_list(box, src=0, group=self.group))
        return box[0]

    def barrier(self) -> None:
        """Every process waits here until all have come (the main process from its export)."""
        if self.group is not None:
            self._wait(lambda: dist.barrier(group=self.group))

    def _wait(self, collective) -> None:
        try:
            collective()
        except RuntimeError as error:  # gloo's timeout; a main process that died ends the wait the same way
            raise RuntimeError(f"train: waited more than train.main_process_timeout_minutes "
                               f"({self.timeout.total_seconds() / 60:g}) for the main process; it is still "
                               f"validating or exporting, or it failed ({str(error).splitlines()[0]})") from None


def unused_parameters(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> list[str]:
    """Names of the trainable parameters that get no gradient from a forward and backward pass on `batch`
    (BERT2BERT's encoder pooler; BART has none). DistributedDataParallel must be told of them, and then walks
    the autograd graph after every backward to find them: a cost paid only where there are any. The RNG is left
    as it was, so that the run's dropout does not depend on this check."""
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    with torch.random.fork_rng(devices=devices):
        model(**batch).loss.backward()
    unused = [name for name, parameter in model.named_parameters()
              if parameter.requires_grad and parameter.grad is None]
    model.zero_grad(set_to_none=True)
    return unused
