"""The archive workflow's wiring: archives:start, the bucket's transfer permissions, lifecycle and CORS,
the workers' /tmp, and the binary bodies of the synchronous import."""

from __future__ import annotations

import base64
import json

import pytest

from infra import grants
from infra.lambdas import DEFAULT_EPHEMERAL_STORAGE_MB
from infra.settings import WORKFLOWS_DIR
from kiln.routes import BINARY_MEDIA_TYPES, ROUTES, WORKERS, WORKFLOWS

from .conftest import SYNTHETIC_CORS_ORIGINS, Synth
from .test_builds import (
    ARCHIVE_STARTERS,
    nested_stack_parameters,
    resource_list,
    states_statements,
    task_timeouts,
)
from .test_stack import actions, function_key, functions, role_statements

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

ARCHIVE = next(w for w in WORKFLOWS if w.name == grants.ARCHIVE_WORKFLOW)
WORKERS_BY_HANDLER = {w.handler_ref: w for w in WORKERS}
ROUTES_BY_NAME = {r.name: r for r in ROUTES}
# Routes that mint presigned downloads (GET on an export's or conversion's object).
PRESIGNED_DOWNLOADS = (
    "exports_get",
    "exports_download",
    "exports_current_kiln",
    "conversions_get",
    "conversions_get_legacy",
    "operations_get",
)
# /tmp the import and conversion workers spool an upload of up to 1 GiB to.
SPOOLING_WORKERS = {"archive_import": 2048, "archive_conversion": 2048}
# Lambda rejects a synchronous invocation whose request (the whole API Gateway event) exceeds this.
LAMBDA_SYNC_REQUEST_BYTES = 6 * 1024 * 1024


