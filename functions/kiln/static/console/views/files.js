// The generated code at a ref (a branch such as main or a task's feat/... branch, or a commit
// sha): a directory listing with breadcrumbs, and a file with line numbers and highlighting.
import { get } from "../api.js";
import { clear, errorBox, field, h } from "../dom.js";
import { highlight, languageOf } from "../highlight.js";

export async function filesView(main, projectId, query) {
  const ref = query.get("ref") || "main";
  const path = query.get("path") || "/";
  const file = query.get("file");
  const base = `v1/projects/${encodeURIComponent(projectId)}`;
  const project = (await get(base)).data;
  const link = (params) => {
    const search = new URLSearchParams({ ref, ...params });
    return `#/projects/${encodeURIComponent(projectId)}/files?${search}`;
  };
  const refInput = h("input", { name: "ref", value: ref, list: "refs", maxlength: "255", spellcheck: "false" });
  const refs = h("datalist", { id: "refs" }, h("option", { value: "main" }));
  const refForm = h("form", { class: "filters" }, field("Branch or commit", refInput), refs, h("button", { type: "submit", text: "Show" }));
  refForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const search = new URLSearchParams({ ref: refInput.value.trim() || "main", path });
    window.location.hash = `#/projects/${encodeURIComponent(projectId)}/files?${search}`;
  });
  const content = h("div");
  main.append(
    h("p", { class: "crumbs" }, h("a", { href: "#/projects", text: "Projects" }), " / ", h("a", { href: `#/projects/${encodeURIComponent(projectId)}`, text: project.name }), " /"),
    h("h1", { text: `Files at ${ref}`, tabindex: "-1" }),
    refForm,
    content,
  );
  branchesOf(base).then((names) => refs.append(...names.map((name) => h("option", { value: name })))).catch(() => {});
  try {
    if (file) await showFile(content, base, ref, file, link);
    else await showDirectory(content, base, ref, path, link);
  } catch (error) {
    content.append(errorBox(error));
  }
}

// The branches Kiln made: main and each task's branch of the latest build.
async function branchesOf(base) {
  const runs = (await get(`${base}/runs`, { pageSize: 1 })).data;
  if (!runs.length) return [];
  const tasks = (await get(`${base}/runs/${encodeURIComponent(runs[0].id)}/tasks`)).data;
  return tasks.map((t) => t.branchName).filter(Boolean);
}

function crumbs(path, link) {
  const parts = path.split("/").filter(Boolean);
  const items = [h("li", {}, h("a", { href: link({ path: "/" }), text: "(root)" }))];
  parts.forEach((part, n) => items.push(h("li", {}, h("a", { href: link({ path: "/" + parts.slice(0, n + 1).join("/") }), text: part }))));
  return h("nav", { "aria-label": "Folders" }, h("ol", { class: "path" }, items));
}

async function showDirectory(container, base, ref, path, link) {
  const listing = (await get(`${base}/files`, { ref, path })).data;
  const entries = [...listing.entries].sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === "directory" ? -1 : 1));
  const prefix = path.replace(/\/+$/, "");
  container.append(
    crumbs(path, link),
    listing.commit ? h("p", { class: "muted small", text: `commit ${listing.commit}` }) : "",
    h("ul", { class: "entries" }, entries.map((entry) => {
      const full = `${prefix}/${entry.name}`.replace(/^\/+/, "");
      return h("li", { class: entry.type },
        entry.type === "directory"
          ? h("a", { href: link({ path: "/" + full }), text: `${entry.name}/` })
          : h("a", { href: link({ path, file: full }), text: entry.name }),
        entry.size !== undefined ? h("span", { class: "muted small", text: ` ${entry.size} bytes` }) : "");
    })),
  );
}

async function showFile(container, base, ref, file, link) {
  const encoded = file.split("/").map(encodeURIComponent).join("/");
  const data = (await get(`${base}/files/${encoded}`, { ref })).data;
  const folder = "/" + file.split("/").slice(0, -1).join("/");
  container.append(crumbs(folder, link), h("h2", { text: file }));
  if (data.encoding !== "utf-8") {
    container.append(h("p", { text: `A binary file of ${data.size} bytes.` }));
    return;
  }
  const language = languageOf(file);
  const lines = highlight(file, data.content);
  const code = h("code", { class: `lang-${language || "text"}` });
  lines.forEach((tokens, n) => {
    code.append(h("span", { class: "ln", "aria-hidden": "true", text: String(n + 1) }));
    for (const [kind, text] of tokens) code.append(kind ? h("span", { class: `t-${kind}`, text }) : document.createTextNode(text));
    code.append("\n");
  });
  container.append(h("pre", { class: "code", tabindex: "0", "aria-label": `${file}, ${lines.length} lines` }, code));
}
