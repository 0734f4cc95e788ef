"""The one Adam step loop: the paper's training (srhw.train.loop) and the quantization stages (INT8 QAT,
the ternary StrassenNets stages: srhw.quant.qat.finetune) both run `steps`.

Paper (section 3): ADAM with beta1 = 0.9, beta2 = 0.999, eps = 1e-8, L1 loss. The caller keeps its own
bookkeeping (checkpoints, log, validation, resume) around the iterations this yields.
"""

import time

import torch
import torch.nn.functional as F


def adam(params, lr: float, betas=(0.9, 0.999), eps: float = 1e-8) -> torch.optim.Adam:
    """The paper's optimiser."""
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=eps)


def steps(net, optimizer, batch_of, start: int, stop: int, lr_at=None, loss=F.l1_loss):
    """Iterations start .. stop-1: lr = lr_at(step) when given, (LR, HR) = batch_of(step), loss(net(LR), HR),
    one optimiser step. Yields (iterations done, loss value, seconds of this iteration)."""
    for step in range(start, stop):
        t0 = time.perf_counter()
        if lr_at is not None:
            lr = lr_at(step)
            for g in optimizer.param_groups:
                g["lr"] = lr
        lr_b, hr_b = batch_of(step)
        value = loss(net(lr_b), hr_b)
        optimizer.zero_grad(set_to_none=True)
        value.backward()
        optimizer.step()
        yield step + 1, value.item(), time.perf_counter() - t0  # .item() syncs a GPU: the time is honest
