// A build's live view: its tasks by dependency wave with their states, the event log streaming
// over Server-Sent Events (EventSource sends the session cookie: same origin), the verification
// result with its test output, and cancel / retry.
//
// The stream is bounded (each response ends after about 20 s; EventSource reconnects with
// Last-Event-ID by itself, and the stream answers 204 once the run is over and every event was
// sent, which ends it). A response reaches the browser whole, since API Gateway buffers it, so
// the view also re-reads the run and its tasks every few seconds while it runs: the states move
// even between two batches of events.
import { apiUrl, get, post } from "../api.js";
import { onLeave } from "../app.js";
import { busy, clear, h, statusBadge, when } from "../dom.js";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const POLL_MS = 3000;
const EVENT_STATES = { TASK_STARTED: "running", TASK_COMPLETED: "succeeded", TASK_FAILED: "failed" };
const WAITING = new Set(["pending", "queued"]);

// The record's state, unless it still waits while the events say the task has moved on.
function liveStatus(task, fromEvents) {
  return fromEvents && WAITING.has(task.status) ? fromEvents : task.status;
}

export async function buildView(main, projectId, runId) {
  const base = `v1/projects/${encodeURIComponent(projectId)}/runs/${encodeURIComponent(runId)}`;
  const project = (await get(`v1/projects/${encodeURIComponent(projectId)}`)).data;
  const status = h("span", { id: "run-status" });
  const summary = h("span");
  const actions = h("div", { class: "row" });
  const errors = h("div");
  const waves = h("div", { class: "waves" });
  const verification = h("div");
  const log = h("ol", { class: "log", id: "event-log" });
  const logState = h("p", { class: "muted", id: "stream-state", text: "Connecting to the event stream…" });
  const projectHref = `#/projects/${encodeURIComponent(projectId)}`;
  const title = h("h1", { tabindex: "-1" });

  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/projects", text: "Projects" }), " / ", h("a", { href: projectHref, text: project.name }), " /"),
    title,
    h("p", { role: "status", "aria-live": "polite" }, "Status: ", status, " ", summary),
    actions,
    errors,
    h("div", { class: "grid two" },
      h("section", { "aria-labelledby": "tasks-title" }, h("h2", { id: "tasks-title", text: "Tasks by wave" }), waves),
      h("section", { "aria-labelledby": "log-title" }, h("h2", { id: "log-title", text: "Event log" }), logState, h("div", { class: "log-wrap", tabindex: "0", role: "region", "aria-label": "Events" }, log))),
    h("section", { "aria-labelledby": "verify-title" }, h("h2", { id: "verify-title", text: "Verification" }), verification),
  );

  let run = null;
  let stopped = false;
  // What the events said of each task since its record was last read: a task's record changes
  // when it ends, its TASK_STARTED arrives as soon as it begins.
  const live = new Map();
  let lastTasks = [];
  const refresh = async () => {
    const [runAnswer, tasksAnswer] = await Promise.all([get(base), get(`${base}/tasks`)]);
    run = runAnswer.data;
    title.textContent = `Build #${run.runNumber}`;
    clear(status).append(statusBadge(run.status));
    lastTasks = tasksAnswer.data;
    renderTasks();
    renderVerification(verification, run);
    renderActions();
  };
  const renderTasks = () => {
    const tasks = lastTasks.map((task) => ({ ...task, status: liveStatus(task, live.get(task.id)) }));
    const count = (state) => tasks.filter((task) => task.status === state).length;
    summary.textContent = `${count("succeeded")} of ${tasks.length} tasks succeeded` + (count("running") ? `, ${count("running")} running` : "") + (count("failed") ? `, ${count("failed")} failed` : "");
    renderWaves(waves, tasks);
  };
  const renderActions = () => {
    clear(actions);
    if (!TERMINAL.has(run.status)) {
      const cancel = h("button", { type: "button", text: "Cancel the build" });
      cancel.addEventListener("click", () => busy(cancel, errors, async () => {
        await post(`${base}/cancel`);
        await refresh();
      }));
      actions.append(cancel);
    } else if (run.status !== "succeeded") {
      const retry = h("button", { type: "button", class: "primary", text: "Retry the build" });
      retry.addEventListener("click", () => busy(retry, errors, async () => {
        const next = (await post(`${base}/retry`)).data;
        window.location.hash = `${projectHref}/runs/${encodeURIComponent(next.id)}`;
      }));
      actions.append(retry);
    } else {
      actions.append(h("a", { href: `${projectHref}/files`, text: "Browse the files" }));
    }
  };

  await refresh();

  const source = new EventSource(apiUrl(`${base}/events/stream`).href, { withCredentials: true });
  const seen = new Set();
  const onEvent = (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (seen.has(event.id)) return;
    seen.add(event.id);
    if (event.taskId && EVENT_STATES[event.eventType]) {
      live.set(event.taskId, EVENT_STATES[event.eventType]);
      renderTasks();
    }
    log.append(eventItem(event));
    log.parentElement.scrollTop = log.parentElement.scrollHeight;
    scheduleRefresh();
  };
  let pending = 0;
  const scheduleRefresh = () => {
    if (pending) return;
    pending = window.setTimeout(async () => {
      pending = 0;
      if (!stopped) await refresh().catch(() => {});
    }, 300);
  };
  // Named events (event: TASK_STARTED, ...) only reach listeners of their name.
  for (const type of ["RUN_STARTED", "TASK_STARTED", "FILE_CREATED", "FILE_MODIFIED", "TASK_COMPLETED", "TASK_FAILED", "TASK_RETRYING", "TASK_REPAIRED", "VERIFICATION_COMPLETED", "MERGE_COMPLETED", "RUN_COMPLETED", "RUN_FAILED", "RUN_CANCELLED"]) {
    source.addEventListener(type, onEvent);
  }
  source.addEventListener("message", onEvent);
  source.addEventListener("open", () => {
    logState.textContent = "Streaming events.";
  });
  source.addEventListener("error", () => {
    if (source.readyState === EventSource.CLOSED) {
      logState.textContent = "The stream has ended: every event was sent.";
      refresh().catch(() => {});
    } else {
      logState.textContent = "Waiting for more events…";
    }
  });
  const timer = window.setInterval(() => {
    if (run && TERMINAL.has(run.status) && source.readyState === EventSource.CLOSED) return;
    refresh().catch(() => {});
  }, POLL_MS);
  onLeave(() => {
    stopped = true;
    source.close();
    window.clearInterval(timer);
    window.clearTimeout(pending);
  });
}

