"""Where credentials come from: an argument, then KILN_API_KEY / KILN_BASE_URL, then the file
`kiln login` writes (`$XDG_CONFIG_HOME/kiln/config.json`, by default `~/.config/kiln/`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from kiln_client.errors import ConfigurationError

DEFAULT_BASE_URL = "http://localhost:3001"
API_KEY_ENV = "KILN_API_KEY"
BASE_URL_ENV = "KILN_BASE_URL"


def config_path() -> Path:
    root = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(root) / "kiln" / "config.json"


def read_config() -> dict[str, str]:
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path} is not readable JSON ({exc}): run `kiln login` again") from exc
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def write_config(api_key: str, base_url: str) -> Path:
    """Stores the key readable by its owner only (0600), in a directory only they can list."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Created 0600 before the secret is written, so it is never readable by others, even briefly.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"apiKey": api_key, "baseUrl": base_url}, handle, indent=1)
    os.chmod(path, 0o600)  # an existing file keeps its old mode through O_CREAT
    return path


@dataclass(frozen=True)
class Credentials:
    api_key: str
    base_url: str


def resolve(api_key: str | None = None, base_url: str | None = None) -> Credentials:
    stored = (
        read_config()
        if not (api_key or os.environ.get(API_KEY_ENV)) or not (base_url or os.environ.get(BASE_URL_ENV))
        else {}
    )
    key = api_key or os.environ.get(API_KEY_ENV) or stored.get("apiKey")
    url = base_url or os.environ.get(BASE_URL_ENV) or stored.get("baseUrl") or DEFAULT_BASE_URL
    if not key:
        raise ConfigurationError(
            f"no API key: pass api_key=, set {API_KEY_ENV}, or run `kiln login` (it writes {config_path()})"
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"the base URL must start with http:// or https://, not {url!r}")
    return Credentials(key, url.rstrip("/"))
