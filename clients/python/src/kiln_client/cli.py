"""The `kiln` command line: the SDK behind click, rich for people, `--json` for scripts.

Exit codes (scripts rely on them): 0 done; 1 an API error not listed below; 2 a usage error;
3 no or refused credentials; 4 not found; 5 the request or the resource's state was refused
(400, 409, 413, 415, 422); 6 the service could not be reached or kept failing (429, 5xx,
connection); 7 the build or the operation itself failed."""

from __future__ import annotations

import functools
import json
import sys
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from pydantic import BaseModel
from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TransferSpeedColumn
from rich.table import Table

from kiln_client import _config
from kiln_client._oauth import OAuth
from kiln_client.browser_login import LoginError, browser_login, free_loopback_redirect_uri
from kiln_client.client import Kiln
from kiln_client.errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    KilnConnectionError,
    KilnError,
    WaitTimeout,
)

F = TypeVar("F", bound=Callable[..., Any])

EXIT_API, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_REFUSED, EXIT_UNAVAILABLE, EXIT_FAILED = 1, 3, 4, 5, 6, 7
# What to do about each error code, shown under the message.
HINTS = {
    "UNAUTHORIZED": "Check the key: run `kiln login`, or set KILN_API_KEY.",
    "invalid_grant": "The sign-in ended (expired, revoked or signed out): run `kiln login --browser` again.",
    "FORBIDDEN": "The key lacks a scope this needs: use a key with more scopes.",
    "NOT_FOUND": "Check the id (`kiln projects list` shows yours).",
    "ENDPOINT_NOT_FOUND": "The key's allowed paths exclude this, or the server is older than this client.",
    "VALIDATION_ERROR": "Fix the fields listed in the details.",
    "CONFLICT": "The resource is not in a state that allows this (`kiln projects show ID`).",
    "INVALID_ARCHIVE": "The archive was rejected: see the details.",
    "RATE_LIMIT_EXCEEDED": "Wait a little and try again.",
    "TOO_MANY_REQUESTS": "Wait a little and try again.",
    "USAGE_LIMIT_EXCEEDED": "The workspace's quota is spent for now.",
    "SERVICE_UNAVAILABLE": "The service is busy or down: try again shortly.",
    "INTERNAL_ERROR": "Try again; report the request id if it persists.",
}
TASK_STATES = {
    "TASK_STARTED": "running",
    "TASK_COMPLETED": "succeeded",
    "TASK_FAILED": "failed",
    "TASK_REPAIR_STARTED": "repairing",
    "TASK_REPAIR_COMPLETED": "succeeded",
    "TASK_REPAIR_FAILED": "failed",
}
STATE_STYLE = {"pending": "dim", "running": "yellow", "repairing": "yellow", "succeeded": "green", "failed": "red"}

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


class State:
    def __init__(self, api_key: str | None, base_url: str | None) -> None:
        self.api_key, self.base_url = api_key, base_url
        self._client: Kiln | None = None

    @property
    def client(self) -> Kiln:
        if self._client is None:
            self._client = Kiln(self.api_key, self.base_url)
        return self._client


def dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list):
        return [dump(item) for item in value]
    return value


def emit_json(value: Any) -> None:
    click.echo(json.dumps(dump(value), indent=2, ensure_ascii=False))


def fail(message: str, code: int, as_json: bool, payload: dict[str, Any] | None = None) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"error": payload or {"message": message}}, indent=2), err=True)
    else:
        err.print(f"[bold red]Error:[/] {message}", highlight=False)
    sys.exit(code)


def exit_code_for(error: APIError) -> int:
    if error.status in (401, 403) or isinstance(error, AuthenticationError):
        return EXIT_AUTH
    if error.status == 404:
        return EXIT_NOT_FOUND
    if error.status in (400, 409, 413, 415, 422):
        return EXIT_REFUSED
    if error.status == 429 or error.status >= 500:
        return EXIT_UNAVAILABLE
    return EXIT_API


