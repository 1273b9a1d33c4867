"""Completion backends: the embedded local model and any OpenAI-compatible endpoint."""
from utils.backends.base import Backend, BackendConfig, BackendError, Generation, GenParams, get_backend

__all__ = ["Backend", "BackendConfig", "BackendError", "Generation", "GenParams", "get_backend"]
