#!/usr/bin/env bash
# Regenerates src/kiln_client/models.py from the API's OpenAPI document (docs/openapi.json).
# Run it when tests/test_models_drift.py fails. The generator is a development tool only, kept
# in its own virtual environment so its dependencies never meet the SDK's.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${KILN_CODEGEN_VENV:-$here/.codegen}"
[ -x "$venv/bin/datamodel-codegen" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet "datamodel-code-generator==0.97.0"; }
out="$here/src/kiln_client/models.py"
# Responses are parsed leniently on unknown fields (extra=allow): a newer server adding a
# field must not break an older client. Fields are snake_case in Python, camelCase on the wire.
"$venv/bin/datamodel-codegen" --input "$repo/docs/openapi.json" --input-file-type openapi --output "$out" \
  --output-model-type pydantic_v2.BaseModel --target-python-version 3.11 \
  --use-standard-collections --use-union-operator --snake-case-field --allow-population-by-field-name \
  --extra-fields allow --use-double-quotes --disable-timestamp --field-constraints --use-schema-description \
  --custom-file-header "# Generated from docs/openapi.json by clients/python/scripts/generate_models.sh: do not edit."
"$repo/.venv/bin/ruff" check --fix --quiet "$out" || true
"$repo/.venv/bin/ruff" format --quiet "$out"
