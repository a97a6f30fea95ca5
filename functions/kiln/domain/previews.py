"""Deploy previews (CONTRACT section 9): a succeeded run's generated service running at a URL
until it expires. No AWS here.

A deployment moves deploying -> live | failed, and live (or deploying) -> stopped, never back:

    POST   /v1/projects/{id}/deploy                      PreviewService.create: the record in
           `deploying` (holding one of the workspace's preview slots), the `preview` workflow started
    the workflow                                         PreviewSteps.create (the provider deploys
           the run's tree), PreviewSteps.wait (until the URL answers: `live`), a Wait until
           `expiresAt`, PreviewSteps.teardown (`stopped`); any failure: teardown as `failed` with
           the reason (the function's state reason, or the process's last output lines)
    DELETE /v1/projects/{id}/deployments/{deploymentId}  PreviewService.stop: `stopped` at once,
           the workflow stopped and a teardown started

Every move out of deploying/live gives the slot back in the same write (the store's `finish`),
so the count of a workspace's previews can never drift from the previews holding one, and a
tier's bound (kiln.tiers.Tier.live_previews) holds however requests and workers interleave.
A worker that finds its deployment already finished tears down what it made instead of going
on: DELETE may come while the provider is still creating the preview.

Generated code never runs with Kiln's permissions: on AWS a preview function runs under a role
that grants nothing; locally it is a process on 127.0.0.1 with a clean environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiln import ids
from kiln.clock import Clock, iso, utc_now
from kiln.domain.projects import Strict
from kiln.domain.repository import Repository
from kiln.envelope import ErrorCode, KilnError, not_found, validation_error

Provider = Literal["aws-lambda", "local"]
PROVIDERS: tuple[str, ...] = ("aws-lambda", "local")
DEFAULT_TTL = timedelta(hours=24)
MAX_REASON_CHARS = 2_000
# The output lines a failed local preview reports (the end of what the process printed).
OUTPUT_LINES = 20


class DeploymentStatus(str, Enum):
    DEPLOYING = "deploying"
    LIVE = "live"
    FAILED = "failed"
    STOPPED = "stopped"


# The states that hold one of the workspace's preview slots.
RUNNING = frozenset({DeploymentStatus.DEPLOYING, DeploymentStatus.LIVE})


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Deployment(_Out):
    """A deploy preview, as stored and as answered."""

    id: str
    projectId: str
    runId: str
    status: DeploymentStatus
    provider: Provider
    url: str | None = Field(default=None, description="Where the preview answers; set once it is live.")
    createdAt: str
    updatedAt: str
    expiresAt: str = Field(description="When the preview tears itself down.")
    stoppedAt: str | None = None
    stopReason: Literal["deleted", "expired"] | None = Field(
        default=None, description="Why a stopped preview stopped: a DELETE, or its expiry."
    )
    failureReason: str | None = Field(
        default=None,
        description="Why it failed: the function's state reason, or the last lines the preview's process printed.",
    )


class DeploymentStarted(_Out):
    """The 202 answer of POST /v1/projects/{projectId}/deploy."""

    deploymentId: str
    status: DeploymentStatus
    provider: Provider
    expiresAt: str


class DeploymentCreate(Strict):
    runId: str = Field(description="The succeeded run whose generated service to deploy.")
    provider: Provider | None = Field(
        default=None,
        description="`aws-lambda` when deployed, `local` in the local cloud (the default is the one offered).",
    )

    @field_validator("runId")
    @classmethod
    def _run_id(cls, value: str) -> str:
        if not ids.is_valid("run", value):
            raise ValueError("runId is not a run id")
        return value


# --- ports ------------------------------------------------------------------------------------


class PreviewLimitReached(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"limit {limit}")
        self.limit = limit


class DeploymentStore(Protocol):
    def create(self, workspace_id: str, deployment: Deployment, limit: int) -> None:
        """Store a new `deploying` deployment and take a preview slot, atomically; raises
        PreviewLimitReached (writing nothing) when `limit` previews already hold one."""
        ...

    def get(self, workspace_id: str, project_id: str, deployment_id: str) -> Deployment | None: ...

    def list(self, workspace_id: str, project_id: str) -> list[Deployment]:
        """The project's deployments, newest first."""
        ...

    def mark_live(self, workspace_id: str, project_id: str, deployment_id: str, url: str, at: str) -> bool:
        """deploying -> live with its URL; False (nothing written) when it is no longer deploying."""
        ...

    def finish(
        self, workspace_id: str, project_id: str, deployment_id: str, status: DeploymentStatus, changes: dict[str, Any]
    ) -> bool:
        """deploying|live -> failed|stopped with `changes`, giving its slot back in the same write;
        False (nothing written) when it had already finished."""
        ...


