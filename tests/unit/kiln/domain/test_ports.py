"""Every port the domain declares has a fake in tests/fakes that fits it.

A port is a `typing.Protocol` in kiln.domain: what a service takes and an adapter (or a fake)
provides. A new port without a fake fails the first test; a port whose methods change fails
the second until its fake follows. The check is structural, as mypy's is, without mypy:
every method and property of the port exists on the fake, and the fake accepts every call
the port allows (same positional parameters in order, same keyword names, a default wherever
the port has one, nothing more that is required).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any, Protocol

import pytest

import kiln.domain
from kiln.domain import git_paths
from kiln.domain.access import AccessRepository, UsageKeys
from kiln.domain.archive_steps import ArchiveLedger, ProjectCatalog, Storage
from kiln.domain.archives import Sink
from kiln.domain.build_steps import BuildLedger
from kiln.domain.generation import Generator, Repairs
from kiln.domain.operations import (
    ArchiveWorkflow,
    ExportSources,
    OperationStore,
    Presigner,
    RunStatusReader,
    SourceResolver,
)
from kiln.domain.projects import ProjectRepository
from kiln.domain.repository import ObjectStore, RefStore
from kiln.domain.runs import EventLog, ProjectReader, RunRepository, WorkflowStarter
from kiln.domain.specs import SpecRepository
from kiln.domain.verification import Sandbox
from tests.fakes import (
    FakeAccess,
    FakeCatalog,
    FakeEvents,
    FakeGenerator,
    FakeObjects,
    FakeOperations,
    FakePresigner,
    FakeProjects,
    FakeRefs,
    FakeRepairingGenerator,
    FakeRuns,
    FakeSandbox,
    FakeSink,
    FakeSpecs,
    FakeStorage,
    FakeUsageKeys,
    FakeWorkflow,
)

FAKES: dict[type, tuple[type, ...]] = {
    ProjectRepository: (FakeProjects,),
    SpecRepository: (FakeSpecs,),
    RunRepository: (FakeRuns,),
    ProjectReader: (FakeRuns,),
    BuildLedger: (FakeRuns,),
    RunStatusReader: (FakeRuns,),
    EventLog: (FakeEvents,),
    WorkflowStarter: (FakeWorkflow,),
    ArchiveWorkflow: (FakeWorkflow,),
    OperationStore: (FakeOperations,),
    ArchiveLedger: (FakeOperations,),
    ProjectCatalog: (FakeCatalog,),
    Presigner: (FakePresigner,),
    Storage: (FakeStorage,),
    Sink: (FakeSink,),
    ObjectStore: (FakeObjects,),
    RefStore: (FakeRefs,),
    AccessRepository: (FakeAccess,),
    UsageKeys: (FakeUsageKeys,),
    Generator: (FakeGenerator, FakeRepairingGenerator),
    Repairs: (FakeRepairingGenerator,),
    Sandbox: (FakeSandbox,),
}

# Protocols the domain implements itself, whose implementations run in tests as they are: a
# strategy inside one module, and the export resolver that works on the repository and run fakes.
IMPLEMENTED_IN_DOMAIN: dict[type, tuple[type, ...]] = {
    git_paths.ContentCheck: (git_paths._GitmodulesCheck, git_paths._GitattributesCheck),
    SourceResolver: (ExportSources,),
}


def domain_protocols() -> set[type]:
    found: set[type] = set()
    for module_info in pkgutil.walk_packages(kiln.domain.__path__, "kiln.domain."):
        module = importlib.import_module(module_info.name)
        for _, value in vars(module).items():
            if (inspect.isclass(value) and value.__module__ == module.__name__
                    and getattr(value, "_is_protocol", False) and value is not Protocol):
                found.add(value)
    return found


def _members(protocol: type) -> dict[str, Any]:
    names: set[str] = set()
    for base in protocol.__mro__:
        if getattr(base, "_is_protocol", False) and base is not Protocol:
            names |= {name for name in vars(base) if not name.startswith("_")}
    return {name: inspect.getattr_static(protocol, name) for name in sorted(names)}


def _callable(member: Any) -> Any:
    return member.__func__ if isinstance(member, staticmethod | classmethod) else member


def _parameters(function: Any) -> list[inspect.Parameter]:
    parameters = list(inspect.signature(function).parameters.values())
    return parameters[1:] if parameters and parameters[0].name in ("self", "cls") else parameters


def signature_problems(protocol: type, fake: type) -> list[str]:
    """How `fake` fails to fit `protocol` structurally; empty when it fits."""
    problems: list[str] = []
    for name, member in _members(protocol).items():
        try:
            mine = inspect.getattr_static(fake, name)
        except AttributeError:
            problems.append(f"{fake.__name__} has no {name}")
            continue
        if isinstance(member, property):
            if callable(_callable(mine)) and not isinstance(mine, property):
                problems.append(f"{fake.__name__}.{name} is a method; {protocol.__name__} has a property")
            continue
        if not callable(_callable(mine)) or isinstance(mine, property):
            problems.append(f"{fake.__name__}.{name} is not a method")
            continue
        problems += [f"{fake.__name__}.{name}: {p}"
                     for p in _call_problems(_parameters(_callable(member)), _parameters(_callable(mine)))]
    return problems


def _call_problems(port: list[inspect.Parameter], fake: list[inspect.Parameter]) -> list[str]:
    P = inspect.Parameter
    problems: list[str] = []
    positional = [p for p in port if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    fake_positional = [p for p in fake if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    takes_args = any(p.kind is P.VAR_POSITIONAL for p in fake)
    takes_kwargs = any(p.kind is P.VAR_KEYWORD for p in fake)
    matched: set[str] = set()
    for index, wanted in enumerate(positional):
        if index >= len(fake_positional):
            if not takes_args:
                problems.append(f"takes no positional parameter {index + 1} ({wanted.name})")
            continue
        given = fake_positional[index]
        matched.add(given.name)
        if wanted.kind is P.POSITIONAL_OR_KEYWORD and (given.name != wanted.name or given.kind is P.POSITIONAL_ONLY):
            problems.append(f"parameter {index + 1} is {given.name!r}, the port's is {wanted.name!r}")
        problems += _default_problems(wanted, given)
    for wanted in (p for p in port if p.kind is P.KEYWORD_ONLY):
        given = next((p for p in fake if p.name == wanted.name and p.kind in (P.KEYWORD_ONLY, P.POSITIONAL_OR_KEYWORD)),
                     None)
        if given is None:
            if not takes_kwargs:
                problems.append(f"takes no keyword {wanted.name!r}")
            continue
        matched.add(given.name)
        problems += _default_problems(wanted, given)
    for extra in fake:
        if extra.name not in matched and extra.kind not in (P.VAR_POSITIONAL, P.VAR_KEYWORD) \
                and extra.default is P.empty:
            problems.append(f"requires {extra.name!r}, which the port does not pass")
    return problems


def _default_problems(wanted: inspect.Parameter, given: inspect.Parameter) -> list[str]:
    if wanted.default is inspect.Parameter.empty:
        return []
    if given.default is inspect.Parameter.empty:
        return [f"{given.name!r} has no default; the port's is {wanted.default!r}"]
    if given.default != wanted.default:
        return [f"{given.name!r} defaults to {given.default!r}; the port's to {wanted.default!r}"]
    return []


# --- the checks -----------------------------------------------------------------------------------

def test_every_port_of_the_domain_has_a_fake():
    ports = domain_protocols()
    assert ports, "no Protocol found in kiln.domain: the discovery is broken"
    missing = sorted(p.__qualname__ for p in ports - set(FAKES) - set(IMPLEMENTED_IN_DOMAIN))
    assert not missing, f"ports without a fake in tests/fakes (add one and list it in FAKES): {missing}"
    stale = sorted(p.__qualname__ for p in (set(FAKES) | set(IMPLEMENTED_IN_DOMAIN)) - ports)
    assert not stale, f"listed here but no longer a Protocol of kiln.domain: {stale}"


@pytest.mark.parametrize("port", sorted({**FAKES, **IMPLEMENTED_IN_DOMAIN}, key=lambda p: p.__qualname__),
                         ids=lambda p: p.__qualname__)
def test_each_fake_fits_its_port(port):
    for implementation in {**FAKES, **IMPLEMENTED_IN_DOMAIN}[port]:
        assert signature_problems(port, implementation) == [], implementation.__name__


def test_runtime_checkable_ports_recognise_their_fakes():
    assert isinstance(FakeRepairingGenerator(), Repairs)
    assert not isinstance(FakeGenerator(), Repairs)  # the built-in kind: repair declines


# --- the check itself fails when it should ----------------------------------------------------------

class _Port(Protocol):
    @property
    def name(self) -> str: ...

    def get(self, ref: str, consistent: bool = False) -> str | None: ...

    def put(self, data: bytes, /, *, limit: int = 10) -> None: ...


class _Fits:
    name = "a fake may hold the property as a plain attribute"

    def get(self, ref: str, consistent: bool = False, trace: bool = False) -> str | None:
        return None

    def put(self, chunk: bytes, limit: int = 10) -> None:
        return None


class _Wrong:
    def name(self) -> str:
        return ""

    def get(self, key: str, consistent: bool = True) -> str | None:
        return None

    def put(self, data: bytes, /, *, limit: int, strict: bool) -> None:
        return None


def test_the_structural_check_accepts_what_fits_and_names_each_misfit():
    assert signature_problems(_Port, _Fits) == []
    assert signature_problems(_Port, _Wrong) == [
        "_Wrong.get: parameter 1 is 'key', the port's is 'ref'",
        "_Wrong.get: 'consistent' defaults to True; the port's to False",
        "_Wrong.name is a method; _Port has a property",
        "_Wrong.put: 'limit' has no default; the port's is 10",
        "_Wrong.put: requires 'strict', which the port does not pass",
    ]
    assert signature_problems(_Port, object) == ["object has no get", "object has no name", "object has no put"]
