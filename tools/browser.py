"""Find a Chromium for the browser tests and launch it the same way everywhere.

The tests use Python Playwright with the system Chromium (Debian's `chromium`
package), never a browser downloaded by `playwright install`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

INSTALL_HINT = (
    "no Chromium found: install one with `apt-get install -y chromium` "
    "(or set CHROMIUM=/path/to/chromium)"
)

# Flags for a quiet headless Chromium in a container: no sandbox (root), no GPU,
# and no background traffic of its own, so that offline tests see only page requests.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_CANDIDATES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]


def find_chromium() -> str | None:
    """Return the path of a Chromium executable, or None.

    `CHROMIUM` in the environment wins; then the usual names on PATH.
    """
    env = os.environ.get("CHROMIUM")
    if env and Path(env).is_file():
        return env
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_required() -> bool:
    """True when a missing browser must fail the tests instead of skipping them."""
    return os.environ.get("REQUIRE_BROWSER", "") not in ("", "0", "false", "no")


def is_local_url(url: str) -> bool:
    """True for file:, data:, blob: and loopback http(s) URLs."""
    parsed = urlparse(url)
    if parsed.scheme in ("file", "data", "blob", "about"):
        return True
    return parsed.hostname in ("127.0.0.1", "localhost", "::1")


def block_remote(page_or_context, blocked: list[str]) -> None:
    """Abort every request that leaves the machine and record its URL in `blocked`."""

    def handle(route):
        url = route.request.url
        if is_local_url(url):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page_or_context.route("**/*", handle)
