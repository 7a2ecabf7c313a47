"""Radix Themes as the pages use it: its components tree-shaken, only Yoom's colour scales in the CSS.

Reflex's plugin names `@radix-ui/themes` as a "bundled library": the app root then imports the whole
package (`import * as …`, for components evaluated at run time, which Yoom has none of), and every page
downloads all of Radix Themes — selects, menus, sliders — some 70 kB gzipped. Without it, each page's
chunk holds the Radix components it renders. The package is still installed: every Radix component
names it as its library.

And Reflex's plugin imports `@radix-ui/themes/styles.css`: every one of Radix's 30 colour scales, in light and
dark, some 130 kB of CSS no page uses. Radix ships the same stylesheet in parts; this imports the base
tokens, the scales in the list, the components and the utilities — what styles.css holds, minus the
other scales.
"""

from __future__ import annotations

from typing import Any

from reflex_components_radix.plugin import RadixThemesPlugin

from yoom.styles import RADIX_COLOR_SCALES

PACKAGE = "@radix-ui/themes"


class RadixThemesWithOwnColours(RadixThemesPlugin):
    def get_frontend_dependencies(self, **context: Any) -> tuple[str, ...]:
        return ()

    def get_stylesheet_paths(self, **context: Any) -> tuple[str, ...]:
        if not self.enabled:
            return ()
        return (
            f"{PACKAGE}/tokens/base.css",
            *(f"{PACKAGE}/tokens/colors/{scale}.css" for scale in RADIX_COLOR_SCALES),
            f"{PACKAGE}/components.css",
            f"{PACKAGE}/utilities.css",
        )