def command(fn: F) -> F:
    """Adds `--json` and turns every SDK error into a readable message and an exit code,
    never a traceback."""

    @click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
    @functools.wraps(fn)
    def wrapper(*args: Any, as_json: bool, **kwargs: Any) -> Any:
        try:
            return fn(*args, as_json=as_json, **kwargs)
        except APIError as error:
            payload = {
                "status": error.status,
                "code": error.code,
                "message": error.message,
                "details": error.details,
                "requestId": error.request_id,
            }
            lines = [f"{error.code} ({error.status}): {error.message}"]
            if error.details:
                lines.append(f"  details: {json.dumps(error.details, ensure_ascii=False)}")
            if error.request_id:
                lines.append(f"  request id: {error.request_id}")
            if error.code in HINTS:
                lines.append(f"  what to do: {HINTS[error.code]}")
            fail("\n".join(lines), exit_code_for(error), as_json, payload)
        except (ConfigurationError, LoginError) as error:
            fail(str(error), EXIT_AUTH, as_json)
        except KilnConnectionError as error:
            fail(
                f"{error}\n  what to do: check KILN_BASE_URL and that the server is running", EXIT_UNAVAILABLE, as_json
            )
        except WaitTimeout as error:
            fail(str(error), EXIT_UNAVAILABLE, as_json)
        except (KilnError, OSError, ValueError) as error:
            fail(str(error), EXIT_API, as_json)

    return wrapper  # type: ignore[return-value]


def state(ctx: click.Context) -> State:
    return ctx.find_object(State) or State(None, None)


@click.group()
@click.option("--api-key", envvar=_config.API_KEY_ENV, help="An API key (default: KILN_API_KEY, then `kiln login`).")
@click.option("--base-url", envvar=_config.BASE_URL_ENV, help="The API's URL (default: KILN_BASE_URL, then login).")
@click.version_option(package_name="kiln-client", prog_name="kiln")
@click.pass_context
def cli(ctx: click.Context, api_key: str | None, base_url: str | None) -> None:
    """Kiln from the terminal: projects, specifications, builds, files, exports."""
    ctx.obj = State(api_key, base_url)


def main() -> None:
    cli(prog_name="kiln")


# Login -------------------------------------------------------------------------------------------
@cli.command()
@click.option("--api-key", "key", help="The key (asked for, hidden, when left out).")
@click.option("--base-url", "url", help=f"The API's URL (default {_config.DEFAULT_BASE_URL}).")
@click.option("--browser", is_flag=True, help="Sign in as a person through the browser (OAuth) instead of a key.")
@click.option("--client-id", help="With --browser: the OAuth client registered for the CLI.")
@click.option("--redirect-uri", help="With --browser: its registered loopback URI, http://127.0.0.1:PORT/callback.")
@click.option("--scope", "scopes", multiple=True, help="With --browser: repeat to ask less than the client may.")
@click.option("--no-browser", is_flag=True, help="With --browser: print the sign-in URL rather than open it.")
@command
@click.pass_context
def login(
    ctx: click.Context,
    key: str | None,
    url: str | None,
    browser: bool,
    client_id: str | None,
    redirect_uri: str | None,
    scopes: tuple[str, ...],
    no_browser: bool,
    as_json: bool,
) -> None:
    """Check a key against the API and store it (0600) for later commands; or, with --browser,
    sign in as a person and store the OAuth tokens (refreshed by later commands)."""
    url = (url or state(ctx).base_url or _config.DEFAULT_BASE_URL).rstrip("/")
    if browser:
        login_browser(url, client_id, redirect_uri, scopes, no_browser, as_json)
        return
    key = key or click.prompt("API key", hide_input=True)
    with Kiln(key, url) as kiln:
        kiln.list_projects(limit=1)  # refuses a wrong key or URL before anything is stored
    path = _config.write_config(key, url)
    if as_json:
        emit_json({"baseUrl": url, "configPath": str(path)})
    else:
        out.print(f"Logged in to {url}; the key is stored in {path} (readable by you only).", highlight=False)


