"""Signed, opaque list cursors: base64url JSON of a position, bound to the list it came from.

Shared by the HTTP pagination (kiln.http.pagination reads `limit`/`cursor`) and the composition
root (kiln.services wires the codec to the signing key in Secrets Manager), so it belongs to
neither layer. A tampered cursor, or one replayed on another list, is a VALIDATION_ERROR.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiln.envelope import validation_error

_SIGNATURE_BYTES = 16


@dataclass(frozen=True)
class CursorCodec:
    """Encodes a position for one list (its `scope`) and decodes it back, refusing anything else."""

    signing_key: Callable[[], bytes]

    def encode(self, scope: str, position: dict[str, Any]) -> str:
        payload = _b64(json.dumps({"s": _digest(scope), "p": position}, separators=(",", ":")).encode())
        return f"{payload}.{_b64(self._sign(payload))}"

    def decode(self, scope: str, cursor: str) -> dict[str, Any]:
        payload, _, signature = cursor.partition(".")
        try:
            valid = hmac.compare_digest(_unb64(signature), self._sign(payload))
            data = json.loads(_unb64(payload)) if valid else None
        except (ValueError, TypeError):
            data = None
        if not isinstance(data, dict) or data.get("s") != _digest(scope) or not isinstance(data.get("p"), dict):
            raise validation_error(
                [
                    {
                        "field": "cursor",
                        "location": "query",
                        "type": "cursor_invalid",
                        "message": "the cursor is invalid, tampered with, or from another list",
                    }
                ]
            )
        return data["p"]

    def _sign(self, payload: str) -> bytes:
        return hmac.new(self.signing_key(), payload.encode(), hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def _digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
