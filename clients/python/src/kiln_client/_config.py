"""Where credentials come from: an argument, then KILN_API_KEY / KILN_BASE_URL, then the file
`kiln login` writes (`$XDG_CONFIG_HOME/kiln/config.json`, by default `~/.config/kiln/`): an API
key, or an OAuth grant from `kiln login --browser` whose rotated tokens are saved back to it."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kiln_client._oauth import OAuthTokens
from kiln_client.errors import ConfigurationError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; refreshes are still serialised per process
    fcntl = None  # type: ignore[assignment]

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


def _write(data: dict[str, str]) -> Path:
    """Replaces the config with `data`, readable by its owner only (0600), in a directory only
    they can list. Written to a temporary file then renamed over the old one, so a process
    reading it (another `kiln` refreshing the same grant) never sees half a file."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    # Created 0600 before the secret is written, so it is never readable by others, even briefly.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1)
    os.chmod(partial, 0o600)  # a leftover file of the same name keeps its old mode through O_CREAT
    os.replace(partial, path)
    return path


def write_config(api_key: str, base_url: str) -> Path:
    """Stores an API key (and forgets any OAuth grant stored before: one credential at a time)."""
    return _write({"apiKey": api_key, "baseUrl": base_url})


def write_oauth_config(tokens: OAuthTokens, base_url: str) -> Path:
    """Stores an OAuth grant (and forgets any API key stored before)."""
    return _write(
        {
            "baseUrl": base_url,
            "accessToken": tokens.access_token,
            "refreshToken": tokens.refresh_token,
            "clientId": tokens.client_id,
            "tokenUrl": tokens.token_url,
        }
    )


def stored_tokens(stored: dict[str, str]) -> OAuthTokens | None:
    fields = ("accessToken", "refreshToken", "clientId", "tokenUrl")
    if not all(stored.get(name) for name in fields):
        return None
    return OAuthTokens(stored["accessToken"], stored["refreshToken"], stored["clientId"], stored["tokenUrl"])


class ConfigTokenStore:
    """The config file as a `TokenStore`: a refresh by one `kiln` process is seen by the next,
    and two processes never present the same refresh token (an advisory lock on a file next to
    the config, held around each refresh)."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        path = config_path().with_name("refresh.lock")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def load(self) -> OAuthTokens | None:
        return stored_tokens(read_config())

    def save(self, tokens: OAuthTokens) -> None:
        write_oauth_config(tokens, self._base_url)


@dataclass(frozen=True)
class Credentials:
    """An API key, or an OAuth grant (`oauth`), and the base URL."""

    api_key: str | None
    base_url: str
    oauth: OAuthTokens | None = None
    from_config: bool = False  # the grant came from the config file: refreshes are saved there


def resolve(api_key: str | None = None, base_url: str | None = None, oauth: OAuthTokens | None = None) -> Credentials:
    explicit = api_key or oauth or os.environ.get(API_KEY_ENV)
    stored = read_config() if not explicit or not (base_url or os.environ.get(BASE_URL_ENV)) else {}
    url = base_url or os.environ.get(BASE_URL_ENV) or stored.get("baseUrl") or DEFAULT_BASE_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"the base URL must start with http:// or https://, not {url!r}")
    url = url.rstrip("/")
    if oauth is not None and not api_key:
        return Credentials(None, url, oauth)
    key = api_key or os.environ.get(API_KEY_ENV)
    if key:
        return Credentials(key, url)
    if stored.get("apiKey"):
        return Credentials(stored["apiKey"], url)
    tokens = stored_tokens(stored)
    if tokens is not None:
        return Credentials(None, url, tokens, from_config=True)
    raise ConfigurationError(
        f"no API key: pass api_key=, set {API_KEY_ENV}, or run `kiln login` (it writes {config_path()})"
    )