def login_browser(
    url: str,
    client_id: str | None,
    redirect_uri: str | None,
    scopes: tuple[str, ...],
    no_browser: bool,
    as_json: bool,
) -> None:
    if not client_id or not redirect_uri:
        raise click.UsageError(
            "--browser needs --client-id and --redirect-uri: an admin registers the CLI once with "
            "`kiln oauth-clients create --name kiln-cli --scope ...`, which prints both"
        )

    def show(authorize_url: str) -> None:
        err.print(f"Sign in at: {authorize_url}", highlight=False, soft_wrap=True)
        if not no_browser:
            webbrowser.open(authorize_url)
        err.print(f"Waiting for the browser on {redirect_uri} ...", highlight=False)

    tokens = browser_login(url, client_id, redirect_uri, scope=" ".join(scopes) or None, open_url=show)
    with Kiln(base_url=url, oauth=tokens) as kiln:
        kiln.list_projects(limit=1)  # the token works before anything is stored
    path = _config.write_oauth_config(tokens, url)
    if as_json:
        emit_json({"baseUrl": url, "configPath": str(path), "clientId": client_id, "credential": "oauth"})
    else:
        out.print(
            f"Signed in to {url}; the tokens are stored in {path} (readable by you only) and refresh themselves.",
            highlight=False,
        )


# Projects ----------------------------------------------------------------------------------------
@cli.group()
def projects() -> None:
    """Create, list, show and archive projects."""


def print_project(project: Any) -> None:
    table = Table.grid(padding=(0, 2))
    for name, value in dump(project).items():
        if value is not None:
            table.add_row(f"[bold]{name}[/]", str(value))
    out.print(table)


@projects.command("create")
@click.option("--name", required=True)
@click.option("--description", required=True)
@command
@click.pass_context
def projects_create(ctx: click.Context, name: str, description: str, as_json: bool) -> None:
    """Create a project (status draft)."""
    project = state(ctx).client.create_project(name, description)
    if as_json:
        emit_json(project)
    else:
        out.print(f"Created {project.id} ({project.status.value}): {project.name}", highlight=False)


@projects.command("list")
@click.option("--status", help="draft, clarifying, spec_review, approved, building, built, failed, archived")
@click.option("--search", help="Text in the name or description.")
@click.option("--limit", type=click.IntRange(1), help="At most this many (default: all).")
@command
@click.pass_context
def projects_list(ctx: click.Context, status: str | None, search: str | None, limit: int | None, as_json: bool) -> None:
    """List projects, every page."""
    items = []
    for project in state(ctx).client.iter_projects(status=status, search=search, page_size=100):
        items.append(project)
        if limit is not None and len(items) >= limit:
            break
    if as_json:
        emit_json(items)
        return
    table = Table("id", "status", "name", "updated")
    for project in items:
        table.add_row(project.id, project.status.value, project.name, project.updated_at)
    out.print(table if items else "No projects.")


@projects.command("show")
@click.argument("project_id")
@command
@click.pass_context
def projects_show(ctx: click.Context, project_id: str, as_json: bool) -> None:
    """Show a project."""
    project = state(ctx).client.get_project(project_id)
    emit_json(project) if as_json else print_project(project)


@projects.command("archive")
@click.argument("project_id")
@command
@click.pass_context
def projects_archive(ctx: click.Context, project_id: str, as_json: bool) -> None:
    """Archive a project (a soft delete: its data is kept)."""
    archived = state(ctx).client.archive_project(project_id)
    emit_json(archived) if as_json else out.print(f"Archived {project_id}.")


# The specification -------------------------------------------------------------------------------
@cli.group()
def spec() -> None:
    """Clarify, read, regenerate and approve a project's specification."""


