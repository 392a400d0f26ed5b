"""The pitfall pages, installed as package data so ``mfkit rule CODE`` works from a wheel."""
