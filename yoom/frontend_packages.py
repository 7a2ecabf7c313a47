"""npm packages a build must always install, whether or not this build's pages use them.

Reflex writes the packages of each build into reflex.lock/ (committed). A package that only some modes use
(Clerk's SDK, in Clerk mode) would otherwise come and go from the lock with every build in the other mode.
Installed is not bundled: a page downloads only what it imports.
"""

CLERK_REACT = "@clerk/clerk-react"
CLERK_REACT_VERSION = "5.61.11"
CLERK_REACT_PINNED = f"{CLERK_REACT}@{CLERK_REACT_VERSION}"

ALWAYS_INSTALLED = [CLERK_REACT_PINNED]
