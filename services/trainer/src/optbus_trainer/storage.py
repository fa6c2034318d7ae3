"""A model artifact on disk: ``<version>.txt`` (LightGBM text) and ``<version>.json``
(metadata), in a directory the caller names. Reading checks the text against its sha256."""

from __future__ import annotations

from pathlib import Path

import msgspec

from optbus.scoring import ModelError
from optbus_trainer.training import ModelArtifact, ModelMetadata, sha256_text


def write_artifact(artifact: ModelArtifact, directory: Path) -> tuple[Path, Path]:
    """Write the model text and its metadata; returns both paths (text, metadata)."""
    directory.mkdir(parents=True, exist_ok=True)
    version = artifact.metadata.version
    text_path, meta_path = directory / f"{version}.txt", directory / f"{version}.json"
    text_path.write_bytes(artifact.model_text.encode())
    meta_path.write_bytes(msgspec.json.format(msgspec.json.encode(artifact.metadata)) + b"\n")
    return text_path, meta_path


def read_artifact(directory: Path, version: str) -> ModelArtifact:
    """Read a model written by ``write_artifact``; ``ModelError`` if its text was altered."""
    text = (directory / f"{version}.txt").read_bytes().decode()
    meta = msgspec.json.decode((directory / f"{version}.json").read_bytes(), type=ModelMetadata)
    if sha256_text(text) != meta.model_sha256:
        raise ModelError(f"model {version}: {directory / f'{version}.txt'} does not match "
                         f"its sha256 {meta.model_sha256}")  # fmt: skip
    return ModelArtifact(metadata=meta, model_text=text)
