"""Adapters by name, out-of-tree adapters through entry points, and the one-gateway rule."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from gp4u.kit.clock import SystemClock
from gp4u.providers.interface import ProviderAdapter
from gp4u.providers.registry import BUILTIN, adapter_class, adapter_targets, build_providers
from gp4u.settings import Settings

SRC = Path(__file__).resolve().parents[2] / "src" / "gp4u"


def test_every_builtin_adapter_loads() -> None:
    for name in BUILTIN:
        assert issubclass(adapter_class(name), ProviderAdapter), name


def test_an_out_of_tree_adapter_registers_through_an_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "acme_gpus.py").write_text(
        "from gp4u.providers.base import ParseReport\n"
        "from gp4u.providers.interface import Capabilities, Capability, ProviderAdapter\n"
        "class AcmeAdapter(ProviderAdapter):\n"
        "    def capabilities(self):\n"
        "        return Capabilities.of(Capability.OFFERS, launch='acme sells no machines')\n"
        "    async def list_offers(self):\n"
        "        return ParseReport()\n"
    )
    dist = tmp_path / "acme_gpus-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-gpus\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[gp4u.providers]\nacme = acme_gpus:AcmeAdapter\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert adapter_targets()["acme"] == "acme_gpus:AcmeAdapter"
    providers = build_providers(Settings(providers="acme,local", catalog_url=None), SystemClock())
    assert set(providers.adapters) == {"acme", "local"}
    reason = providers.adapters["acme"].capabilities().reason
    assert reason("launch") == "acme sells no machines"
    sys.modules.pop("acme_gpus", None)


def test_a_missing_key_disables_only_what_needs_it() -> None:
    providers = build_providers(
        Settings(providers="vastai,runpod,lambda,tensordock,akash", catalog_url=None), SystemClock()
    )
    for name in ("vastai", "runpod", "lambda", "tensordock"):
        reason = providers.adapters[name].capabilities().reason
        assert "no API key" in (reason("launch") or ""), name
    assert "no API key" in (providers.adapters["lambda"].capabilities().reason("offers") or "")
    assert providers.adapters["vastai"].capabilities().reason("offers") is None


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


HTTP_CLIENTS = {"httpx", "requests", "aiohttp", "urllib3", "pycurl"}


def test_only_the_gateway_imports_an_http_client() -> None:
    allowed = {
        SRC / "providers" / "gateway.py",
        SRC / "cli" / "remote.py",  # the CLI talking to a GP4U server, not to a provider
    }
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path not in allowed
        and SRC / "agent" not in path.parents  # the node agent calls GP4U, never a provider
        and HTTP_CLIENTS & _imports(path)
    ]
    assert offenders == []
    urllib = [
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if "urllib.request" in p.read_text()
    ]
    assert urllib == []
