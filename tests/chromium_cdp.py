"""Headless Chromium driven over the DevTools protocol on a pipe (no port, no network, no extra package).

Used by the report tests to ask the browser which fonts it really drew a node's text with
(`CSS.getPlatformFontsForNode`): a Chinese string drawn without a CJK font shows boxes (tofu), and the only
reliable witness of that is the font the renderer picked.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--hide-scrollbars", "--window-size=1300,1800",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--remote-debugging-pipe",  # only loopback
]  # fmt: skip


class Chromium:
    """One browser, one page; `call(method, **params)` sends a DevTools command to the page and waits."""

    def __init__(self, binary: str, profile: Path, timeout: float = 60):
        self.timeout = timeout
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def plumb() -> None:  # the protocol pipes are the child's fds 3 (commands) and 4 (replies)
            commands, replies = os.dup(to_browser_read), os.dup(from_browser_write)  # neither can be 3 or 4 now
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        # close_fds=False: fds 3 and 4, made in the child, must survive until exec (our own fds are not inherited)
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            close_fds=False, preexec_fn=plumb, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.session: str | None = None

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.kill()
        self.process.wait(timeout=30)
        os.close(self._to_browser)
        os.close(self._from_browser)

    def _send(self, method: str, params: dict[str, Any], session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        return self._next_id

    def _receive(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, browser: bool = False, **params: Any) -> dict[str, Any]:
        wanted = self._send(method, params, None if browser else self.session)
        deadline = time.monotonic() + self.timeout
        while True:
            message = self._receive(deadline)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open(self, url: str) -> None:
        """Open `url` in a new page and attach to it."""
        target = self.call("Target.createTarget", browser=True, url=url)["targetId"]
        self.session = self.call("Target.attachToTarget", browser=True, targetId=target, flatten=True)["sessionId"]
        self.call("DOM.enable")
        self.call("CSS.enable")

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60) -> Any:
        """Poll a JavaScript expression until it is truthy (e.g. every chart drawn)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        raise TimeoutError(f"never true: {expression}")

    def fonts_of(self, selector: str, attempts: int = 5) -> list[tuple[str, str, int]]:
        """For each node matching `selector`: (its text, a family the renderer drew it with, glyphs drawn).

        plotly redraws parts of a chart after load (responsive layout): a node gone between two calls makes
        the whole look-up start again."""
        for attempt in range(attempts):
            try:
                return self._fonts_of(selector)
            except RuntimeError as error:
                if "node" not in str(error).lower() or attempt == attempts - 1:
                    raise
                time.sleep(1)
        return []

    def _fonts_of(self, selector: str) -> list[tuple[str, str, int]]:
        root = self.call("DOM.getDocument", depth=0)["root"]["nodeId"]
        found = []
        for node in self.call("DOM.querySelectorAll", nodeId=root, selector=selector)["nodeIds"]:
            handle = self.call("DOM.resolveNode", nodeId=node)["object"]["objectId"]
            text_of = "function() { return this.textContent; }"
            content = self.call(
                "Runtime.callFunctionOn", objectId=handle, functionDeclaration=text_of, returnByValue=True
            )["result"]["value"]
            for font in self.call("CSS.getPlatformFontsForNode", nodeId=node)["fonts"]:
                found.append((content, font["familyName"], int(font["glyphCount"])))
        return found
