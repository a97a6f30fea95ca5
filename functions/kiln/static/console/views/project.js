// One project: its clarifying questions as a form, its specification versions side by side with
// the changes highlighted, feedback and approval, its builds, and its exports.
import { apiUrl, get, post } from "../api.js";
import { diffLines, sideBySide } from "../diff.js";
import { busy, clear, field, h, statusBadge, toast, uid, when } from "../dom.js";

const DOCUMENTS = ["SPEC.md", "ACCEPTANCE.md", "ROUTES.md", "DATA.md"];
const BUILDABLE = new Set(["approved", "built", "failed"]);

export async function projectView(main, projectId) {
  const project = (await get(`v1/projects/${encodeURIComponent(projectId)}`)).data;
  const base = `v1/projects/${encodeURIComponent(project.id)}`;
  const reload = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/projects", text: "Projects" }), " / "),
    h("h1", { text: project.name, tabindex: "-1" }),
    h("p", {}, "Status: ", statusBadge(project.status), project.specVersion ? ` · specification version ${project.specVersion}` : ""),
    h("p", { class: "description", text: project.description }),
  );
  if (project.status === "draft" || project.status === "clarifying") {
    main.append(await questionsSection(base, project, reload));
  }
  if (project.specVersion) {
    main.append(await specSection(base, project, reload));
  }
  if (project.specVersion && project.status !== "spec_review") {
    main.append(await buildsSection(base, project));
  }
  if (["built", "failed", "building"].includes(project.status)) {
    main.append(
      h("section", { "aria-labelledby": "code-title" }, h("h2", { id: "code-title", text: "Code" }),
        h("p", {}, h("a", { href: `#/projects/${encodeURIComponent(project.id)}/files`, text: "Browse the files on main" }))),
      exportSection(base, project),
    );
  }
}

// --- clarifying questions ----------------------------------------------------------------------

async function questionsSection(base, project, reload) {
  const section = h("section", { "aria-labelledby": "questions-title" }, h("h2", { id: "questions-title", text: "Clarifying questions" }));
  const errors = h("div");
  if (project.status === "draft") {
    const ask = h("button", { type: "button", class: "primary", text: "Ask the clarifying questions" });
    ask.addEventListener("click", () => busy(ask, errors, async () => {
      await post(`${base}/clarify`);
      reload();
    }));
    section.append(h("p", { text: "Kiln asks a few questions about the project before it writes the specification." }), ask, errors);
    return section;
  }
  // Asking again while clarifying answers the same questions.
  const questions = (await post(`${base}/clarify`)).data.questions;
  const readers = [];
  const form = h("form", { class: "card questions" });
  for (const question of questions) {
    const [control, read] = questionControl(question);
    readers.push([question, read]);
    form.append(control);
  }
  const submit = h("button", { type: "submit", class: "primary", text: "Write the specification" });
  form.append(errors, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const answers = [];
    for (const [question, read] of readers) {
      const answer = read();
      if (answer !== undefined) answers.push({ questionId: question.id, answer });
    }
    busy(submit, errors, async () => {
      await post(`${base}/answers`, { answers });
      toast("Specification version 1 written.");
      reload();
    });
  });
  section.append(form);
  return section;
}

// A control that fits the question's type, and a function reading its answer (undefined: none).
function questionControl(question) {
  const id = uid("q");
  const mark = () => (question.required ? h("span", { class: "required", text: " (required)" }) : h("span", { class: "muted", text: " (optional)" }));
  if (question.type === "text") {
    const input = h("textarea", { id, rows: "2", name: question.id, required: question.required || undefined });
    return [
      h("div", { class: "field question", "data-question": question.id }, h("label", { for: id }, question.question, mark()), input),
      () => (input.value.trim() ? input.value.trim() : undefined),
    ];
  }
  const legend = h("legend", {}, question.question, mark());
  const multiple = question.type === "multi_choice";
  const options = question.type === "boolean" ? [["Yes", true], ["No", false]] : question.options.map((o) => [o, o]);
  const inputs = options.map(([label, value], n) => {
    const input = h("input", { type: multiple ? "checkbox" : "radio", name: `${id}`, id: `${id}-${n}`, required: !multiple && question.required ? true : undefined });
    input.dataset.index = String(n);
    return [h("div", { class: "choice" }, input, h("label", { for: input.id, text: label })), input, value];
  });
  const set = h("fieldset", { class: "question", "data-question": question.id }, legend, inputs.map(([row]) => row));
  const read = () => {
    const chosen = inputs.filter(([, input]) => input.checked).map(([, , value]) => value);
    if (multiple) return chosen.length ? chosen : undefined;
    return chosen.length ? chosen[0] : undefined;
  };
  return [set, read];
}

