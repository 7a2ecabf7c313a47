"""A fake Stream Video server for tests (see server.py)."""

from .server import FakeStream, Fault, RecordedRequest, ns

__all__ = ["FakeStream", "Fault", "RecordedRequest", "ns"]
