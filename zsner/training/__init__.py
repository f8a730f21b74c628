"""Recipes, the training loop, checkpoints and prediction."""
