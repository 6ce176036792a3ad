"""Shared training machinery: patch data (data.py), VGG features (vgg.py), losses (losses.py), recipes
(recipe.py) and the loop with checkpoints, CSV log and DDP (loop.py). `srbench train` drives it."""
from .recipe import RECIPES, AdversarialRecipe, PixelRecipe, TrainConfig, TrainRecipe, register_recipe, unwrap

__all__ = ["RECIPES", "AdversarialRecipe", "PixelRecipe", "TrainConfig", "TrainRecipe", "register_recipe", "unwrap"]
