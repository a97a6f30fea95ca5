"""Lambda adapter: deploy previews as Lambda functions with a public function URL.

Each preview is one function named `<prefix><deploymentId>`, running the generated service's
Lambda adapter (`app/lambda_handler.py`, emitted by the generator) under the one preview role,
which grants nothing: the generated code can reach neither Kiln's table nor its bucket nor any
other AWS API with its credentials. The preview workers' own role may create, update and
delete only functions with the prefix and pass only that role (infra/grants.py,
`previews:deploy`), so nothing a build writes can widen what Kiln may do.

Calls made, each one the grant allows: CreateFunction (UpdateFunctionCode when a retried step
finds it made), TagResource (tags go with CreateFunction), CreateFunctionUrlConfig (after
DeleteFunctionUrlConfig when a retried step finds one), AddPermission (twice: function URLs
created since October 2025 need both `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction`
for public access), GetFunction (its state) and DeleteFunction (which removes the URL too).
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from kiln.adapters.aws import client
from kiln.domain.previews import PreviewSpec, Readiness

RUNTIME = "python3.12"
HANDLER = "app.lambda_handler.handler"  # the generated service's adapter (builtin templates)
MEMORY_MB = 256
TIMEOUT_SECONDS = 10
PROBE_TIMEOUT_SECONDS = 5
# Tag keys: what a look at the account's functions needs to tell whose preview it is and when
# it should be gone (the workflow tears it down then; the tag is for people and audits).
TAG_PROJECT = "kiln:project"
TAG_RUN = "kiln:run"
TAG_EXPIRES = "kiln:expires-at"
TAG_DEPLOYMENT = "kiln:deployment"

Probe = Callable[[str], int | None]


def probe(url: str) -> int | None:
    """The HTTP status `url` answers a GET with (any status), or None when nothing answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, method="GET"), timeout=PROBE_TIMEOUT_SECONDS) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def package(files: dict[str, bytes]) -> bytes:
    """The tree as a zip archive, the deployment package CreateFunction takes inline."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16  # readable by the runtime's user
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[path])
    return buffer.getvalue()


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class LambdaPreviewDeployer:
    """kiln.domain.previews.PreviewDeployer for the `aws-lambda` provider."""

    def __init__(self, prefix: str, role_arn: str, probe: Probe = probe) -> None:
        self._prefix = prefix
        self._role_arn = role_arn
        self._probe = probe

    def function_name(self, deployment_id: str) -> str:
        return f"{self._prefix}{deployment_id}"

    def deploy(self, spec: PreviewSpec) -> str:
        lam = client("lambda")
        name = self.function_name(spec.deployment_id)
        code = package(spec.files)
        try:
            lam.create_function(
                FunctionName=name,
                Runtime=RUNTIME,
                Role=self._role_arn,
                Handler=HANDLER,
                Code={"ZipFile": code},
                Description=f"Kiln deploy preview {spec.deployment_id} of run {spec.run_id}",
                Timeout=TIMEOUT_SECONDS,
                MemorySize=MEMORY_MB,
                Tags={
                    TAG_PROJECT: spec.project_id,
                    TAG_RUN: spec.run_id,
                    TAG_EXPIRES: spec.expires_at,
                    TAG_DEPLOYMENT: spec.deployment_id,
                },
            )
        except ClientError as error:
            if _code(error) != "ResourceConflictException":
                raise
            # A retried step: the function exists (ours: the name holds the deployment id).
            lam.update_function_code(FunctionName=name, ZipFile=code)
        url = self._url(lam, name)
        for statement, action, extra in (
            ("preview-url", "lambda:InvokeFunctionUrl", {"FunctionUrlAuthType": "NONE"}),
            ("preview-invoke", "lambda:InvokeFunction", {"InvokedViaFunctionUrl": True}),
        ):
            try:
                lam.add_permission(FunctionName=name, StatementId=statement, Action=action, Principal="*", **extra)
            except ClientError as error:
                if _code(error) != "ResourceConflictException":  # added by an earlier attempt
                    raise
        return url

    @staticmethod
    def _url(lam: Any, name: str) -> str:
        try:
            return str(lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"])
        except ClientError as error:
            if _code(error) != "ResourceConflictException":
                raise
        # A retried step made one already; the grant has no GetFunctionUrlConfig, so make it again.
        lam.delete_function_url_config(FunctionName=name)
        return str(lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"])

    def check(self, deployment_id: str, url: str) -> Readiness:
        try:
            configuration = client("lambda").get_function(FunctionName=self.function_name(deployment_id))[
                "Configuration"
            ]
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                return Readiness("failed", "the preview function no longer exists")
            raise
        state = configuration.get("State", "Active")
        if state == "Failed":
            reason = configuration.get("StateReason") or "the function failed to become active"
            return Readiness("failed", f"{configuration.get('StateReasonCode', 'Failed')}: {reason}")
        if state != "Active":
            return Readiness("starting", f"function state {state}")
        status = self._probe(url)
        # 403: the URL's permissions have not propagated yet; 5xx: Lambda could not run the
        # handler (yet). Anything else is the generated service answering, 404s included.
        if status is None or status == 403 or status >= 500:
            return Readiness("starting", f"the URL answered {status}" if status else "the URL does not answer")
        return Readiness("ready")

    def teardown(self, deployment_id: str) -> None:
        try:
            client("lambda").delete_function(FunctionName=self.function_name(deployment_id))
        except ClientError as error:
            if _code(error) != "ResourceNotFoundException":
                raise
