"""Runs in LLaMA-Factory's venv (tests/support/llamafactory.py): the status each path gets
from LLaMA-Factory's own API app, built as `llamafactory-cli api` builds it, under the
environment a rendered API pod has. No model is loaded: /v1/models answers without one.

    python -P lfapiroutes.py ANSWER.json REQUEST.json
REQUEST: [{"env": {NAME: VALUE}, "paths": [PATH, ...]}, ...]; ANSWER: [{PATH: STATUS}, ...].
"""

import json
import os
import sys


def main() -> None:
    answer, request = sys.argv[1], sys.argv[2]
    with open(request) as handle:
        cases = json.load(handle)
    from llamafactory.api.app import create_app
    from starlette.testclient import TestClient

    results = []
    for case in cases:
        for name in ("FASTAPI_ROOT_PATH", "API_KEY"):
            os.environ.pop(name, None)
        os.environ.update(case["env"])
        # Without `with`, the client starts no lifespan: the chat model is never touched.
        client = TestClient(create_app(chat_model=None))
        results.append({path: client.get(path).status_code for path in case["paths"]})
    with open(answer, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    main()
