"""What the two files endpoints share: the `ref` parameter and the path error.

The repository at a ref comes from the domain (kiln.domain.files), which handlers reach through
the composition root: the HTTP layer never reaches into it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from kiln.domain.repository import MAX_REF_LENGTH, validate_ref
from kiln.envelope import validation_error

Ref = Annotated[str, StringConstraints(min_length=1, max_length=MAX_REF_LENGTH), AfterValidator(validate_ref)]


def path_error(message: str, kind: str, location: str) -> Exception:
    return validation_error([{"field": "path", "location": location, "message": message, "type": kind}])
