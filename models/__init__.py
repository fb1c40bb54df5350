"""Generators: the protocol, the embedded CPPN, BigGAN and their acceleration."""

from models.base import Generator
from models.errors import GeneratorError, UnknownCategoryError

__all__ = ["Generator", "GeneratorError", "UnknownCategoryError"]
