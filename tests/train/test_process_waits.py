"""The other processes wait for the main one's decisions and its export on a CPU group with a timeout of its
own: 2 gloo processes. This module imports little, as each spawned process imports it again."""

from __future__ import annotations

import os
import socket
import time

import torch.multiprocessing

from newsbrief.train.processes import MainProcessWait

TIMEOUT_SECONDS = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _process(rank: int, port: int, results) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE="2", LOCAL_WORLD_SIZE="2", ACCELERATE_USE_CPU="true")
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    waits = MainProcessWait(accelerator, timeout_minutes=TIMEOUT_SECONDS / 60)
    # Each process would decide otherwise on its own; both take the main process's word.
    results[f"decision {rank}"] = waits.decision(rank == 0)
    # Then the main process exports for longer than the others may wait.
    if accelerator.is_main_process:
        time.sleep(3 * TIMEOUT_SECONDS)
    started = time.perf_counter()
    try:
        waits.barrier()
        results[f"export {rank}"] = "waited"
    except RuntimeError as error:
        results[f"export {rank}"] = (str(error), time.perf_counter() - started)


def test_the_processes_take_the_main_ones_decision_and_wait_for_its_export_no_longer_than_the_timeout():
    with torch.multiprocessing.Manager() as manager:
        shared = manager.dict()
        torch.multiprocessing.spawn(_process, args=(_free_port(), shared), nprocs=2)
        results = dict(shared)
    assert results["decision 0"] is results["decision 1"] is True
    message, waited = results["export 1"]
    assert "train.main_process_timeout_minutes" in message
    assert TIMEOUT_SECONDS <= waited < 3 * TIMEOUT_SECONDS