class PreviewWorkflow(Protocol):
    def start(self, execution_name: str, payload: dict[str, Any]) -> None: ...

    def stop(self, execution_name: str, cause: str) -> None: ...


class RunReader(Protocol):
    def raw(self, workspace_id: str, project_id: str, run_id: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class PreviewSpec:
    """What a provider deploys: the run's generated tree and what to tag it with."""

    deployment_id: str
    workspace_id: str
    project_id: str
    run_id: str
    expires_at: str
    files: dict[str, bytes]


@dataclass(frozen=True)
class Readiness:
    """A provider's look at a deployed preview."""

    state: Literal["ready", "starting", "failed"]
    reason: str = ""


class PreviewDeployer(Protocol):
    def deploy(self, spec: PreviewSpec) -> str:
        """Create (or, on a retry, update) the preview; returns its URL."""
        ...

    def check(self, deployment_id: str, url: str) -> Readiness:
        """Whether the preview answers at `url` yet, or why it never will."""
        ...

    def teardown(self, deployment_id: str) -> None:
        """Remove the preview and everything made for it; nothing to remove is not an error."""
        ...


class PreviewNotReady(Exception):
    """The preview does not answer yet: the workflow retries the wait (its Retry names this class)."""


class PreviewFailed(Exception):
    """The preview will never answer: the workflow records it as failed with this message."""


# --- the API side -------------------------------------------------------------------------------


class PreviewService:
    def __init__(
        self,
        store: DeploymentStore,
        workflow: PreviewWorkflow,
        runs: RunReader,
        clock: Clock = utc_now,
        *,
        ttl: timedelta = DEFAULT_TTL,
        providers: tuple[str, ...] = PROVIDERS,
    ) -> None:
        self._store = store
        self._workflow = workflow
        self._runs = runs
        self._clock = clock
        self._ttl = ttl
        self._providers = providers

    def create(self, workspace_id: str, project_id: str, body: DeploymentCreate, limit: int) -> Deployment:
        provider = body.provider or self._providers[0]
        if provider not in self._providers:
            raise validation_error(
                [
                    {
                        "field": "provider",
                        "location": "body",
                        "type": "provider_unavailable",
                        "message": f"this deployment offers {', '.join(self._providers)} previews",
                    }
                ]
            )
        run = self._runs.raw(workspace_id, project_id, body.runId)
        if run is None:
            raise not_found("run", body.runId)
        commit = run.get("mergeCommit")
        if run.get("status") != "succeeded" or not commit:
            raise KilnError(
                ErrorCode.CONFLICT,
                "Only a succeeded run has a generated service to deploy.",
                {"currentStatus": run.get("status"), "allowedFrom": ["succeeded"]},
            )
        now = self._clock()
        stamp = iso(now)
        deployment = Deployment(
            id=ids.new_id("deployment", int(now.timestamp() * 1000)),
            projectId=project_id,
            runId=body.runId,
            status=DeploymentStatus.DEPLOYING,
            provider=provider,
            createdAt=stamp,
            updatedAt=stamp,
            expiresAt=iso(_whole_second(now + self._ttl)),
        )
        try:
            self._store.create(workspace_id, deployment, limit)
        except PreviewLimitReached as reached:
            raise KilnError(
                ErrorCode.CONCURRENCY_LIMIT_EXCEEDED,
                f"This workspace already has {reached.limit} preview(s) deploying or live, its tier's limit; "
                "delete one or wait for one to expire.",
                {"limit": reached.limit, "resource": "previews", "retryAfterSeconds": 60},
                headers={"Retry-After": "60"},
            ) from None
        try:
            self._workflow.start(deployment.id, _payload(workspace_id, deployment, action="deploy", commit=commit))
        except Exception:
            # Nothing will ever move it on: give the slot back rather than hold it until expiry.
            self._store.finish(
                workspace_id,
                project_id,
                deployment.id,
                DeploymentStatus.FAILED,
                {"failureReason": "the preview workflow could not be started", "updatedAt": stamp},
            )
            raise
        return deployment

    def list(self, workspace_id: str, project_id: str) -> list[Deployment]:
        return self._store.list(workspace_id, project_id)

    def get(self, workspace_id: str, project_id: str, deployment_id: str) -> Deployment:
        found = self._store.get(workspace_id, project_id, deployment_id)
        if found is None:
            raise not_found("deployment", deployment_id)
        return found

    def stop(self, workspace_id: str, project_id: str, deployment_id: str) -> Deployment:
        """Stop a preview now (DELETE): `stopped` at once, its teardown started. A preview that
        already ended answers as it is, so a repeated DELETE changes nothing."""
        deployment = self.get(workspace_id, project_id, deployment_id)
        if deployment.status not in RUNNING:
            return deployment
        stamp = iso(self._clock())
        changes = {"stoppedAt": stamp, "stopReason": "deleted", "updatedAt": stamp}
        if not self._store.finish(workspace_id, project_id, deployment_id, DeploymentStatus.STOPPED, changes):
            return self.get(workspace_id, project_id, deployment_id)  # it ended meanwhile
        # The running execution would otherwise wait until expiresAt; the teardown execution
        # removes the preview whatever state the first one was in.
        self._workflow.stop(deployment.id, "deleted")
        self._workflow.start(f"{deployment.id}-teardown", _payload(workspace_id, deployment, action="teardown"))
        return self.get(workspace_id, project_id, deployment_id)


def _whole_second(moment: datetime) -> datetime:
    """`moment` rounded up to a whole second: the workflow's Wait reads the timestamp at second
    precision (the local interpreter drops the fraction), so it never ends before expiresAt."""
    return moment if not moment.microsecond else moment.replace(microsecond=0) + timedelta(seconds=1)


def _payload(workspace_id: str, deployment: Deployment, *, action: str, commit: str | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "action": action,
        "workspaceId": workspace_id,
        "projectId": deployment.projectId,
        "deploymentId": deployment.id,
        "runId": deployment.runId,
        "provider": deployment.provider,
        "expiresAt": deployment.expiresAt,
    }
    if commit is not None:
        payload["commit"] = commit
    return payload


# --- the workflow's steps -----------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRef:
    workspace_id: str
    project_id: str
    deployment_id: str
    provider: str

    @classmethod
    def of(cls, event: dict[str, Any]) -> PreviewRef:
        return cls(
            str(event["workspaceId"]), str(event["projectId"]), str(event["deploymentId"]), str(event["provider"])
        )


class PreviewSteps:
    """What the `preview` workflow's workers do (kiln.workers.preview_*)."""

    def __init__(
        self,
        store: DeploymentStore,
        deployers: Callable[[str], PreviewDeployer],
        repository: Callable[[str, str], Repository],
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._deployers = deployers
        self._repository = repository
        self._clock = clock

    def create(self, ref: PreviewRef, commit: str) -> dict[str, Any]:
        """Deploy the run's tree; {url}. A deployment stopped meanwhile is not deployed."""
        deployment = self._store.get(ref.workspace_id, ref.project_id, ref.deployment_id)
        if deployment is None or deployment.status is not DeploymentStatus.DEPLOYING:
            return {"url": None, "status": deployment.status.value if deployment else None}
        repository = self._repository(ref.workspace_id, ref.project_id)
        files = {path: repository.read_blob(blob) for path, blob in repository.files(commit).items()}
        deployer = self._deployers(ref.provider)
        url = deployer.deploy(
            PreviewSpec(
                deployment_id=deployment.id,
                workspace_id=ref.workspace_id,
                project_id=ref.project_id,
                run_id=deployment.runId,
                expires_at=deployment.expiresAt,
                files=files,
            )
        )
        return {"url": url, "status": DeploymentStatus.DEPLOYING.value}

    def wait(self, ref: PreviewRef, url: str | None) -> dict[str, Any]:
        """`live` once the URL answers; PreviewNotReady until then (the workflow retries),
        PreviewFailed when it never will. A deployment stopped meanwhile is torn down."""
        deployment = self._store.get(ref.workspace_id, ref.project_id, ref.deployment_id)
        if deployment is None or deployment.status is not DeploymentStatus.DEPLOYING or not url:
            self._deployers(ref.provider).teardown(ref.deployment_id)
            return {"status": deployment.status.value if deployment else None}
        readiness = self._deployers(ref.provider).check(ref.deployment_id, url)
        if readiness.state == "failed":
            raise PreviewFailed(_clip(readiness.reason or "the preview stopped before it answered"))
        if readiness.state != "ready":
            raise PreviewNotReady(_clip(f"the preview does not answer yet: {readiness.reason or 'starting'}"))
        if not self._store.mark_live(ref.workspace_id, ref.project_id, ref.deployment_id, url, iso(self._clock())):
            self._deployers(ref.provider).teardown(ref.deployment_id)  # DELETE came first
            return {"status": "stopped"}
        return {"status": DeploymentStatus.LIVE.value}

    def teardown(self, ref: PreviewRef, reason: str, error: dict[str, Any] | None = None) -> dict[str, Any]:
        """Remove the preview, then record why: `failed` with the error's reason, else `stopped`
        (`expired` or `deleted`). Removing comes first: a record says stopped only once nothing runs."""
        self._deployers(ref.provider).teardown(ref.deployment_id)
        stamp = iso(self._clock())
        if error is not None:
            changes: dict[str, Any] = {"failureReason": failure_reason(error), "updatedAt": stamp}
            finished = self._store.finish(
                ref.workspace_id, ref.project_id, ref.deployment_id, DeploymentStatus.FAILED, changes
            )
            return {"status": DeploymentStatus.FAILED.value if finished else "unchanged"}
        changes = {"stoppedAt": stamp, "stopReason": reason, "updatedAt": stamp}
        finished = self._store.finish(
            ref.workspace_id, ref.project_id, ref.deployment_id, DeploymentStatus.STOPPED, changes
        )
        return {"status": DeploymentStatus.STOPPED.value if finished else "unchanged"}


def failure_reason(error: dict[str, Any]) -> str:
    """The message of a Step Functions Catch result {Error, Cause}: the worker's own message
    (the Cause is the Lambda error document), else the error's name."""
    name = str(error.get("Error") or "States.TaskFailed")
    cause = error.get("Cause") or ""
    message = str(cause)
    try:
        document = json.loads(cause)
        if isinstance(document, dict):
            message = str(document.get("errorMessage") or cause)
    except (TypeError, ValueError):
        pass
    return _clip(message or name)


def tail(text: str, lines: int = OUTPUT_LINES) -> str:
    """The last `lines` non-empty lines of a process's output."""
    kept = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(kept)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON_CHARS else "…" + text[-(MAX_REASON_CHARS - 1) :]
