"""One module per route. Importing this package registers every page with Reflex."""

from yoom.pages import home, meeting, personal_room, previous, recordings, sign_in, upcoming  # noqa: F401