def question_text(question: dict[str, Any]) -> str:
    return str(question.get("question") or question.get("id"))


def ask(question: dict[str, Any]) -> Any:
    """One question, asked by its type; None leaves an optional one unanswered."""
    kind, options, required = question.get("type"), question.get("options") or [], question.get("required", True)
    out.print(f"\n[bold]{question_text(question)}[/]" + ("" if required else " [dim](optional)[/]"))
    if kind == "boolean":
        return click.confirm("Yes?", default=True)
    if kind in ("single_choice", "multi_choice"):
        for number, option in enumerate(options, start=1):
            out.print(f"  {number}. {option}", highlight=False)
        if kind == "single_choice":
            return options[click.prompt("Choice", type=click.IntRange(1, len(options))) - 1]
        picked = click.prompt("Choices (numbers, comma-separated)", default="1" if required else "")
        numbers = [int(n) for n in picked.replace(" ", "").split(",") if n.isdigit() and 1 <= int(n) <= len(options)]
        return [options[n - 1] for n in dict.fromkeys(numbers)] or (None if not required else [options[0]])
    answer = click.prompt("Answer", default="" if not required else None, show_default=False)
    return answer or None


@spec.command("clarify")
@click.argument("project_id")
@click.option(
    "--answers",
    "answers_file",
    type=click.File("r"),
    help='Answer from a JSON file ([{"questionId", "answer"}]) instead of asking; `-` reads stdin.',
)
@click.option("--questions-only", is_flag=True, help="Print the questions and stop (answer later with --answers).")
@command
@click.pass_context
def spec_clarify(ctx: click.Context, project_id: str, answers_file: Any, questions_only: bool, as_json: bool) -> None:
    """Ask the clarifying questions (interactively, by type), then write spec version 1."""
    kiln = state(ctx).client
    questions = [q.model_dump() for q in kiln.clarify(project_id).questions]
    if questions_only:
        if as_json:
            emit_json(questions)
        for question in [] if as_json else questions:
            out.print(f"{question['id']} ({question['type']}): {question_text(question)}", highlight=False)
        return
    if answers_file is not None:
        loaded = json.load(answers_file)
        answers = loaded["answers"] if isinstance(loaded, dict) else loaded
    else:
        answers = []
        for question in questions:
            value = ask(question)
            if value is not None:
                answers.append({"questionId": question["id"], "answer": value})
    written = kiln.answer(project_id, answers)
    if as_json:
        emit_json(written)
    else:
        data = dump(written)
        out.print(f"\nSpecification version {data.get('specVersion') or 1} written; status {data.get('status')}.")


@spec.command("show")
@click.argument("project_id")
@click.option("--version", type=click.IntRange(1), help="A version (default: the latest).")
@click.option("--document", help="Print only this document (SPEC.md, ACCEPTANCE.md, ROUTES.md, DATA.md).")
@command
@click.pass_context
def spec_show(ctx: click.Context, project_id: str, version: int | None, document: str | None, as_json: bool) -> None:
    """Show the specification's documents."""
    view = dump(state(ctx).client.get_spec(project_id, version))
    if as_json:
        emit_json(view)
        return
    documents: dict[str, str] = view["spec"]["documents"]
    if document is not None:
        if document not in documents:
            raise ValueError(f"no document {document!r}; there are {', '.join(documents)}")
        click.echo(documents[document])
        return
    out.print(f"[bold]Version {view['spec'].get('version')}[/] of {project_id}")
    for name, text in documents.items():
        out.rule(name)
        click.echo(text)


@spec.command("regenerate")
@click.argument("project_id")
@click.option("--feedback", required=True, help="The changes to make.")
@command
@click.pass_context
def spec_regenerate(ctx: click.Context, project_id: str, feedback: str, as_json: bool) -> None:
    """Write a new version applying feedback."""
    written = dump(state(ctx).client.regenerate(project_id, feedback))
    emit_json(written) if as_json else out.print(f"Specification version {written.get('specVersion')} written.")


