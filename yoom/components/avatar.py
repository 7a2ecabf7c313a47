import reflex as rx

from yoom import styles


def user_avatar(name: rx.Var, image: rx.Var, initials: rx.Var, size: str = "3") -> rx.Component:
    """The person's picture, or their initials on Yoom's accent when they have none."""
    return rx.avatar(
        src=image,
        fallback=initials,
        size=size,
        radius="full",
        alt=name,
        color_scheme="blue",
        variant="solid",
        style={"background_color": styles.ACCENT, "& .rt-AvatarFallback": {"background_color": styles.ACCENT}},
    )
