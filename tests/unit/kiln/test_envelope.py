from kiln.envelope import CATALOG, ErrorCode, error_body, error_headers


def test_catalog_covers_every_code_with_contract_statuses():
    expected = {
        "UNAUTHORIZED": 401,
        "FORBIDDEN": 403,
        "NOT_FOUND": 404,
        "ENDPOINT_NOT_FOUND": 404,
        "METHOD_NOT_ALLOWED": 405,
        "VALIDATION_ERROR": 400,
        "CONFLICT": 409,
        "IDEMPOTENCY_KEY_IN_USE": 409,
        "IDEMPOTENCY_KEY_REUSED": 422,
        "PAYLOAD_TOO_LARGE": 413,
        "UNSUPPORTED_MEDIA_TYPE": 415,
        "INVALID_ARCHIVE": 422,
        "TOO_MANY_REQUESTS": 429,
        "RATE_LIMIT_EXCEEDED": 429,
        "USAGE_LIMIT_EXCEEDED": 429,
        "CONCURRENCY_LIMIT_EXCEEDED": 429,
        "INTERNAL_ERROR": 500,
        "SERVICE_UNAVAILABLE": 503,
    }
    assert {code.value: spec.status for code, spec in CATALOG.items()} == expected


def test_error_body_shape():
    assert error_body(ErrorCode.CONFLICT, details={"a": 1}) == {
        "success": False,
        "data": None,
        "error": {"code": "CONFLICT", "message": CATALOG[ErrorCode.CONFLICT].title, "details": {"a": 1}},
    }


def test_challenges():
    assert error_headers(ErrorCode.UNAUTHORIZED)["WWW-Authenticate"].startswith("Bearer")
    forbidden = error_headers(ErrorCode.FORBIDDEN, "project:write")["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in forbidden and 'scope="project:write"' in forbidden
