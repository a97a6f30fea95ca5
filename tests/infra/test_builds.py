"""The build workflow's wiring: its state machine and workers, builds:control, and the variables they read."""

from __future__ import annotations

import json

import pytest

from infra import grants
from infra.route_group import group_stack_id
from infra.settings import WORKFLOWS_DIR
from infra.workflows import (
    DECOMPOSE_WORKER,
    SANDBOX_ENVIRONMENT,
    VERIFY_TIMEOUT_MARGIN_SECONDS,
    VERIFY_WORKER,
    worker_environment,
)
from kiln.routes import AUTHORIZER_HANDLER, METHOD_NOT_ALLOWED_HANDLER, ROUTES, WORKERS, WORKFLOWS

from .conftest import Synth
from .test_stack import actions, function_key, functions, join, role_statements

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]

BUILD = next(w for w in WORKFLOWS if w.name == grants.BUILD_WORKFLOW)
CONTROLLERS = {r.handler_ref for r in ROUTES if "builds:control" in r.grants}
# archives:start (tests/infra/test_archives.py): StartExecution on the archive state machine only.
ARCHIVE_STARTERS = {function_key(r) for r in ROUTES if "archives:start" in r.grants}
# previews:control (tests/infra/test_previews.py): the preview state machine.
PREVIEW_CONTROLLERS = {function_key(r) for r in ROUTES if "previews:control" in r.grants}
STATE_MACHINE_READERS = (
    CONTROLLERS | ARCHIVE_STARTERS | PREVIEW_CONTROLLERS | {r.handler_ref for r in ROUTES if "health:check" in r.grants}
)
WORKERS_BY_HANDLER = {w.handler_ref: w for w in WORKERS}
SANDBOX = next(w for w in WORKERS if w.sandbox)


def build_machine(synth: Synth) -> tuple[str, dict]:
    """(logical id, properties) of the build state machine in the root stack."""
    [found] = [
        (logical_id, resource["Properties"])
        for logical_id, resource in synth.root["Resources"].items()
        if resource["Type"] == "AWS::StepFunctions::StateMachine"
        and set(resource["Properties"]["DefinitionSubstitutions"]) == set(BUILD.functions)
    ]
    return found


def nested_stack_parameters(synth: Synth, group: str) -> dict:
    """The parameters the root stack passes to one route group's nested stack."""
    prefix = f"{group_stack_id(group)}NestedStack"
    [props] = [
        resource["Properties"]
        for logical_id, resource in synth.root["Resources"].items()
        if resource["Type"] == "AWS::CloudFormation::Stack" and logical_id.startswith(prefix)
    ]
    return props.get("Parameters", {})


def states_statements(statements: list[dict]) -> list[dict]:
    return [s for s in statements if any(a.startswith("states:") for a in actions([s]))]


def resource_list(statement: dict) -> list[str]:
    value = statement["Resource"]
    return [join(r) for r in ([value] if isinstance(value, (str, dict)) else value)]


# --- builds:control -------------------------------------------------------------------------------


def test_the_run_routes_declare_the_grant() -> None:
    assert {h.removeprefix("kiln.handlers.").removesuffix(".handler") for h in CONTROLLERS} == {
        "runs_create",
        "runs_cancel",
        "runs_retry",
    }
    assert not any("builds:control" in w.grants for w in WORKERS), "workers cannot reference the build machine"


def test_build_controllers_start_the_build_machine_and_stop_its_executions(main: Synth) -> None:
    machine_id, _ = build_machine(main)
    fns = functions(main)
    for handler in sorted(CONTROLLERS):
        stack, _, props = fns[handler]
        statements = states_statements(role_statements(main, stack, props))
        assert actions(statements) == {"states:StartExecution", "states:StopExecution"}, handler
        by_sid = {s["Sid"]: s for s in statements}
        assert set(by_sid) == {"BuildsStart", "BuildsStop"}, handler
        assert actions([by_sid["BuildsStart"]]) == {"states:StartExecution"}
        assert resource_list(by_sid["BuildsStart"]) == ["<StateMachineBuildArn>"], handler
        assert actions([by_sid["BuildsStop"]]) == {"states:StopExecution"}
        assert resource_list(by_sid["BuildsStop"]) == [
            "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<StateMachineBuildName>:*"
        ], handler
        assert all("Condition" not in s and s["Effect"] == "Allow" for s in statements)

        # The nested stack's parameters are the build state machine of the root stack, nothing else.
        group = next(r.group for r in ROUTES if function_key(r) == handler)
        parameters = nested_stack_parameters(main, group)
        assert parameters["StateMachineBuildArn"] == {"Ref": machine_id}
        assert parameters["StateMachineBuildName"] == {"Fn::GetAtt": [machine_id, "Name"]}


