"""One module per route. Importing this package registers every page with Reflex."""

from yoom.pages import home, meeting, personal_room, previous, recordings, sign_in, upcoming

__all__ = ["home", "meeting", "personal_room", "previous", "recordings", "sign_in", "upcoming"]