@spec.command("approve")
@click.argument("project_id")
@click.option("--version", type=click.IntRange(1), help="The version you read (default: the latest).")
@command
@click.pass_context
def spec_approve(ctx: click.Context, project_id: str, version: int | None, as_json: bool) -> None:
    """Approve a version: the project can be built."""
    project = state(ctx).client.approve(project_id, version)
    if as_json:
        emit_json(project)
    else:
        out.print(f"Approved version {project.spec_version} of {project_id}; status {project.status.value}.")


# Build -------------------------------------------------------------------------------------------
class BuildView:
    """One line per task with its state, and a progress bar over the tasks."""

    def __init__(self, kiln: Kiln, project_id: str, run_id: str) -> None:
        self.kiln, self.project_id, self.run_id = kiln, project_id, run_id
        self.tasks: dict[str, dict[str, Any]] = {}
        self.status = "queued"
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        self.bar = self.progress.add_task("tasks", total=None)

    def refresh_plan(self) -> None:
        run = self.kiln.get_run(self.project_id, self.run_id)
        self.status = run.status.value
        for task in run.tasks or []:
            known = self.tasks.setdefault(task.id, {"slug": task.slug, "sequence": task.sequence, "state": "pending"})
            known["slug"] = task.slug
            if task.status.value != "pending" and known["state"] == "pending":
                known["state"] = task.status.value

    def apply(self, event_type: str, task_id: str | None) -> None:
        if task_id is not None and task_id not in self.tasks:
            self.refresh_plan()
        if task_id is not None and event_type in TASK_STATES:
            self.tasks.setdefault(task_id, {"slug": task_id, "sequence": 0, "state": "pending"})["state"] = TASK_STATES[
                event_type
            ]
        done = sum(1 for task in self.tasks.values() if task["state"] in ("succeeded", "failed"))
        self.progress.update(self.bar, total=len(self.tasks) or None, completed=done)

    def render(self) -> Group:
        table = Table.grid(padding=(0, 2))
        for task_id, task in sorted(self.tasks.items(), key=lambda item: item[1]["sequence"]):
            state_ = task["state"]
            table.add_row(f"[{STATE_STYLE.get(state_, '')}]{state_:>10}[/]", task["slug"], f"[dim]{task_id}[/]")
        return Group(table, self.progress)


@cli.command()
@click.argument("project_id")
@click.option("--follow", is_flag=True, help="Follow the run live until it ends (exit 7 if it fails).")
@command
@click.pass_context
def build(ctx: click.Context, project_id: str, follow: bool, as_json: bool) -> None:
    """Start a build of the approved specification."""
    kiln = state(ctx).client
    run = kiln.create_run(project_id)
    if not follow:
        emit_json(run) if as_json else out.print(f"Started run {run.id} (number {run.run_number}): {run.status.value}")
        return
    view = BuildView(kiln, project_id, run.id)
    if as_json:
        for event in kiln.follow(project_id, run.id):  # one JSON object a line, as it happens
            click.echo(json.dumps(dump(event), ensure_ascii=False))
    else:
        out.print(f"Run {run.id} (number {run.run_number})")
        with Live(view.render(), console=out, refresh_per_second=4) as live:
            for event in kiln.follow(project_id, run.id):
                view.apply(event.event_type.value, event.task_id)
                live.update(view.render())
    finished = kiln.wait_for_run(project_id, run.id, timeout=60)
    verification = finished.verification_result
    if as_json:
        emit_json(finished)
    else:
        passed = verification is not None and verification.passed
        summary = finished.tasks_summary
        counts = f"{summary.succeeded}/{summary.total}" if summary is not None else "?"
        out.print(
            f"Run {finished.status.value}: {counts} tasks succeeded; "
            f"verification {'passed' if passed else 'failed' if verification else 'not run'}.",
            highlight=False,
        )
        if finished.error is not None:
            err.print(f"  {dump(finished.error)}", highlight=False)
    if finished.status.value != "succeeded":
        sys.exit(EXIT_FAILED)


