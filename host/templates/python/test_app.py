"""Tests {{name}}.wasm in push-host's sandbox, with no server: each test
runs `push-host call --json` (set PUSH_HOST if push-host is not on PATH).
Build first (./build.sh), then: python3 -m unittest
"""

import json
import os
import subprocess
import unittest

PUSH_HOST = os.environ.get("PUSH_HOST", "push-host")
HERE = os.path.dirname(os.path.abspath(__file__))


def call(*args):
    """The exit status and the transcript of one request."""
    module = os.path.join(HERE, "{{name}}.wasm")
    run = subprocess.run(
        [PUSH_HOST, "call", "--module", module, "--json", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode, json.loads(run.stdout)


class HandlerTest(unittest.TestCase):
    def test_promises_then_pushes_the_stylesheet(self):
        code, t = call("/")
        self.assertEqual(code, 0, t)
        self.assertEqual([p["path"] for p in t["promises"]], ["/style.css"])
        self.assertIn("Hello from {{name}}", t["response"]["body"])
        self.assertIn("rebeccapurple", t["pushes"][0]["response"]["body"])

    def test_without_push_the_page_is_still_sent(self):
        code, t = call("--no-push", "/")
        self.assertEqual(code, 0, t)
        self.assertEqual(t["promises"], [])
        self.assertIn("Hello from {{name}}", t["response"]["body"])


if __name__ == "__main__":
    unittest.main()
