"""`srbench train RECIPE --data DIR --iters N --out DIR [--resume]`."""
from __future__ import annotations

import argparse

NAME = "train"
HELP = "train a method's network with its paper's recipe (checkpoints resume; DDP under torchrun)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", help="training recipe, e.g. srresnet, srgan, msfm-mse, msfm-gan "
                                       "(`srbench train --list` shows all)", nargs="?")
    parser.add_argument("--list", action="store_true", help="list the training recipes and exit")
    parser.add_argument("--data", action="append", default=[], metavar="DIR|NAME",
                        help="folder of HR training images (or a dataset folder with HR/), or a dataset name "
                             "such as T91 found under --data-root / $SRBENCH_DATA like `srbench run` does; repeatable")
    parser.add_argument("--data-root", default=None,
                        help="folder holding <Name>/ dataset folders (default: $SRBENCH_DATA)")
    parser.add_argument("--iters", type=int, default=1000, help="train up to this step (absolute)")
    parser.add_argument("--out", help="output folder: checkpoint.pt, log.csv, generator_fp16.pth")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    parser.add_argument("--batch-size", type=int, help="patches per step (default: the paper's)")
    parser.add_argument("--patch", type=int, dest="hr_patch", help="HR patch side (default: the paper's)")
    parser.add_argument("--lr", type=float, help="learning rate (default: the paper's)")
    parser.add_argument("--degradation", help="LR degradation (default: the paper's)")
    parser.add_argument("--init", help="generator weights to start from (e.g. the MSE-pretrained generator)")
    parser.add_argument("--vgg-weights", help="VGG state_dict file (torchvision's) for perceptual losses")
    parser.add_argument("--random-vgg", action="store_true",
                        help="use a randomly initialised VGG when its weights are missing (not the paper's loss)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="recipe-specific option (see the recipe's docstring); repeatable")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, help="torch CPU threads")
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--ckpt-every", type=int, default=100)


def _options(pairs: list[str]) -> dict:
    from ..errors import UserError

    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise UserError(f"--option '{pair}': expected KEY=VALUE")
        for cast in (int, float):
            try:
                value = cast(value)
                break
            except ValueError:
                continue
        out[key] = value
    return out


def run(args) -> int:
    import torch

    from ..errors import UserError
    from ..train.loop import create_recipe, train  # noqa: F401
    from ..train.recipe import RECIPES, TrainConfig

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.list or not args.recipe:
        from ..methods import discover_methods

        discover_methods()
        for name in RECIPES.names():
            cls = RECIPES.factory(name)
            print(f"{name:18s} {cls.description}")
        return 0
    if not args.data:
        raise UserError("--data DIR is required (HR training images)")
    if not args.out:
        raise UserError("--out DIR is required")
    config = TrainConfig(hr_patch=args.hr_patch, batch_size=args.batch_size, lr=args.lr,
                         degradation=args.degradation, init=args.init, vgg_weights=args.vgg_weights,
                         random_vgg=args.random_vgg, device=args.device, seed=args.seed,
                         options=_options(args.option))
    from ..train.data import resolve_training_data

    data = [resolve_training_data(d, args.data_root) for d in args.data]
    train(args.recipe, data, args.iters, args.out, config, resume=args.resume,
          log_every=args.log_every, ckpt_every=args.ckpt_every)
    return 0