def test_no_other_function_may_touch_step_functions(main: Synth) -> None:
    assert not CONTROLLERS & ARCHIVE_STARTERS
    for handler, (stack, _, props) in functions(main).items():
        if handler in CONTROLLERS:
            continue
        granted = actions(states_statements(role_statements(main, stack, props)))
        route = next((r for r in ROUTES if function_key(r) == handler), None)
        if handler in ARCHIVE_STARTERS:
            assert granted == {"states:StartExecution"}, handler  # on the archive machine: test_archives.py
        elif handler in PREVIEW_CONTROLLERS:
            assert granted == {"states:StartExecution", "states:StopExecution"}, handler  # test_previews.py
        elif route is not None and "health:check" in route.grants:
            assert granted == {"states:DescribeStateMachine"}, handler  # the health probe, read-only
        else:
            assert granted == set(), handler


def test_only_route_groups_with_controllers_receive_the_build_machine(main: Synth) -> None:
    for group in {r.group for r in ROUTES}:
        parameters = nested_stack_parameters(main, group)
        controls = any("builds:control" in r.grants for r in ROUTES if r.group == group)
        assert ("StateMachineBuildName" in parameters) == controls, group
        probes = any("health:check" in r.grants for r in ROUTES if r.group == group)
        assert ("StateMachineBuildArn" in parameters) == (controls or probes), group


# --- the build state machine and its workers -------------------------------------------------------


def test_build_state_machine_invokes_exactly_its_six_workers(main: Synth) -> None:
    machine_id, machine = build_machine(main)
    fns = functions(main)
    worker_ids = {
        WORKERS_BY_HANDLER[h].name: logical_id for h, (_, logical_id, _) in fns.items() if h in WORKERS_BY_HANDLER
    }
    assert len(BUILD.functions) == 6
    assert machine["DefinitionSubstitutions"] == {
        placeholder: {"Fn::GetAtt": [worker_ids[worker], "Arn"]} for placeholder, worker in BUILD.functions.items()
    }
    assert machine["StateMachineType"] == "STANDARD"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False

    # The definition is the ASL file (an S3 asset), placeholders (also inside the nested Map
    # states) left to CloudFormation's DefinitionSubstitutions.
    definition = json.loads((main.outdir / f"asset.{machine['DefinitionS3Location']['Key']}").read_text())
    assert definition == json.loads((WORKFLOWS_DIR / BUILD.asl_file).read_text())
    inner = definition["States"]["ExecuteWaves"]["ItemProcessor"]["States"]["ExecuteWave"]
    assert inner["ItemProcessor"]["States"]["ExecuteTask"]["Parameters"]["FunctionName"] == "${TaskFunctionArn}"
    repair = definition["States"]["Repair"]["ItemProcessor"]["States"]["RepairTask"]
    assert repair["Parameters"]["FunctionName"] == "${RepairFunctionArn}"

    # Its role invokes those six functions (unqualified ARNs, as the ASL names them) and nothing else in Lambda.
    role_id = machine["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        s
        for resource in main.root["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": role_id} in resource["Properties"]["Roles"]
        for s in resource["Properties"]["PolicyDocument"]["Statement"]
    ]
    invoking = [s for s in statements if any(a.startswith("lambda:") for a in actions([s]))]
    assert actions(invoking) == {"lambda:InvokeFunction"}
    assert sorted(resource_list(invoking[0])) == sorted(f"<{worker_ids[w]}.Arn>" for w in BUILD.functions.values())
    assert len(invoking) == 1


def task_timeouts(states: dict) -> dict[str, int]:
    """Placeholder -> TimeoutSeconds of every Task state, Map item processors included."""
    out: dict[str, int] = {}
    for state in states.values():
        if state["Type"] == "Task":
            out[state["Parameters"]["FunctionName"].strip("${}")] = state["TimeoutSeconds"]
        if "ItemProcessor" in state:
            out.update(task_timeouts(state["ItemProcessor"]["States"]))
    return out


