"""Design tokens: every colour, size and font the pages use comes from here."""

# White text on the accent (buttons, the active link, avatars) meets WCAG AA (4.5:1): #0A6CE0 gives 4.96.
ACCENT = "#0A6CE0"
ACCENT_HOVER = "#0B63CE"
# The accent as text on the dark backgrounds (links): 6.8:1 on DARK_1.
ACCENT_TEXT = "#6BA8FF"
DARK_1 = "#1C1F2E"  # sidebar, navbar, cards
DARK_2 = "#161925"  # page background
DARK_3 = "#252A41"  # inputs, hovered items
DARK_4 = "#1E2757"  # highlighted panels
TEXT = "#FFFFFF"
TEXT_MUTED = "#C9DDFF"
DANGER = "#C8364F"  # white on it: 5.1:1
DANGER_HOVER = "#A82A41"
DANGER_TEXT = "#FF8A9B"  # red words on the dark backgrounds
SUCCESS = "#22C55E"
CONTROL = "#19232D"  # in-call control buttons
CONTROL_HOVER = "#4C535B"

# The home page's action cards, deep enough for their white text (AA, 4.5:1 and more).
CARD_COLORS = {
    "new": "#C2410C",
    "join": ACCENT_HOVER,  # one shade deeper: it stays above 4.5:1 under a dialog's overlay too
    "schedule": "#830EF9",
    "recordings": "#A16207",
}

# The same tokens as CSS custom properties, for stylesheets under assets/ (the meeting room's):
# `var(--yoom-accent)` and so on. Written into every page's <head> by yoom/yoom.py.
CSS_VARIABLES = {
    "--yoom-accent": ACCENT,
    "--yoom-accent-hover": ACCENT_HOVER,
    "--yoom-accent-text": ACCENT_TEXT,
    "--yoom-dark-1": DARK_1,
    "--yoom-dark-2": DARK_2,
    "--yoom-dark-3": DARK_3,
    "--yoom-dark-4": DARK_4,
    "--yoom-text": TEXT,
    "--yoom-text-muted": TEXT_MUTED,
    "--yoom-danger": DANGER,
    "--yoom-success": SUCCESS,
    "--yoom-control": CONTROL,
    "--yoom-control-hover": CONTROL_HOVER,
    "--yoom-overlay": "rgba(22, 25, 37, 0.85)",  # DARK_2, see-through: notices over video
    "--yoom-scrim": "rgba(0, 0, 0, 0.55)",  # name labels on video
    "--yoom-radius": "14px",
}


def root_css() -> str:
    """`:root { --yoom-…: …; }` for the page head."""
    return ":root{" + "".join(f"{name}:{value};" for name, value in CSS_VARIABLES.items()) + "}"


# Read by screen readers, not drawn: a heading the layout shows by other means, a live region.
visually_hidden = {
    "position": "absolute",
    "width": "1px",
    "height": "1px",
    "overflow": "hidden",
    "clip": "rect(0 0 0 0)",
    "white_space": "nowrap",
}

# The Radix colour scales the pages use (each is some 20 kB of CSS): the gray and the accent's own gray
# (slate, for blue), the accent, and the color_scheme values in the components (red, green). A
# color_scheme outside this list would show no colour: add its scale here.
RADIX_COLOR_SCALES = ("gray", "slate", "blue", "red", "green")

NAVBAR_HEIGHT = "72px"
SIDEBAR_WIDTH = ["0", "0", "88px", "264px"]  # phone, tablet, laptop, desktop
RADIUS = CSS_VARIABLES["--yoom-radius"]
FONT = "'Plus Jakarta Sans', Inter, system-ui, -apple-system, 'Segoe UI', sans-serif"

base_style = {
    "font_family": FONT,
    "background_color": DARK_2,
    "color": TEXT,
}

page_padding = {"padding_x": ["1rem", "1.5rem", "2rem", "2.5rem"], "padding_y": "1.5rem"}

button_primary = {
    "background_color": ACCENT,
    "color": TEXT,
    "_hover": {"background_color": ACCENT_HOVER},
    "cursor": "pointer",
}
button_danger = {
    "background_color": DANGER,
    "color": TEXT,
    "_hover": {"background_color": DANGER_HOVER},
    "cursor": "pointer",
}
button_dark = {"background_color": DARK_3, "color": TEXT, "_hover": {"background_color": DARK_4}, "cursor": "pointer"}

input_style = {"background_color": DARK_3, "border": "none", "color": TEXT}

hero_background = (
    "linear-gradient(135deg, rgba(14,120,249,0.55) 0%, rgba(131,14,249,0.35) 55%, rgba(22,25,37,0.9) 100%), " + DARK_1
)
