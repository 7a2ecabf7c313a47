"""Where a sign-in may send the browser afterwards: Yoom's own pages, nothing else (no open redirect)."""

import pytest

from yoom.state.base import safe_next_path


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/upcoming",
        "/previous/",
        "/recordings",
        "/personal-room",
        "/meeting/1f0e6a3c-2b1d-4c4e-9f00-0123456789ab",
        "/meeting/Xy_9-abc?personal=true",
    ],
)
def test_yoom_pages_are_followed(path):
    assert safe_next_path(path) == path


@pytest.mark.parametrize(
    "hostile",
    [
        None,
        "",
        42,
        ["/upcoming"],
        "//evil.example",
        "/\t/evil.example",  # `next=/%09/evil.example`: browsers drop the tab, leaving //evil.example
        "/%09/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
        "/ /evil.example",
        "https://evil.example/",
        "/meeting/abc/../../evil",
        "/meeting/abc?next=//evil.example",
        "/meeting/abc#//evil.example",
        "/sign-in",
        "/upcoming\x00",
        "/unknown-page",
        "/meeting/" + "a" * 65,
        "/upcoming?" + "a" * 400,
        "javascript:alert(1)",
    ],
)
def test_anything_else_goes_home(hostile):
    assert safe_next_path(hostile) == "/"