// --- specification versions ------------------------------------------------------------------

async function specSection(base, project, reload) {
  const answer = (await get(`${base}/spec`)).data;
  const versions = answer.versions.map((v) => v.version);
  const cache = new Map([[answer.spec.version, answer.spec]]);
  const spec = async (version) => {
    if (!cache.has(version)) cache.set(version, (await get(`${base}/spec`, { version })).data.spec);
    return cache.get(version);
  };
  const latest = versions[versions.length - 1];
  const options = (selected) => versions.map((v) => h("option", { value: String(v), text: `Version ${v}`, selected: v === selected || undefined }));
  const left = h("select", { name: "left" }, options(versions.length > 1 ? latest - 1 : latest));
  const right = h("select", { name: "right" }, options(latest));
  const documentSelect = h("select", { name: "document" }, DOCUMENTS.map((d) => h("option", { value: d, text: d })));
  const summary = h("p", { class: "muted", role: "status" });
  const table = h("div", { class: "diff-wrap" });
  const show = async () => {
    const [a, b] = await Promise.all([spec(Number(left.value)), spec(Number(right.value))]);
    const name = documentSelect.value;
    const rows = sideBySide(diffLines(a.documents[name] || "", b.documents[name] || ""));
    const added = rows.filter((r) => r.kind === "add" || r.kind === "change").length;
    const removed = rows.filter((r) => r.kind === "del" || r.kind === "change").length;
    summary.textContent = a.version === b.version ? `${name} of version ${a.version}.` : `${name}: ${added} line(s) added or changed, ${removed} removed or changed, from version ${a.version} to ${b.version}.`;
    clear(table).append(diffTable(rows, a.version, b.version, b.feedback));
  };
  for (const control of [left, right, documentSelect]) control.addEventListener("change", show);

  const section = h(
    "section",
    { "aria-labelledby": "spec-title" },
    h("h2", { id: "spec-title", text: "Specification" }),
    h("ul", { class: "versions" }, answer.versions.map((v) =>
      h("li", {}, h("strong", { text: `Version ${v.version}` }), " ", when(v.createdAt), v.approvedAt ? h("span", { class: "badge status-approved", text: "approved" }) : "", v.feedback ? h("span", { class: "muted", text: ` feedback: ${v.feedback}` }) : ""))),
    h("div", { class: "filters" }, field("Compare", left), field("with", right), field("Document", documentSelect)),
    summary,
    table,
  );
  if (project.status === "spec_review") section.append(reviewForms(base, latest, reload));
  await show();
  return section;
}

function diffTable(rows, leftVersion, rightVersion) {
  const cell = (text, kind, side) =>
    h("td", { class: `line ${kind}`, "data-side": side }, kind === "same" || text === null ? "" : h("span", { class: "visually-hidden", text: side === "left" ? "removed: " : "added: " }), text ?? "");
  return h(
    "table",
    { class: "diff" },
    h("caption", { class: "visually-hidden", text: `Version ${leftVersion} and version ${rightVersion} side by side` }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: `Version ${leftVersion}` }), h("th", { scope: "col", text: `Version ${rightVersion}` }))),
    h("tbody", {}, rows.map((row) => {
      const leftKind = row.kind === "same" ? "same" : row.left === null ? "empty" : "del";
      const rightKind = row.kind === "same" ? "same" : row.right === null ? "empty" : "add";
      return h("tr", { class: row.kind }, cell(row.left, leftKind, "left"), cell(row.right, rightKind, "right"));
    })),
  );
}

