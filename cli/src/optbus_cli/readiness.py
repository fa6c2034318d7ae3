"""What a command says when the services it started do not get ready or stop: kept apart from
``service_processes`` (which imports the whole pipeline) so that explaining it is cheap."""

from __future__ import annotations


class ServicesNotReady(RuntimeError):
    """A service the command started exited with an error or did not get ready in time: most
    often NATS or the database does not answer it; its log says."""


class ServiceExited(RuntimeError):
    """A service the command started exited with an error while the command ran (a replay, say):
    its log says why, most often NATS or the database no longer answering it."""
