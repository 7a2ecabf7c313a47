"""A fake Clerk instance for tests: Backend API, Frontend API and a clerk-js stand-in (see server.py)."""

from .server import FRONTEND_API, FakeClerk, Key, clerk_id, publishable_key

__all__ = ["FRONTEND_API", "FakeClerk", "Key", "clerk_id", "publishable_key"]