def test_workers_match_the_route_table(main: Synth) -> None:
    fns = functions(main)
    for worker in WORKERS:
        stack, _, props = fns[worker.handler_ref]
        assert stack == main.stack.stack_name, "workers live in the root stack, next to the state machines"
        assert props["Timeout"] == worker.timeout_seconds, worker.name
        assert props["MemorySize"] == worker.memory_mb, worker.name
        # The sandbox cannot reach X-Ray (tests/infra/test_sandbox.py); every other worker is traced.
        assert props.get("TracingConfig") == (None if worker.sandbox else {"Mode": "Active"}), worker.name
    # A Task state never gives up on a worker before the worker's own timeout.
    definition = json.loads((WORKFLOWS_DIR / BUILD.asl_file).read_text())
    for placeholder, timeout in task_timeouts(definition["States"]).items():
        worker = next(w for w in WORKERS if w.name == BUILD.functions[placeholder])
        assert timeout >= worker.timeout_seconds, placeholder


# --- environment --------------------------------------------------------------------------------------


def test_build_variables_only_where_they_are_read(main: Synth) -> None:
    machine_id, _ = build_machine(main)
    for handler, (stack, _, props) in functions(main).items():
        env = props["Environment"]["Variables"]
        assert ("KILN_STATE_MACHINES" in env) == (handler in STATE_MACHINE_READERS), handler
        if handler in CONTROLLERS:
            assert env["KILN_STATE_MACHINES"] == {"Ref": "StateMachines"}
            assert env["KILN_BUILD_TASK_CONCURRENCY"] == "4"
            group = next(r.group for r in ROUTES if function_key(r) == handler)
            machines = join(nested_stack_parameters(main, group)["StateMachines"])
            assert f'"{grants.BUILD_WORKFLOW}":"<{machine_id}>"' in machines, machines
        else:
            assert "KILN_BUILD_TASK_CONCURRENCY" not in env, handler
        worker = WORKERS_BY_HANDLER.get(handler)
        if worker is not None and worker.name == VERIFY_WORKER:
            # The tests run in the sandbox, so their budget comes from the sandbox's timeout.
            assert env["KILN_VERIFY_TIMEOUT_SECONDS"] == str(SANDBOX.timeout_seconds - VERIFY_TIMEOUT_MARGIN_SECONDS)
        else:
            assert "KILN_VERIFY_TIMEOUT_SECONDS" not in env, handler
        # Only decompose reads the repair setting: it fixes each run's allowance (cdk.json's 2).
        if worker is not None and worker.name == DECOMPOSE_WORKER:
            assert env["KILN_BUILD_REPAIR_ATTEMPTS"] == "2"
        else:
            assert "KILN_BUILD_REPAIR_ATTEMPTS" not in env, handler


def test_workers_get_the_common_variables(main: Synth) -> None:
    fns = functions(main)
    for worker in WORKERS:
        env = fns[worker.handler_ref][2]["Environment"]["Variables"]
        if worker.sandbox:  # it has nothing to reach, so it is told of nothing
            assert env == SANDBOX_ENVIRONMENT
            continue
        assert env["KILN_ENVIRONMENT"] == "aws" and "KILN_TABLE_NAME" in env and "KILN_BUCKET_NAME" in env
        assert env.get("KILN_GENERATOR") == ("builtin" if "generator:invoke" in worker.grants else None), worker.name
    for handler in (AUTHORIZER_HANDLER, METHOD_NOT_ALLOWED_HANDLER):
        assert "KILN_GENERATOR" not in fns[handler][2]["Environment"]["Variables"]


# --- construction-time checks (no synthesis) ---------------------------------------------------------


def test_builds_control_needs_the_build_machine() -> None:
    targets = grants.Targets(table_arn="t", bucket_arn="b", cursor_secret_arn="s")
    with pytest.raises(ValueError, match="builds:control needs the 'build' state machine"):
        grants.permissions_for(("builds:control",), targets, owner="probe")
    with pytest.raises(ValueError, match="builds:control"):
        grants.permissions_for(
            ("builds:control",),
            grants.Targets(table_arn="t", bucket_arn="b", cursor_secret_arn="s", build_state_machine_arn="arn"),
            owner="probe",
        )