# Files -------------------------------------------------------------------------------------------
@cli.group()
def files() -> None:
    """Read the generated code (on main, or any branch or commit)."""


@files.command("ls")
@click.argument("project_id")
@click.argument("path", default="/")
@click.option("--ref", default="main", show_default=True)
@command
@click.pass_context
def files_ls(ctx: click.Context, project_id: str, path: str, ref: str, as_json: bool) -> None:
    """List a directory."""
    directory = state(ctx).client.list_files(project_id, path, ref)
    if as_json:
        emit_json(directory)
        return
    for entry in directory.entries:
        suffix = "/" if entry.type.value == "directory" else ""
        size = "" if entry.size is None else f"{entry.size:>8}  "
        click.echo(f"{size:>10}{entry.name}{suffix}")


@files.command("cat")
@click.argument("project_id")
@click.argument("path")
@click.option("--ref", default="main", show_default=True)
@command
@click.pass_context
def files_cat(ctx: click.Context, project_id: str, path: str, ref: str, as_json: bool) -> None:
    """Print a file."""
    kiln = state(ctx).client
    if as_json:
        emit_json(kiln.get_file(project_id, path, ref))
    else:
        sys.stdout.buffer.write(kiln.read_file(project_id, path, ref))
        sys.stdout.flush()