def machine_of(synth: Synth, workflow) -> tuple[str, dict]:
    """(logical id, properties) of one workflow's state machine in the root stack."""
    [found] = [
        (logical_id, resource["Properties"])
        for logical_id, resource in synth.root["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
        and set(resource["Properties"]["DefinitionSubstitutions"]) == set(workflow.functions)
    ]
    return found


def bucket_props(synth: Synth) -> dict:
    """The data bucket (the one that logs to the access log bucket)."""
    [props] = [
        resource["Properties"]
        for resource in synth.root["Resources"].values()
        if resource["Type"] == "AWS::S3::Bucket" and "LoggingConfiguration" in resource["Properties"]
    ]
    return props


def handler_ref(name: str) -> str:
    return f"kiln.handlers.{name}.handler"


# --- archives:start ---------------------------------------------------------------------------------


def test_the_archive_routes_declare_the_grant() -> None:
    assert {r.name for r in ROUTES if "archives:start" in r.grants} == {
        "exports_create",
        "exports_current_kiln",
        "exports_create_legacy",
        "projects_import",
        "conversions_create",
        "conversions_create_legacy",
    }
    assert not any("archives:start" in w.grants for w in WORKERS), "workers cannot reference the archive machine"


def test_archive_starters_start_the_archive_machine_only(main: Synth) -> None:
    machine_id, _ = machine_of(main, ARCHIVE)
    fns = functions(main)
    for handler in sorted(ARCHIVE_STARTERS):
        stack, _, props = fns[handler]
        statements = states_statements(role_statements(main, stack, props))
        assert [s["Sid"] for s in statements] == ["ArchivesStart"], handler
        [statement] = statements
        assert actions(statements) == {"states:StartExecution"}, handler
        assert resource_list(statement) == ["<StateMachineArchiveArn>"], handler
        assert statement["Effect"] == "Allow" and "Condition" not in statement

        group = next(r.group for r in ROUTES if function_key(r) == handler)
        parameters = nested_stack_parameters(main, group)
        assert parameters["StateMachineArchiveArn"] == {"Ref": machine_id}
        assert "StateMachineArchiveName" not in parameters, "no execution ARNs are granted"

        env = props["Environment"]["Variables"]
        assert env["KILN_STATE_MACHINES"] == {"Ref": "StateMachines"}
        assert (
            f'"{grants.ARCHIVE_WORKFLOW}":"<{machine_id}>"'
            in resource_list({"Resource": parameters["StateMachines"]})[0]
        )
        assert "KILN_BUILD_TASK_CONCURRENCY" not in env, handler


def test_only_route_groups_with_starters_receive_the_archive_machine(main: Synth) -> None:
    for group in {r.group for r in ROUTES}:
        members = [r for r in ROUTES if r.group == group]
        starts = any("archives:start" in r.grants for r in members)
        probes = any("health:check" in r.grants for r in members)
        assert ("StateMachineArchiveArn" in nested_stack_parameters(main, group)) == (starts or probes), group


def test_archive_state_machine_invokes_exactly_its_four_workers(main: Synth) -> None:
    machine_id, machine = machine_of(main, ARCHIVE)
    fns = functions(main)
    worker_ids = {
        WORKERS_BY_HANDLER[h].name: logical_id for h, (_, logical_id, _) in fns.items() if h in WORKERS_BY_HANDLER
    }
    assert sorted(ARCHIVE.functions.values()) == [
        "archive_conversion",
        "archive_export",
        "archive_failure",
        "archive_import",
    ]
    assert machine["DefinitionSubstitutions"] == {
        placeholder: {"Fn::GetAtt": [worker_ids[worker], "Arn"]} for placeholder, worker in ARCHIVE.functions.items()
    }
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False
    definition = json.loads((main.outdir / f"asset.{machine['DefinitionS3Location']['Key']}").read_text())
    assert definition == json.loads((WORKFLOWS_DIR / ARCHIVE.asl_file).read_text())

    role_id = machine["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        s
        for resource in main.root["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]
        for s in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    invoking = [s for s in statements if any(a.startswith("lambda:") for a in actions([s]))]
    assert len(invoking) == 1 and actions(invoking) == {"lambda:InvokeFunction"}
    assert sorted(resource_list(invoking[0])) == sorted(f"<{worker_ids[w]}.Arn>" for w in ARCHIVE.functions.values())
    assert not any(a.startswith("states:") for a in actions(statements)), "the machine starts nothing itself"


def test_archive_task_timeouts_cover_their_workers() -> None:
    definition = json.loads((WORKFLOWS_DIR / ARCHIVE.asl_file).read_text())
    timeouts = task_timeouts(definition["States"])
    assert set(timeouts) == set(ARCHIVE.functions)
    for placeholder, timeout in timeouts.items():
        worker = next(w for w in WORKERS if w.name == ARCHIVE.functions[placeholder])
        assert timeout >= worker.timeout_seconds, placeholder


# --- S3 permissions of the transfers ----------------------------------------------------------------


def test_bucket_write_covers_multipart_uploads_and_their_abort(main: Synth) -> None:
    root_bucket = f"<{bucket_logical_id(main)}.Arn>"
    for handler, (stack, _, props) in functions(main).items():
        by_sid = {s.get("Sid"): s for s in role_statements(main, stack, props)}
        bucket = root_bucket if stack == main.stack.stack_name else "<BucketArn>"  # nested: a stack parameter
        if "BucketWrite" in by_sid:
            assert sorted(actions([by_sid["BucketWrite"]])) == sorted(grants.BUCKET_WRITE_ACTIONS), handler
            assert resource_list(by_sid["BucketWrite"]) == [f"{bucket}/*"], handler
        else:
            granted = actions(list(by_sid.values()))
            assert not {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"} & granted, handler
        if "BucketRead" in by_sid:
            assert actions([by_sid["BucketRead"]]) == {"s3:GetObject"}, handler
            assert resource_list(by_sid["BucketRead"]) == [f"{bucket}/*"], handler
        if {"BucketWrite", "BucketRead"} & set(by_sid):
            # ListBucket: a missing key answers 404 (head, download_to, presigned GETs), not 403.
            assert resource_list(by_sid["BucketList"]) == [bucket], handler
    assert "s3:AbortMultipartUpload" in grants.BUCKET_WRITE_ACTIONS


def bucket_logical_id(synth: Synth) -> str:
    [logical_id] = [
        k
        for k, v in synth.root["Resources"].items()
        if v["Type"] == "AWS::S3::Bucket" and "LoggingConfiguration" in v["Properties"]
    ]
    return logical_id


def test_uploads_create_signs_presigned_posts_and_starts_nothing(main: Synth) -> None:
    stack, _, props = functions(main)[handler_ref("uploads_create")]
    statements = role_statements(main, stack, props)
    granted = actions(statements)
    # The presigned POST is authorized as the signer's own s3:PutObject on the key its policy pins.
    assert "s3:PutObject" in granted
    assert not any(a.startswith("states:") for a in granted)
    assert "KILN_STATE_MACHINES" not in props["Environment"]["Variables"]


@pytest.mark.parametrize("name", PRESIGNED_DOWNLOADS)
def test_presigned_downloads_are_signed_by_a_reader(main: Synth, name: str) -> None:
    route = ROUTES_BY_NAME[name]
    assert "bucket:read" in route.grants or "bucket:write" in route.grants
    stack, _, props = functions(main)[function_key(route)]
    granted = actions(role_statements(main, stack, props))
    assert {"s3:GetObject", "s3:ListBucket"} <= granted
    if route.method == "GET":
        assert not {"s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"} & granted, name


# --- storage: lifecycle and CORS --------------------------------------------------------------------


@pytest.mark.parametrize("prefix,days", [("exports/", 7), ("conversions/", 7), ("uploads/", 1), ("tmp/", 1)])
def test_transient_prefixes_expire(main: Synth, prefix: str, days: int) -> None:
    rules = bucket_props(main)["LifecycleConfiguration"]["Rules"]
    [rule] = [r for r in rules if r.get("Prefix") == prefix]
    assert rule["Status"] == "Enabled"
    assert rule["ExpirationInDays"] == days
    # The bucket is versioned: an expired object leaves a noncurrent version, gone a day later.
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}


def test_versions_and_incomplete_uploads_do_not_linger(main: Synth) -> None:
    props = bucket_props(main)
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert "Prefix" not in rules["abort-incomplete-uploads"]
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert "Prefix" not in rules["expire-noncurrent-versions"]
    assert rules["remove-expired-delete-markers"]["ExpiredObjectDeleteMarker"] is True
    # Project data is never expired by age: only the transient prefixes carry an expiration.
    assert {r.get("Prefix") for r in rules.values() if "ExpirationInDays" in r} == {
        "exports/",
        "conversions/",
        "uploads/",
        "tmp/",
    }


def test_export_retention_matches_the_lifecycle(main: Synth) -> None:
    from kiln.domain.operations import EXPORT_RETENTION

    rules = bucket_props(main)["LifecycleConfiguration"]["Rules"]
    for prefix in ("exports/", "conversions/"):
        [rule] = [r for r in rules if r.get("Prefix") == prefix]
        assert rule["ExpirationInDays"] == EXPORT_RETENTION.days


def test_cors_allows_browser_transfers_from_the_configured_origins(synthetic: Synth) -> None:
    [rule] = bucket_props(synthetic)["CorsConfiguration"]["CorsRules"]
    assert rule["AllowedOrigins"] == list(SYNTHETIC_CORS_ORIGINS)
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "POST"]
    assert "ETag" in rule["ExposedHeaders"] and "Content-Disposition" in rule["ExposedHeaders"]
    assert rule["MaxAge"] > 0


def test_cors_origins_setting() -> None:
    from aws_cdk import App

    from infra.settings import Settings

    def origins(value):
        return Settings.from_context(App(context={"corsAllowedOrigins": value}).node).cors_allowed_origins

    assert Settings.from_context(App().node).cors_allowed_origins == ()
    assert origins("") == () and origins([]) == ()
    assert origins("https://a.example.com, http://localhost:3000") == ("https://a.example.com", "http://localhost:3000")
    assert origins('["https://a.example.com"]') == ("https://a.example.com",)
    assert origins(["https://*.example.com", "https://*.example.com"]) == ("https://*.example.com",)
    assert origins("*") == ("*",)
    for bad in (
        "https://a.example.com/",
        "https://a.example.com/app",
        "a.example.com",
        "ftp://a.example.com",
        "https://",
        "https://a b.example.com",
    ):
        with pytest.raises(ValueError, match="corsAllowedOrigins"):
            origins(bad)
    with pytest.raises(ValueError, match="corsAllowedOrigins"):
        origins("[not json")
    with pytest.raises(ValueError, match="corsAllowedOrigins"):
        origins([1, 2])


# --- workers' /tmp ------------------------------------------------------------------------------------


def test_spooling_workers_get_more_ephemeral_storage(main: Synth) -> None:
    declared = {
        w.name: w.ephemeral_storage_mb for w in WORKERS if w.ephemeral_storage_mb != DEFAULT_EPHEMERAL_STORAGE_MB
    }
    assert declared == SPOOLING_WORKERS
    for handler, (_, _, props) in functions(main).items():
        worker = WORKERS_BY_HANDLER.get(handler)
        if worker is not None and worker.name in SPOOLING_WORKERS:
            assert props["EphemeralStorage"] == {"Size": SPOOLING_WORKERS[worker.name]}, handler
        else:
            assert "EphemeralStorage" not in props, handler  # Lambda's default, 512 MB


def test_spooled_uploads_fit_in_tmp() -> None:
    from kiln.domain.operations import MAX_UPLOAD_BYTES

    for name, size in SPOOLING_WORKERS.items():
        assert size * 1024 * 1024 // 2 >= MAX_UPLOAD_BYTES, f"{name}: /tmp holds the upload with room to spare"


def test_ephemeral_storage_is_checked() -> None:
    from infra.lambdas import FunctionSpec

    assert FunctionSpec(handler="h", description="d", ephemeral_storage_mb=10_240).ephemeral_storage_mb == 10_240
    for bad in (511, 10_241, 0):
        with pytest.raises(ValueError, match="ephemeral storage"):
            FunctionSpec(handler="h", description="d", ephemeral_storage_mb=bad)


# --- the synchronous import -----------------------------------------------------------------------


def test_the_synchronous_import_fits_through_api_gateway_and_lambda(main: Synth) -> None:
    from kiln.domain.operations import SYNC_IMPORT_MAX_BYTES
    from kiln.handlers.projects_import import ARCHIVE_TYPES

    [api] = [r["Properties"] for r in main.root["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    assert api["BinaryMediaTypes"] == list(BINARY_MEDIA_TYPES)
    assert set(ARCHIVE_TYPES) <= set(BINARY_MEDIA_TYPES), "archive bodies reach the function base64-encoded"
    assert SYNC_IMPORT_MAX_BYTES == 4 * 1024 * 1024
    # The largest accepted body, base64-encoded, leaves over 600 KB of the invocation for the rest of the event.
    encoded = len(base64.b64encode(b"\0" * SYNC_IMPORT_MAX_BYTES))
    assert LAMBDA_SYNC_REQUEST_BYTES - encoded > 600_000


# --- construction-time checks (no synthesis) ---------------------------------------------------------


def test_archives_start_needs_the_archive_machine() -> None:
    targets = grants.Targets(table_arn="t", bucket_arn="b", cursor_secret_arn="s")
    with pytest.raises(ValueError, match="archives:start needs the 'archive' state machine"):
        grants.permissions_for(("archives:start",), targets, owner="probe")


def test_archives_start_statement() -> None:
    from aws_cdk import App, Stack

    stack = Stack(App(), "Probe")
    targets = grants.Targets(
        table_arn="t", bucket_arn="b", cursor_secret_arn="s", archive_state_machine_arn="archive-arn"
    )
    [start] = grants.permissions_for(("archives:start",), targets, owner="probe")
    assert start.wildcards == ()
    assert stack.resolve(start.statement.to_statement_json()) == {
        "Sid": "ArchivesStart",
        "Effect": "Allow",
        "Action": "states:StartExecution",
        "Resource": "archive-arn",
    }


def test_the_archive_workflow_name_matches_the_adapter() -> None:
    from kiln.adapters.stepfunctions import ARCHIVE_WORKFLOW

    assert grants.ARCHIVE_WORKFLOW == ARCHIVE_WORKFLOW == ARCHIVE.name
