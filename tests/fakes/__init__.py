"""In-memory fakes of the domain's ports, shared by every use-case test.

Each fake keeps the semantics its production adapter documents (conditional writes,
compare-and-swap, revision guards, the domain exceptions the adapters raise), so a service
tested on fakes behaves as it does on DynamoDB, S3 and Step Functions; the handler tests on
moto and the HTTP tests against the local cloud check the adapters themselves.
tests/unit/kiln/domain/test_ports.py checks that every port has a fake here and that each
fake has its port's methods and signatures.
"""

from tests.fakes.access import FakeAccess, FakeUsageKeys
from tests.fakes.authentication import FakeGrants, FakeSessionResolver
from tests.fakes.clock import FakeClock
from tests.fakes.deliveries import FakeDeliveryLog, FakeDeliveryQueue, FakeSubscriptions
from tests.fakes.errors import ConditionFailed
from tests.fakes.generation import (
    QUESTIONS,
    FakeExchange,
    FakeGenerator,
    FakeRepairingGenerator,
    FakeSandbox,
    two_tasks,
)
from tests.fakes.live import FakeConnections, FakeLiveEvents, FakeOutbox, FakeRunFinder
from tests.fakes.oauth import FakeOAuth
from tests.fakes.operations import FakeCatalog, FakeOperations
from tests.fakes.people import FakePeople
from tests.fakes.previews import FakeDeployer, FakeDeployments
from tests.fakes.projects import FakeProjects
from tests.fakes.repository import FakeObjects, FakeRefs, FakeRepositories
from tests.fakes.runs import FakeEvents, FakeRuns, FakeWorkflow
from tests.fakes.sessions import FakeSessions
from tests.fakes.specs import FakeSpecs
from tests.fakes.stats import FakeCounters
from tests.fakes.storage import FakePresigner, FakeSink, FakeStorage
from tests.fakes.webhooks import FakeCustomEvents, FakeSender, FakeWebhooks
from tests.fakes.world import FakeWorld

__all__ = [
    "QUESTIONS",
    "ConditionFailed",
    "FakeAccess",
    "FakeCatalog",
    "FakeClock",
    "FakeConnections",
    "FakeCounters",
    "FakeCustomEvents",
    "FakeDeliveryLog",
    "FakeDeliveryQueue",
    "FakeDeployer",
    "FakeDeployments",
    "FakeEvents",
    "FakeExchange",
    "FakeGenerator",
    "FakeGrants",
    "FakeLiveEvents",
    "FakeOAuth",
    "FakeObjects",
    "FakeOperations",
    "FakeOutbox",
    "FakePeople",
    "FakePresigner",
    "FakeProjects",
    "FakeRefs",
    "FakeRepairingGenerator",
    "FakeRepositories",
    "FakeRunFinder",
    "FakeRuns",
    "FakeSandbox",
    "FakeSender",
    "FakeSessionResolver",
    "FakeSessions",
    "FakeSink",
    "FakeSpecs",
    "FakeStorage",
    "FakeSubscriptions",
    "FakeUsageKeys",
    "FakeWebhooks",
    "FakeWorkflow",
    "FakeWorld",
    "two_tasks",
]
