"""What a command says when the services it started do not get ready: kept apart from
``service_processes`` (which imports the whole pipeline) so that explaining it is cheap."""

from __future__ import annotations


class ServicesNotReady(RuntimeError):
    """A service the command started exited with an error or did not get ready in time: most
    often NATS or the database does not answer it; its log says."""
