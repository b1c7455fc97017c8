"""The spec is the source of truth: served unchanged, valid 3.1, viewable offline, and
the generated models are in step with it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import yaml
from openapi_spec_validator import validate

from tests.live import ROOT

SPEC_FILE = ROOT / "spec" / "openapi.yaml"


def test_served_spec_equals_the_file_and_is_valid_31(client: httpx.Client):
    resp = client.get("/openapi.json")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    served = resp.json()
    assert served == yaml.safe_load(SPEC_FILE.read_text())
    assert served["openapi"].startswith("3.1.")
    validate(served)


def test_every_operation_is_documented(client: httpx.Client):
    spec = client.get("/openapi.json").json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            assert op["operationId"].startswith("handlers."), where
            assert op.get("summary") and op.get("tags"), where
            assert "500" in op["responses"], where
            assert "400" in op["responses"], where  # unknown query parameters, at least
            if op.get("security", spec["security"]):
                assert "401" in op["responses"], where
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                assert {"413", "415"} <= set(op["responses"]), where
                schema = body["schema"]
                if "$ref" in schema:
                    name = schema["$ref"].rsplit("/", 1)[1]
                    schema = spec["components"]["schemas"][name]
                assert schema.get("additionalProperties") is False, where


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href|spec-url)="([^"]+)"', html) + re.findall(
        r'url: "([^"]+)"', html
    )


def test_swagger_ui_and_redoc_render_from_local_assets(client: httpx.Client):
    for page, marker in (("/docs", "SwaggerUIBundle"), ("/redoc", "<redoc")):
        resp = client.get(page)
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/html")
        assert marker in resp.text
        assets = _assets(resp.text)
        assert assets
        for asset in assets:
            assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
            assert client.get(asset).status_code == 200, asset
    bundle = client.get("/static/swagger-ui/swagger-ui-bundle.js").text
    assert 'version:"5.' in bundle or "5.32" in bundle  # Swagger UI 5 renders OpenAPI 3.1
    assert client.get("/static/../core/settings.py").status_code == 404
    missing = client.get("/static/nope.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["type"] == "https://platos.dev/problems/not-found"


def test_generated_models_are_not_stale():
    result = subprocess.run(
        [sys.executable, "scripts/codegen.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_codegen_check_detects_drift(tmp_path: Path):
    work = tmp_path / "repo"
    for part in ("spec", "generated", "scripts"):
        shutil.copytree(ROOT / part, work / part)
    spec = (work / "spec" / "openapi.yaml").read_text()
    (work / "spec" / "openapi.yaml").write_text(
        spec.replace(
            "    Health:\n      type: object\n",
            "    Health:\n      type: object\n      description: drifted\n",
        )
    )
    result = subprocess.run(
        [sys.executable, "scripts/codegen.py", "--check"], cwd=work, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "drifted" in result.stdout