function reviewForms(base, latest, reload) {
  const feedback = h("textarea", { name: "feedback", rows: "3", maxlength: "5000", required: true });
  const regenErrors = h("div");
  const regenerate = h("button", { type: "submit", text: "Regenerate with this feedback" });
  const regenForm = h("form", { class: "card" }, field("Feedback", feedback, "What to change: Kiln writes a new version and lists the feedback it applied."), regenErrors, regenerate);
  regenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(regenerate, regenErrors, async () => {
      const answer = await post(`${base}/regenerate`, { feedback: feedback.value });
      toast(`Specification version ${answer.data.specVersion} written.`);
      reload();
    });
  });
  const approveErrors = h("div");
  const approve = h("button", { type: "button", class: "primary", text: `Approve version ${latest}` });
  approve.addEventListener("click", () => busy(approve, approveErrors, async () => {
    await post(`${base}/approve`, { version: latest });
    toast(`Version ${latest} approved.`);
    reload();
  }));
  return h("div", { class: "grid two" }, regenForm, h("div", { class: "card" }, h("p", { text: "Approve the version you read: it is what a build follows." }), approveErrors, approve));
}

// --- builds and exports ----------------------------------------------------------------------

async function buildsSection(base, project) {
  const runs = (await get(`${base}/runs`, { pageSize: 20 })).data;
  const errors = h("div");
  const section = h("section", { "aria-labelledby": "builds-title" }, h("h2", { id: "builds-title", text: "Builds" }));
  if (BUILDABLE.has(project.status)) {
    const start = h("button", { type: "button", class: "primary", text: "Start a build" });
    start.addEventListener("click", () => busy(start, errors, async () => {
      const run = (await post(`${base}/runs`)).data;
      window.location.hash = `#/projects/${encodeURIComponent(project.id)}/runs/${encodeURIComponent(run.id)}`;
    }));
    section.append(start, errors);
  }
  if (runs.length) {
    section.append(h("ul", { class: "runs" }, runs.map((run) => h("li", {},
      h("a", { href: `#/projects/${encodeURIComponent(project.id)}/runs/${encodeURIComponent(run.id)}`, text: `Build #${run.runNumber}` }), " ",
      statusBadge(run.status), ` ${run.tasksSummary.succeeded}/${run.tasksSummary.total} tasks · `, when(run.createdAt)))));
  } else {
    section.append(h("p", { class: "muted", text: "No build yet." }));
  }
  return section;
}

function exportSection(base) {
  const list = h("ul", { class: "exports", "aria-live": "polite" });
  const errors = h("div");
  const buttons = ["zip", "tar.gz", "kiln"].map((format) => {
    const button = h("button", { type: "button", text: `Export as .${format}` });
    button.addEventListener("click", () => busy(button, errors, async () => {
      const started = (await post(`${base}/exports`, { format })).data;
      const item = h("li", { text: `.${format}: preparing…` });
      list.append(item);
      for (let attempt = 0; attempt < 300; attempt += 1) {
        const current = (await get(`${base}/exports/${encodeURIComponent(started.id)}`)).data;
        if (current.status === "completed") {
          clear(item).append(h("a", { href: apiUrl(`${base}/exports/${encodeURIComponent(started.id)}/download`).href, class: "download", "data-format": format, text: `Download .${format}` }), current.sizeBytes ? ` (${current.sizeBytes} bytes)` : "");
          return;
        }
        if (current.status === "failed") {
          item.textContent = `.${format}: the export failed.`;
          return;
        }
        await new Promise((r) => window.setTimeout(r, 1000));
      }
    }));
    return button;
  });
  return h("section", { "aria-labelledby": "export-title" }, h("h2", { id: "export-title", text: "Export" }), h("div", { class: "row" }, buttons), errors, list);
}

