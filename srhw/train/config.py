"""The training recipe as a dataclass: defaults are the paper's (section 3), after EDSR (Lim et al., 2017)."""

from dataclasses import dataclass, field

from srhw.data import ITERS_PER_EPOCH


@dataclass
class TrainConfig:
    # model
    spec: str = "bl"  # zoo spec, e.g. "bl", "blrn(r=2)"
    scale: int = 2  # x2 from scratch; x3/x4 start from an x2 model (`init`)
    model_args: dict = field(default_factory=dict)  # overrides for srhw.models.build (small test models)
    init: str | None = None  # x2 checkpoint to start x3/x4 from: everything but the upsampler is copied
    # data
    data: str = "T91"  # training set under data_dir; stands in for DIV2K ("DIV2K" selects that layout)
    data_dir: str | None = None  # default: $SRHW_DATA or <repo>/../shared/data
    patch: int = 48  # LR patch side (paper: 48x48 RGB patches of LR images)
    batch: int = 16  # paper: mini-batch size 16
    seed: int = 0  # patches, weight init; sample i of the run depends only on (seed, i)
    # optimisation (paper: ADAM, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, L1 loss)
    lr: float = 1e-4  # paper: "learning rate begins with 1e-4"
    loss: str = "l1"  # paper: L1; "l2" (MSE) for networks whose papers train on MSE (FSRCNN, ESPCN)
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    epochs: int = 300  # paper: 300 epochs ...
    decay_epochs: tuple = (200,)  # ... lr halved at epoch 200
    gamma: float = 0.5  # the halving
    iters_per_epoch: int = ITERS_PER_EPOCH  # EDSR: one epoch = test_every = 1000 iterations (16k patches)
    iters: int | None = None  # total iterations; overrides epochs (decay points scale with it, 200/300)
    # bookkeeping
    out: str = "runs/bl_x2"  # run folder: model.safetensors(+.json), train_state.safetensors, log.csv
    ckpt_every: int = 1000  # iterations between checkpoints (each one also saves the resume state)
    log_every: int = 100  # iterations between CSV rows (mean loss over the window)
    val_every: int = 1000  # iterations between Set5 validations (0: only at the end; <0: never)
    val_set: str = "Set5"
    device: str = "auto"  # "auto" (cuda if available, else cpu), "cpu", "cuda"; bit-exact resume is tested on CPU
    threads: int = 0  # torch CPU threads (0: the cores this process may use, shared among DDP ranks)
    stop_at: int | None = None  # stop after this step as if interrupted (time-boxed jobs, resume tests)

    @property
    def total_iters(self) -> int:
        return self.iters if self.iters is not None else self.epochs * self.iters_per_epoch

    @property
    def milestones(self) -> list[int]:
        """Iterations at which lr is multiplied by gamma: epoch 200/300 of the run, in iterations."""
        return [round(self.total_iters * e / self.epochs) for e in self.decay_epochs]

    def lr_at(self, step: int) -> float:
        """Learning rate of iteration `step` (0-based): step decay (EDSR `MultiStepLR`)."""
        return self.lr * self.gamma ** sum(step >= m for m in self.milestones)