@files.command("pull")
@click.argument("project_id")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--ref", default="main", show_default=True)
@command
@click.pass_context
def files_pull(ctx: click.Context, project_id: str, directory: str, ref: str, as_json: bool) -> None:
    """Write the whole tree into DIRECTORY."""
    kiln = state(ctx).client
    with Progress(TextColumn("pulling"), BarColumn(), MofNCompleteColumn(), console=err, disable=as_json) as bar:
        task = bar.add_task("files", total=None)
        written = kiln.pull_files(
            project_id, directory, ref, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    root = Path(directory).resolve()
    if as_json:
        emit_json({"directory": str(root), "files": [str(p.relative_to(root)) for p in written]})
    else:
        out.print(f"Pulled {len(written)} files into {root}", highlight=False)


# Export and import -------------------------------------------------------------------------------
def transfer_bar(label: str, as_json: bool) -> Progress:
    return Progress(
        TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=err, disable=as_json
    )


@cli.command("export")
@click.argument("project_id")
@click.option("--format", "format_", type=click.Choice(["zip", "tar.gz", "kiln"]), default="zip", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Where to write it (default: ID.FORMAT).")
@command
@click.pass_context
def export(ctx: click.Context, project_id: str, format_: Any, output: str | None, as_json: bool) -> None:
    """Export a project's code (zip, tar.gz) or everything (.kiln) and download it."""
    kiln = state(ctx).client
    target = Path(output or f"{project_id}.{format_}")
    operation = kiln.create_export(project_id, format_)
    with err.status("exporting", spinner="dots") if not as_json else _nothing():
        finished = kiln.wait_for_export(project_id, operation.id)
    with transfer_bar("downloading", as_json) as bar:
        task = bar.add_task("download", total=finished.size_bytes.root if finished.size_bytes else None)
        kiln.download_export(
            project_id, operation.id, target, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    if as_json:
        emit_json({"exportId": operation.id, "path": str(target), "sizeBytes": target.stat().st_size})
    else:
        out.print(f"Wrote {target} ({target.stat().st_size} bytes, export {operation.id})", highlight=False)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", help="The new project's name (default: the archive's).")
@command
@click.pass_context
def import_(ctx: click.Context, file: str, name: str | None, as_json: bool) -> None:
    """Import an archive (zip, tar.gz or .kiln) as a new project."""
    kiln = state(ctx).client
    with transfer_bar("uploading", as_json) as bar:
        task = bar.add_task("upload", total=Path(file).stat().st_size)
        project = kiln.import_project(
            file, name=name, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )
    emit_json(project) if as_json else out.print(f"Imported {project.id}: {project.name}", highlight=False)


# Keys --------------------------------------------------------------------------------------------
@cli.group()
def keys() -> None:
    """API keys of your workspace (a secret is shown once)."""


@keys.command("list")
@command
@click.pass_context
def keys_list(ctx: click.Context, as_json: bool) -> None:
    """List the keys (never their secrets)."""
    items = list(state(ctx).client.iter_api_keys())
    if as_json:
        emit_json(items)
        return
    table = Table("id", "name", "status", "scopes", "prefix")
    for key in items:
        table.add_row(key.id, key.name, key.status.value, " ".join(s.value for s in key.scopes), key.prefix)
    out.print(table)


@keys.command("create")
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, required=True, help="Repeat: project:read, project:write, ...")
@click.option("--allowed-path", "allowed_paths", multiple=True, help="Repeat: a path glob the key may call.")
@command
@click.pass_context
def keys_create(
    ctx: click.Context, name: str, scopes: tuple[str, ...], allowed_paths: tuple[str, ...], as_json: bool
) -> None:
    """Create a key; its secret is printed once."""
    key = state(ctx).client.create_api_key(name, list(scopes), list(allowed_paths) or None)
    if as_json:
        emit_json(key)
    else:
        data = dump(key)
        out.print(f"Created {data['id']}. Its secret (shown once): {data.get('secret')}", highlight=False)


@keys.command("revoke")
@click.argument("key_id")
@command
@click.pass_context
def keys_revoke(ctx: click.Context, key_id: str, as_json: bool) -> None:
    """Revoke a key at once."""
    key = state(ctx).client.revoke_api_key(key_id)
    emit_json(key) if as_json else out.print(f"Revoked {key.id}.")


@keys.command("rotate")
@click.argument("key_id")
@command
@click.pass_context
def keys_rotate(ctx: click.Context, key_id: str, as_json: bool) -> None:
    """Rotate a key: a new secret, the old one works a little longer."""
    key = dump(state(ctx).client.rotate_api_key(key_id))
    emit_json(key) if as_json else out.print(f"Rotated {key['id']}. New secret (shown once): {key.get('secret')}")


# OAuth clients -----------------------------------------------------------------------------------
@cli.group("oauth-clients")
def oauth_clients() -> None:
    """Apps people sign in to with OAuth (admin), such as this CLI's `login --browser`."""


@oauth_clients.command("create")
@click.option("--name", required=True, help="Shown to people on the consent page.")
@click.option("--scope", "scopes", multiple=True, required=True, help="Repeat: the most it may ask a person for.")
@click.option(
    "--redirect-uri",
    "redirect_uris",
    multiple=True,
    help="Repeat. Default: http://127.0.0.1:<a port free now>/callback, for `kiln login --browser`.",
)
@command
@click.pass_context
def oauth_clients_create(
    ctx: click.Context, name: str, scopes: tuple[str, ...], redirect_uris: tuple[str, ...], as_json: bool
) -> None:
    """Register a public client; prints the `kiln login --browser` command that uses it."""
    uris = list(redirect_uris) or [free_loopback_redirect_uri()]
    client = state(ctx).client.create_oauth_client(name, uris, list(scopes))
    if as_json:
        emit_json(client)
        return
    out.print(f"Registered {client.client_id} ({client.name}) for {', '.join(client.redirect_uris)}.", highlight=False)
    out.print(
        f"People sign in with: kiln login --browser --base-url {state(ctx).client.base_url} "
        f"--client-id {client.client_id} --redirect-uri {client.redirect_uris[0]}",
        highlight=False,
    )


@oauth_clients.command("list")
@command
@click.pass_context
def oauth_clients_list(ctx: click.Context, as_json: bool) -> None:
    """List the workspace's OAuth clients."""
    items = list(state(ctx).client.iter_oauth_clients())
    if as_json:
        emit_json(items)
        return
    table = Table("client id", "name", "redirect URIs", "scopes")
    for item in items:
        table.add_row(item.client_id, item.name, " ".join(item.redirect_uris), " ".join(s.value for s in item.scopes))
    out.print(table)


# Webhooks ----------------------------------------------------------------------------------------
@cli.group()
def webhooks() -> None:
    """Webhook subscriptions of your workspace (a secret is shown once)."""


@webhooks.command("list")
@command
@click.pass_context
def webhooks_list(ctx: click.Context, as_json: bool) -> None:
    """List the subscriptions."""
    items = list(state(ctx).client.iter_webhooks())
    if as_json:
        emit_json(items)
        return
    table = Table("id", "status", "url", "events")
    for hook in items:
        table.add_row(hook.id, str(dump(hook)["status"]), hook.url, " ".join(hook.events))
    out.print(table if items else "No webhooks.")


@webhooks.command("create")
@click.option("--url", required=True, help="The https URL receiving the deliveries.")
@click.option("--event", "events", multiple=True, required=True, help="Repeat: run.completed, run.*, *, ...")
@click.option("--description")
@command
@click.pass_context
def webhooks_create(
    ctx: click.Context, url: str, events: tuple[str, ...], description: str | None, as_json: bool
) -> None:
    """Subscribe a URL; the signing secret is printed once."""
    hook = state(ctx).client.create_webhook(url, list(events), description)
    if as_json:
        emit_json(hook)
    else:
        out.print(f"Created {hook.id}. Its signing secret (shown once): {dump(hook).get('secret')}", highlight=False)


@webhooks.command("delete")
@click.argument("webhook_id")
@command
@click.pass_context
def webhooks_delete(ctx: click.Context, webhook_id: str, as_json: bool) -> None:
    """Delete a subscription."""
    state(ctx).client.delete_webhook(webhook_id)
    emit_json({"deleted": webhook_id}) if as_json else out.print(f"Deleted {webhook_id}.")


@webhooks.command("test")
@click.argument("webhook_id")
@command
@click.pass_context
def webhooks_test(ctx: click.Context, webhook_id: str, as_json: bool) -> None:
    """Send a test delivery."""
    delivery = state(ctx).client.test_webhook(webhook_id)
    emit_json(delivery) if as_json else out.print(f"Queued delivery {delivery.id}.")


@webhooks.command("deliveries")
@click.argument("webhook_id")
@command
@click.pass_context
def webhooks_deliveries(ctx: click.Context, webhook_id: str, as_json: bool) -> None:
    """List a subscription's deliveries and their attempts."""
    items = list(state(ctx).client.iter_deliveries(webhook_id, limit=100))
    if as_json:
        emit_json(items)
        return
    table = Table("id", "event", "status", "attempts")
    for delivery in items:
        data = dump(delivery)
        table.add_row(data["id"], data["eventType"], str(data["status"]), str(len(data["attempts"])))
    out.print(table if items else "No deliveries.")


# MCP ---------------------------------------------------------------------------------------------
@cli.command()
@click.option("--read-only", is_flag=True, help="Expose only tools that change nothing.")
@click.pass_context
def mcp(ctx: click.Context, read_only: bool) -> None:
    """Serve Kiln's tools to an AI assistant over MCP (stdio)."""
    from kiln_client.mcp_server import serve_stdio

    try:
        credentials = _config.resolve(state(ctx).api_key, state(ctx).base_url)
    except ConfigurationError as error:
        fail(str(error), EXIT_AUTH, False)
    oauth = None
    if credentials.oauth is not None:  # signed in with --browser: the grant refreshes itself
        oauth = OAuth(credentials.oauth, store=_config.ConfigTokenStore(credentials.base_url))
    serve_stdio(credentials.api_key, credentials.base_url, read_only=read_only, oauth=oauth)
