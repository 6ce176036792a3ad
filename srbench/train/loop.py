"""The generic training loop: data, resume, CSV log, atomic checkpoints, DDP.

Single process unless WORLD_SIZE > 1 (then launched by `torchrun`: one process per GPU, DistributedDataParallel,
each rank drawing its own patches). Every step is reproducible from (seed, step): the batch comes from
`recipe.make_sampler(...).batch(step, rank)`, a pure function of seed, step and rank, and torch's global RNG
is reseeded per step, so a run resumed from a checkpoint takes exactly the steps an uninterrupted run would
have taken (the checkpoint holds networks, optimisers and schedules).
"""
from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path

import torch

from ..atomic import atomic_write
from ..errors import UserError
from .recipe import RECIPES, TrainConfig, TrainRecipe

CHECKPOINT = "checkpoint.pt"
GENERATOR = "generator_fp16.pth"
LOG = "log.csv"


def create_recipe(name: str, config: TrainConfig) -> TrainRecipe:
    from ..methods import discover_methods

    discover_methods()   # method folders register their recipes on import
    return RECIPES.factory(name)(config)


def save_checkpoint(path: Path, recipe: TrainRecipe, step: int) -> None:
    buffer = io.BytesIO()
    torch.save({"step": step, "recipe": recipe.name, "state": recipe.state_dict()}, buffer)
    atomic_write(path, buffer.getvalue())


def load_checkpoint(path: Path, recipe: TrainRecipe) -> int:
    try:
        ckpt = torch.load(str(path), map_location=recipe.device, weights_only=True)
    except Exception as exc:  # a truncated or foreign file
        raise UserError(f"{path}: not a readable srbench checkpoint ({str(exc).splitlines()[0][:120]})") from None
    if ckpt.get("recipe") != recipe.name:
        raise UserError(f"{path}: checkpoint of recipe '{ckpt.get('recipe')}', not '{recipe.name}'")
    recipe.load_state_dict(ckpt["state"])
    return int(ckpt["step"])


def export_generator(recipe: TrainRecipe, path: Path) -> None:
    """The generator's state_dict (the recipe's selected one, `exported_state`) with floating tensors in fp16
    (small enough to commit)."""
    state = {k: v.half() if v.is_floating_point() else v for k, v in recipe.exported_state().items()}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write(path, buffer.getvalue())


class CsvLog:
    """Append-only CSV of per-step losses; on resume, rows after the resumed step are dropped."""

    def __init__(self, path: Path, resume_step: int):
        self.path = path
        self.rows = []
        if resume_step and path.is_file():
            with open(path, newline="") as fh:
                self.rows = [r for r in csv.DictReader(fh) if int(r["step"]) <= resume_step]
        self.fields: list[str] | None = list(self.rows[0].keys()) if self.rows else None
        self._rewrite()

    def _rewrite(self) -> None:
        buffer = io.StringIO()
        if self.fields:
            writer = csv.DictWriter(buffer, fieldnames=self.fields)
            writer.writeheader()
            writer.writerows(self.rows)
        atomic_write(self.path, buffer.getvalue().encode())

    def add(self, row: dict) -> None:
        if self.fields is None:
            self.fields = list(row.keys())
            self._rewrite()
        with open(self.path, "a", newline="") as fh:
            csv.DictWriter(fh, fieldnames=self.fields, extrasaction="ignore").writerow(row)


def _distributed() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 0, 1
    import torch.distributed as dist

    local = int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
    return dist.get_rank(), local, world


def train(recipe_name: str, data: list[str], iters: int, out: str | os.PathLike, config: TrainConfig | None = None,
          resume: bool = False, log_every: int = 10, ckpt_every: int = 100, max_images: int | None = None,
          progress=print) -> TrainRecipe:
    """Run `recipe_name` up to step `iters` (absolute: resuming at step k runs k..iters-1)."""
    config = config or TrainConfig()
    rank, local, world = _distributed()
    if world > 1 and torch.cuda.is_available():
        config.device = f"cuda:{local}"
    out = Path(out)
    ckpt_path = out / CHECKPOINT
    if ckpt_path.exists() and not resume:
        raise UserError(f"{ckpt_path}: a checkpoint exists; pass --resume to continue it or choose another --out")
    recipe = create_recipe(recipe_name, config)
    cfg = recipe.config
    sampler = recipe.make_sampler(data, max_images=max_images)
    start = load_checkpoint(ckpt_path, recipe) if resume and ckpt_path.exists() else 0
    if start and config.lr is not None:   # an explicit --lr on resume overrides the saved one
        for opt in recipe.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = config.lr
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        recipe.distribute(lambda m: DDP(m, device_ids=[local] if recipe.device.type == "cuda" else None))
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        meta = {"recipe": recipe.name, "method": recipe.method, "data": [str(d) for d in data],
                "images": len(sampler.pairs), "skipped_small_images": sampler.skipped, "world_size": world,
                "config": {k: v for k, v in vars(cfg).items()},
                "vgg": getattr(recipe, "vgg_identity", None), "torch": torch.__version__}
        atomic_write(out / f"run-{start}.json", json.dumps(meta, indent=1, default=str).encode())
        log = CsvLog(out / LOG, start)
    t0 = time.time()
    for step in range(start, iters):
        torch.manual_seed(cfg.seed * 1_000_003 + step)
        batch = {k: v.to(recipe.device) for k, v in sampler.batch(step, rank).items()}
        values = recipe.step(batch)
        if rank == 0:
            log.add({"step": step + 1, "seconds": round(time.time() - t0, 3), **{k: f"{v:.6g}" for k, v in values.items()}})
            if progress and ((step + 1) % log_every == 0 or step + 1 == iters):
                progress(f"{recipe.name} step {step + 1}/{iters} " +
                         " ".join(f"{k}={v:.4g}" for k, v in values.items()))
            if (step + 1) % ckpt_every == 0 or step + 1 == iters:
                save_checkpoint(ckpt_path, recipe, step + 1)
                export_generator(recipe, out / GENERATOR)
    if rank == 0 and start >= iters:
        export_generator(recipe, out / GENERATOR)
    return recipe
