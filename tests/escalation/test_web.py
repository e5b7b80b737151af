"""The CSR app's own files: its script and stylesheet, and nothing else from the package."""

from __future__ import annotations

from tests.escalation.conftest import CsrApp


def test_static_files_are_the_apps_own(csr_app: CsrApp) -> None:
    client = csr_app.browser("csr1")
    script = client.get("/csr/static/csr.js")
    assert script.status_code == 200 and "data-poll" in script.text
    assert client.get("/csr/static/../web.py").status_code == 404
