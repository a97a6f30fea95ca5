"""ProjectService rules with an in-memory repository (no AWS)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiln.domain.projects import (
    ALLOWED_FROM,
    ProjectCreate,
    ProjectService,
    ProjectStatus,
    ProjectUpdate,
)
from kiln.envelope import KilnError
from tests.fakes import FakeClock, FakeProjects


@pytest.fixture
def service() -> ProjectService:
    return ProjectService(FakeProjects(), FakeClock())


def test_create_stamps_times_and_draft(service):
    project = service.create("ws", ProjectCreate(name="A", description="B"))
    assert project.status is ProjectStatus.DRAFT
    assert project.createdAt == "2026-11-25T12:00:00.001Z"


def test_update_refreshes_updated_at_only(service):
    project = service.create("ws", ProjectCreate(name="A", description="B"))
    updated = service.update("ws", project.id, ProjectUpdate(description="C"))
    assert (updated.name, updated.description) == ("A", "C")
    assert updated.createdAt == project.createdAt and updated.updatedAt > project.updatedAt


def test_archived_projects_cannot_be_edited(service):
    project = service.create("ws", ProjectCreate(name="A", description="B"))
    service.archive("ws", project.id)
    with pytest.raises(KilnError) as caught:
        service.update("ws", project.id, ProjectUpdate(name="X"))
    assert caught.value.details["currentStatus"] == "archived"


def test_archive_twice_keeps_first_archived_at(service):
    project = service.create("ws", ProjectCreate(name="A", description="B"))
    first = service.archive("ws", project.id)
    assert service.archive("ws", project.id).archivedAt == first.archivedAt


def test_workspaces_do_not_see_each_other(service):
    project = service.create("ws-a", ProjectCreate(name="A", description="B"))
    with pytest.raises(KilnError) as caught:
        service.get("ws-b", project.id)
    assert caught.value.code.value == "NOT_FOUND"


def test_every_status_but_archived_can_be_archived():
    assert ALLOWED_FROM[ProjectStatus.ARCHIVED] == frozenset(ProjectStatus) - {ProjectStatus.ARCHIVED}
    assert all(ProjectStatus.ARCHIVED not in sources for sources in ALLOWED_FROM.values())


@settings(max_examples=60, deadline=None)
@given(name=st.text(max_size=250))
def test_create_accepts_exactly_the_documented_names(name):
    stripped = name.strip()
    try:
        model = ProjectCreate(name=name, description="d")
    except ValueError:
        controls = any(unicodedata.category(ch) == "Cc" for ch in stripped)
        assert not stripped or len(stripped) > 200 or controls
    else:
        assert model.name == stripped and 1 <= len(model.name) <= 200