function eventItem(event) {
  const payload = event.payload || {};
  const detail = payload.path || payload.branchName || payload.error || (payload.passed !== undefined ? (payload.passed ? "passed" : "failed") : "");
  return h("li", { "data-type": event.eventType },
    h("span", { class: "muted", text: `#${event.id} ` }),
    h("strong", { text: event.eventType }),
    event.taskId ? ` ${event.taskId}` : "",
    detail ? h("span", { class: "muted", text: ` ${typeof detail === "string" ? detail : JSON.stringify(detail)}` }) : "");
}

// Wave n holds the tasks whose dependencies are all in earlier waves: the order a build runs them.
export function wavesOf(tasks) {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const depth = new Map();
  const visit = (task, trail = new Set()) => {
    if (depth.has(task.id)) return depth.get(task.id);
    if (trail.has(task.id)) return 0;
    trail.add(task.id);
    const deps = ((task.definition && task.definition.dependencies) || []).map((id) => byId.get(id)).filter(Boolean);
    const wave = deps.length ? 1 + Math.max(...deps.map((d) => visit(d, trail))) : 0;
    depth.set(task.id, wave);
    return wave;
  };
  const waves = [];
  for (const task of tasks) {
    const wave = visit(task);
    (waves[wave] = waves[wave] || []).push(task);
  }
  return waves.filter(Boolean);
}

function renderWaves(container, tasks) {
  clear(container);
  if (!tasks.length) {
    container.append(h("p", { class: "muted", text: "Planning the tasks…" }));
    return;
  }
  wavesOf(tasks).forEach((wave, n) => {
    container.append(h("h3", { text: `Wave ${n + 1}` }), h("ul", { class: "tasks" }, wave.map((task) =>
      h("li", { "data-task": task.id, "data-status": task.status },
        statusBadge(task.status), " ",
        h("strong", { text: task.id }), " ",
        h("span", { text: (task.definition && task.definition.description) || "" }),
        task.branchName ? h("div", { class: "muted small", text: task.branchName }) : ""))));
  });
}

function renderVerification(container, run) {
  clear(container);
  const result = run.verificationResult;
  if (!result) {
    container.append(h("p", { class: "muted", text: TERMINAL.has(run.status) ? "No verification ran." : "Not verified yet." }));
    return;
  }
  container.append(h("p", { id: "verification-result" }, "Result: ", statusBadge(result.passed ? "passed" : "failed")));
  for (const check of result.checks || []) {
    const tests = check.tests ? ` (${check.tests.run} tests, ${check.tests.failures} failures, ${check.tests.errors} errors)` : "";
    container.append(h("details", { class: "check", open: check.name === "unittest" || !check.passed ? true : undefined },
      h("summary", {}, statusBadge(check.passed ? "passed" : "failed"), ` ${check.name}${tests}`),
      h("pre", { class: "output", tabindex: "0", text: check.output || "" })));
  }
  if (run.finishedAt) container.append(h("p", { class: "muted" }, "Finished ", when(run.finishedAt)));
}
