"""Regenerate `stream_spec.json`: the part of Stream's OpenAPI description that the fake serves.

Maintainer tool, never run by the tests (they must pass without the source file). Usage:

    .venv/bin/python tests/fakestream/extract_spec.py path/to/video-serverside-api.json

The source is Stream's published `openapi/v2/video-serverside-api.json` (GetStream/protocol). Only the
operations Yoom's StreamProvider calls are kept, with every schema they reference; prose fields
(description, title, x-stream-index) are dropped to keep the copy small.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OPERATIONS = {
    "/api/v2/users": ["post"],
    "/api/v2/video/call/{type}/{id}": ["get", "post"],
    "/api/v2/video/call/{type}/{id}/members": ["post"],
    "/api/v2/video/call/{type}/{id}/mark_ended": ["post"],
    "/api/v2/video/call/{type}/{id}/delete": ["post"],
    "/api/v2/video/call/{type}/{id}/recordings": ["get"],
    "/api/v2/video/call/{type}/{id}/kick": ["post"],
    "/api/v2/video/call/{type}/{id}/block": ["post"],
    "/api/v2/video/call/{type}/{id}/unblock": ["post"],
    "/api/v2/video/call/{type}/{id}/mute_users": ["post"],
    "/api/v2/video/calls": ["post"],
    "/api/v2/video/calltypes": ["post"],
    "/api/v2/video/calltypes/{name}": ["get", "put"],
}
DROP = {"description", "title", "x-stream-index", "summary", "tags"}


def _strip(node):
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if k not in DROP}
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _collect(node, schemas, out):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            if name not in out:
                out[name] = None
                out[name] = _strip(schemas[name])
                _collect(schemas[name], schemas, out)
        for value in node.values():
            _collect(value, schemas, out)
    elif isinstance(node, list):
        for value in node:
            _collect(value, schemas, out)


def main(source: str) -> None:
    spec = json.loads(Path(source).read_text())
    schemas = spec["components"]["schemas"]
    paths: dict = {}
    for path, methods in OPERATIONS.items():
        paths[path] = {m: _strip(spec["paths"][path][m]) for m in methods}
    picked: dict = {}
    _collect(paths, schemas, picked)
    subset = {
        "info": {
            "source": "GetStream/protocol openapi/v2/video-serverside-api.json",
            "version": spec["info"].get("version"),
            "note": "subset for tests/fakestream; regenerate with extract_spec.py",
        },
        "paths": paths,
        "components": {"schemas": dict(sorted(picked.items()))},
    }
    out = Path(__file__).with_name("stream_spec.json")
    out.write_text(json.dumps(subset, indent=1, sort_keys=True) + "\n")
    print(f"wrote {out} ({len(picked)} schemas, {out.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
