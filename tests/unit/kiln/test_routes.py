"""The route table is the single declaration of the API: keep it consistent."""

import importlib

import pytest

from kiln.routes import GRANTS, ROUTES, WORKERS, find_route, match_path, resources


def test_every_route_is_unique_and_has_a_handler_module():
    assert len({(r.method, r.path) for r in ROUTES}) == len(ROUTES)
    for route in ROUTES + WORKERS:  # type: ignore[operator]
        module, _, attribute = route.handler_ref.rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute))


# Key management is open to every key of a workspace: what a key may create, rotate or
# revoke is bounded by its own scopes, allow-list and lifetime (kiln.domain.access), so these
# routes need a principal but no particular scope.
ANY_KEY = frozenset({"api_keys_create", "api_keys_list", "api_keys_revoke", "api_keys_rotate"})
# A person's own session: only its cookie opens it, whatever the person's scopes.
ANY_KEY |= {"sessions_current_get", "sessions_current_delete"}


def test_authorized_routes_declare_scopes_and_grants_are_known():
    for route in ROUTES:
        if route.handler in ANY_KEY:
            assert route.authorized and not route.scopes, route
        else:
            assert bool(route.scopes) == route.authorized, route
        assert set(route.grants) <= set(GRANTS), route
    for worker in WORKERS:
        assert set(worker.grants) <= set(GRANTS)


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/v1/projects", "/v1/projects"),
        ("/v1/projects/proj_x", "/v1/projects/{projectId}"),
        ("/health", "/health"),
        ("/", "/"),
    ],
)
def test_match_path(path, expected):
    assert {r.path for r, _ in match_path(path)} == {expected}


def test_unknown_paths_match_nothing():
    assert match_path("/v1/nope") == []
    assert match_path("/v1/projects/a/b/c") == []


def test_find_route_and_resources():
    assert find_route("GET", "/v1/projects/{projectId}").handler == "projects_get"
    assert find_route("PUT", "/v1/projects/{projectId}") is None
    assert sorted(r.method for r in resources()["/v1/projects/{projectId}"]) == ["DELETE", "GET", "PATCH"]
