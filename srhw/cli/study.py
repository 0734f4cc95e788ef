"""`srhw study`: train and evaluate every row of a paper table under one budget (srhw.eval.study)."""

import json

from srhw.cli.common import DATA_HELP, LEARNING_RATE, add_sets, add_train_set, examples
from srhw.data import DEFAULT_SETS

EXAMPLES = examples("srhw study --table 1 --iters 2000 --out studies/t1",
                    "srhw study --table 2 --scale 2 --only 'bl;blrn(r=2)' --iters 500 --out studies/t2",
                    "srhw study --table 3 --out studies/t3          # from the shipped checkpoints; trains nothing")


def add_arguments(p):
    from srhw.train.config import TrainConfig

    d = TrainConfig()
    p.add_argument("--table", type=int, required=True,
                   help="paper table: 1, 2, 4 or 5; 3 writes the comparison table from the shipped checkpoints "
                        "beside the cited rows (srhw/eval/table3.py; trains nothing)")
    p.add_argument("--iters", type=int, help="training iterations of every row (the budget; not for --table 3)")
    p.add_argument("--out", required=True, help="study folder: run folders + table<N>.md/.json/.png")
    p.add_argument("--data", metavar="ROOT", help=DATA_HELP.format(what="the benchmark sets and the training set"))
    p.add_argument("--scale", type=int, help="only the rows of this scale, 2, 3 or 4 (default: all of the table)")
    add_sets(p, DEFAULT_SETS)
    p.add_argument("--only", help="only these specs, ';'-separated (the reference row is always kept), "
                                  "e.g. 'bl;blrn(r=2)'")
    p.add_argument("--model-args", type=json.loads,
                   help='JSON overrides for every model, e.g. \'{"num_feat": 16}\' (small smoke-test models)')
    p.add_argument("--patch", type=int, default=d.patch, help=f"LR patch size (default {d.patch})")
    p.add_argument("--batch", type=int, default=d.batch, help=f"batch size (default {d.batch})")
    add_train_set(p, d.data)
    p.add_argument("--lr", type=LEARNING_RATE, default=d.lr, help=f"initial learning rate (default {d.lr})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"seed (default {d.seed})")
    p.add_argument("--val-every", type=int, default=d.val_every,
                   help=f"iterations between the trainer's Set5 validations (default {d.val_every}; -1: never)")
    p.add_argument("--device", default="auto", help="auto (cuda if available), cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all cores of this process)")


def run(args) -> int:
    from srhw.eval.study import run as run_

    return run_(args)