def test_builds_control_statements() -> None:
    from aws_cdk import App, Stack

    stack = Stack(App(), "Probe")
    targets = grants.Targets(
        table_arn="t",
        bucket_arn="b",
        cursor_secret_arn="s",
        build_state_machine_arn="machine-arn",
        build_state_machine_name="machine",
    )
    start, stop = grants.permissions_for(("builds:control",), targets, owner="probe")
    assert start.wildcards == ()
    assert stack.resolve(start.statement.to_statement_json()) == {
        "Sid": "BuildsStart",
        "Effect": "Allow",
        "Action": "states:StartExecution",
        "Resource": "machine-arn",
    }
    resolved = stack.resolve(stop.statement.to_statement_json())
    assert resolved["Action"] == "states:StopExecution"
    executions = "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:machine:*"
    assert join(resolved["Resource"]) == executions
    [(resource, reason)] = stop.wildcards
    assert join(stack.resolve(resource)) == executions and "run id" in reason


def test_the_build_workflow_name_matches_the_adapter() -> None:
    from kiln.adapters.stepfunctions import BUILD_WORKFLOW

    assert grants.BUILD_WORKFLOW == BUILD_WORKFLOW == BUILD.name


def test_verify_timeout_leaves_a_margin() -> None:
    from dataclasses import replace

    verify = next(w for w in WORKERS if w.name == VERIFY_WORKER)
    assert worker_environment(verify, WORKERS) == {"KILN_VERIFY_TIMEOUT_SECONDS": str(SANDBOX.timeout_seconds - 60)}
    decompose = next(w for w in WORKERS if w.name == DECOMPOSE_WORKER)
    assert worker_environment(decompose, WORKERS, repair_attempts=3) == {"KILN_BUILD_REPAIR_ATTEMPTS": "3"}
    assert all(worker_environment(w, WORKERS) == {} for w in WORKERS if w.name not in (VERIFY_WORKER, DECOMPOSE_WORKER))
    others = [w for w in WORKERS if not w.sandbox]
    with pytest.raises(ValueError, match="leaves no time"):
        worker_environment(verify, [*others, replace(SANDBOX, timeout_seconds=VERIFY_TIMEOUT_MARGIN_SECONDS)])
    # build_verify waits for the sandbox's answer: it must be given longer than the sandbox.
    with pytest.raises(ValueError, match="must exceed the sandbox's"):
        worker_environment(verify, [*others, replace(SANDBOX, timeout_seconds=verify.timeout_seconds)])
    with pytest.raises(ValueError, match="declares none"):
        worker_environment(verify, others)


def test_build_task_concurrency_setting() -> None:
    from aws_cdk import App

    from infra.settings import Settings

    assert Settings.from_context(App().node).build_task_concurrency == 4
    assert Settings.from_context(App(context={"buildTaskConcurrency": "8"}).node).build_task_concurrency == 8
    assert Settings.from_context(App(context={"buildTaskConcurrency": 40}).node).build_task_concurrency == 40
    for bad in ("0", "41", "-1"):
        with pytest.raises(ValueError, match="buildTaskConcurrency must be between 1 and 40"):
            Settings.from_context(App(context={"buildTaskConcurrency": bad}).node)
    with pytest.raises(ValueError, match="buildTaskConcurrency must be an integer"):
        Settings.from_context(App(context={"buildTaskConcurrency": "four"}).node)


def test_cdk_json_declares_the_setting() -> None:
    from .conftest import CDK_JSON

    assert json.loads(CDK_JSON.read_text())["context"]["buildTaskConcurrency"] == 4
    assert json.loads(CDK_JSON.read_text())["context"]["buildRepairAttempts"] == 2


def test_build_repair_attempts_setting() -> None:
    from aws_cdk import App

    from infra.settings import Settings

    assert Settings.from_context(App().node).build_repair_attempts == 2
    assert Settings.from_context(App(context={"buildRepairAttempts": "0"}).node).build_repair_attempts == 0
    assert Settings.from_context(App(context={"buildRepairAttempts": 5}).node).build_repair_attempts == 5
    for bad in ("-1", "6"):
        with pytest.raises(ValueError, match="buildRepairAttempts must be between 0 and 5"):
            Settings.from_context(App(context={"buildRepairAttempts": bad}).node)
    with pytest.raises(ValueError, match="buildRepairAttempts must be an integer"):
        Settings.from_context(App(context={"buildRepairAttempts": "two"}).node)


def test_the_repair_worker_is_granted_like_the_task_worker() -> None:
    # It calls the generator and commits on the task's branch, as build_task does; nothing more.
    repair = next(w for w in WORKERS if w.name == "build_repair")
    task = next(w for w in WORKERS if w.name == "build_task")
    assert repair.grants == task.grants == ("table:write", "bucket:write", "generator:invoke")
    assert repair.timeout_seconds == task.timeout_seconds and not repair.sandbox
