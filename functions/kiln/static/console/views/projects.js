// The projects of the workspace (status, search, create) and the import of an archive.
import { apiUrl, get, post } from "../api.js";
import { onLeave } from "../app.js";
import { busy, clear, errorBox, field, h, scrollable, statusBadge, when } from "../dom.js";

const STATUSES = ["draft", "clarifying", "spec_review", "approved", "building", "built", "failed", "archived"];

export async function projectsView(main) {
  const search = h("input", { type: "search", name: "search", maxlength: "200", autocomplete: "off" });
  const status = h(
    "select",
    { name: "status" },
    h("option", { value: "", text: "Any status" }),
    STATUSES.map((s) => h("option", { value: s, text: s.replace(/_/g, " ") })),
  );
  const results = h("div", { "aria-live": "polite" });
  let timer = 0;
  const load = async () => {
    try {
      const answer = await get("v1/projects", { search: search.value.trim(), status: status.value, pageSize: 100 });
      clear(results).append(projectTable(answer.data), h("p", { class: "muted", text: `${answer.pagination.total} project(s)` }));
    } catch (error) {
      clear(results).append(errorBox(error));
    }
  };
  search.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(load, 250);
  });
  onLeave(() => window.clearTimeout(timer));
  status.addEventListener("change", load);

  main.append(
    h("h1", { text: "Projects", tabindex: "-1" }),
    h("div", { class: "grid two" }, h("section", { "aria-labelledby": "list-title" },
      h("h2", { id: "list-title", text: "Your projects" }),
      h("form", { class: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); load(); } },
        field("Search", search), field("Status", status)),
      results),
      createForm()),
  );
  await load();
}

function projectTable(projects) {
  if (!projects.length) return h("p", { text: "No project matches." });
  return scrollable(h(
    "table",
    { class: "list" },
    h("caption", { class: "visually-hidden", text: "Projects" }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: "Name" }), h("th", { scope: "col", text: "Status" }), h("th", { scope: "col", text: "Updated" }))),
    h(
      "tbody",
      {},
      projects.map((p) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: `#/projects/${encodeURIComponent(p.id)}`, text: p.name })),
          h("td", {}, statusBadge(p.status)),
          h("td", {}, when(p.updatedAt)),
        ),
      ),
    ),
  ), "Projects");
}

function createForm() {
  const name = h("input", { name: "name", required: true, maxlength: "200" });
  const description = h("textarea", { name: "description", required: true, rows: "5", maxlength: "10000" });
  const errors = h("div");
  const submit = h("button", { type: "submit", class: "primary", text: "Create project" });
  const form = h("form", { class: "card" }, field("Name", name), field("Description", description, "What it is for, in plain words: Kiln asks about the rest."), errors, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, errors, async () => {
      const answer = await post("v1/projects", { name: name.value, description: description.value });
      window.location.hash = `#/projects/${encodeURIComponent(answer.data.id)}`;
    });
  });
  return h("section", { "aria-labelledby": "create-title" }, h("h2", { id: "create-title", text: "New project" }), form);
}

// Import: the archive goes straight to storage through a presigned upload (POST /v1/uploads),
// with its progress shown, then POST /v1/projects/import {uploadId} starts the import, an
// operation followed until it ends.
export function importView(main) {
  const input = h("input", { type: "file", accept: ".zip,.kiln,.tar.gz,.tgz,application/zip,application/gzip", class: "visually-hidden", id: "archive" });
  const zone = h(
    "div",
    { class: "dropzone", tabindex: "0", role: "button", "aria-describedby": "drop-hint" },
    h("p", {}, h("strong", { text: "Drop an archive here" }), " or press Enter to choose one"),
    h("p", { class: "hint", id: "drop-hint", text: "A .zip, .tar.gz or .kiln archive (a project exported from Kiln, or any source tree)." }),
  );
  const name = h("input", { name: "name", maxlength: "200" });
  const progress = h("progress", { max: "100", value: "0", "aria-label": "Upload progress" });
  const state = h("p", { role: "status", "aria-live": "polite" });
  const errors = h("div");
  const choose = () => input.click();
  zone.addEventListener("click", choose);
  zone.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      choose();
    }
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer.files.length) start(event.dataTransfer.files[0]);
  });
  input.addEventListener("change", () => {
    if (input.files.length) start(input.files[0]);
  });

  async function start(file) {
    clear(errors);
    progress.value = 0;
    state.textContent = `Uploading ${file.name}…`;
    try {
      const type = /\.(tar\.gz|tgz)$/i.test(file.name) ? "application/gzip" : "application/zip";
      const upload = (await post("v1/uploads", { filename: file.name, contentType: type, sizeBytes: file.size })).data;
      await send(upload, file, (fraction) => {
        progress.value = Math.round(fraction * 100);
      });
      progress.value = 100;
      state.textContent = "Uploaded. Importing…";
      const body = { uploadId: upload.uploadId };
      if (name.value.trim()) body.name = name.value.trim();
      const started = await post("v1/projects/import", body);
      const result = await follow(started.data.callbackId);
      state.textContent = "";
      state.append("Imported: ", h("a", { href: `#/projects/${encodeURIComponent(result.projectId)}`, text: result.name || result.projectId }));
    } catch (error) {
      state.textContent = "";
      errors.append(errorBox(error));
    }
  }

  main.append(
    h("h1", { text: "Import an archive", tabindex: "-1" }),
    h("div", { class: "card" }, field("Name of the new project (optional)", name), input, zone, h("div", { class: "field" }, progress), state, errors),
  );
}

// XMLHttpRequest, not fetch: only it reports upload progress.
function send(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [key, value] of Object.entries(upload.fields || {})) form.append(key, value);
    form.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method || "POST", upload.url);
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => (xhr.status < 300 ? resolve() : reject(new Error(`The upload was refused (HTTP ${xhr.status}).`))));
    xhr.addEventListener("error", () => reject(new Error("The upload failed: the storage could not be reached.")));
    xhr.send(form);
  });
}

async function follow(callbackId) {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    // Not api(): 202 (still running) is an answer here, not an error.
    const response = await fetch(apiUrl(`v2/operations/${encodeURIComponent(callbackId)}`), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    const body = await response.json().catch(() => null);
    if (response.status === 200) return body.data;
    if (response.status !== 202) throw new Error((body && body.error && body.error.message) || `The import failed (HTTP ${response.status}).`);
    await new Promise((r) => window.setTimeout(r, 1000));
  }
  throw new Error("The import is taking long: look for it in the projects later.");
}
