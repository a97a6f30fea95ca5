// Developer settings: API keys (the secret shown once, with a copy button), OAuth apps, and
// webhooks with their delivery log.
import { api, get, post } from "../api.js";
import { currentUser, onLeave } from "../app.js";
import { busy, clear, errorBox, field, h, scrollable, statusBadge, toast, when } from "../dom.js";

const SCOPES = ["project:read", "project:write", "ai:invoke", "admin"];

function scopeBoxes(name, held) {
  const boxes = SCOPES.filter((s) => held.includes(s)).map((scope) => {
    const input = h("input", { type: "checkbox", name, value: scope, id: `${name}-${scope.replace(":", "-")}`, checked: scope === "project:read" || undefined });
    return [h("div", { class: "choice" }, input, h("label", { for: input.id, text: scope })), input];
  });
  return [h("fieldset", {}, h("legend", { text: "Scopes" }), boxes.map(([row]) => row)), () => boxes.filter(([, i]) => i.checked).map(([, i]) => i.value)];
}

function copyButton(text, label) {
  const button = h("button", { type: "button", text: label });
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast("Copied.");
    } catch {
      toast("Copying is not allowed here: select the text and copy it.");
    }
  });
  return button;
}

async function listInto(container, path, render) {
  try {
    const items = (await get(path, { pageSize: 100 })).data;
    clear(container).append(items.length ? render(items) : h("p", { class: "muted", text: "None yet." }));
  } catch (error) {
    clear(container).append(errorBox(error));
  }
}

export async function keysView(main) {
  const list = h("div");
  const load = () => listInto(list, "v1/api-keys", (keys) => scrollable(h("table", { class: "list" }, h("caption", { class: "visually-hidden", text: "API keys" }),
    h("thead", {}, h("tr", {}, ["Name", "Prefix", "Scopes", "Status", "Created", ""].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, keys.map((key) => {
      const revoke = key.status === "active" || key.status === "rotated" ? h("button", { type: "button", class: "link", text: "Revoke" }) : "";
      if (revoke) revoke.addEventListener("click", () => busy(revoke, null, async () => {
        if (!window.confirm(`Revoke the key "${key.name}"? Programs using it stop working.`)) return;
        await api("DELETE", `v1/api-keys/${encodeURIComponent(key.id)}`);
        load();
      }));
      return h("tr", {}, h("td", { text: key.name }), h("td", {}, h("code", { text: key.prefix })), h("td", { text: key.scopes.join(" ") }), h("td", {}, statusBadge(key.status)), h("td", {}, when(key.createdAt)), h("td", {}, revoke));
    }))), "API keys"));
  const name = h("input", { name: "name", required: true, maxlength: "200" });
  const [scopes, chosen] = scopeBoxes("key-scope", currentUser().scopes);
  const errors = h("div");
  const secret = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary", text: "Create key" });
  const form = h("form", { class: "card" }, field("Name", name), scopes, errors, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, errors, async () => {
      const key = (await post("v1/api-keys", { name: name.value, scopes: chosen() })).data;
      name.value = "";
      const value = h("code", { class: "secret", id: "new-secret", text: key.secret });
      clear(secret).append(h("div", { class: "card notice", role: "alert" },
        h("p", {}, h("strong", { text: `The secret of "${key.name}"` }), ": copy it now. Kiln keeps only its hash and shows it this once."),
        h("p", {}, value), copyButton(key.secret, "Copy the secret")));
      load();
    });
  });
  main.append(h("h1", { text: "API keys", tabindex: "-1" }), secret, h("div", { class: "grid two" }, h("section", { "aria-label": "Keys" }, list), h("section", { "aria-labelledby": "new-key" }, h("h2", { id: "new-key", text: "New key" }), form)));
  await load();
}

export async function oauthView(main) {
  const list = h("div");
  const load = () => listInto(list, "v1/oauth/clients", (clients) => h("ul", { class: "cards" }, clients.map((client) => {
    const remove = h("button", { type: "button", class: "link", text: "Delete" });
    remove.addEventListener("click", () => busy(remove, null, async () => {
      if (!window.confirm(`Delete "${client.name}"? Every grant it holds is revoked.`)) return;
      await api("DELETE", `v1/oauth/clients/${encodeURIComponent(client.clientId)}`);
      load();
    }));
    return h("li", { class: "card" }, h("strong", { text: client.name }), h("p", {}, "Client id: ", h("code", { text: client.clientId }), " ", copyButton(client.clientId, "Copy")),
      h("p", { class: "small", text: `Redirect URIs: ${(client.redirectUris || []).join(", ")}` }), h("p", { class: "small", text: `Scopes: ${(client.scopes || []).join(" ")}` }), remove);
  })));
  const name = h("input", { name: "name", required: true, maxlength: "200" });
  const uris = h("textarea", { name: "redirectUris", rows: "3", required: true });
  const [scopes, chosen] = scopeBoxes("client-scope", currentUser().scopes);
  const errors = h("div");
  const submit = h("button", { type: "submit", class: "primary", text: "Register app" });
  const form = h("form", { class: "card" }, field("Name", name), field("Redirect URIs", uris, "One a line: https://, or http://localhost and http://127.0.0.1 with any port."), scopes, errors, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, errors, async () => {
      await post("v1/oauth/clients", { name: name.value, redirectUris: uris.value.split(/\s+/).filter(Boolean), scopes: chosen() });
      form.reset();
      load();
    });
  });
  main.append(h("h1", { text: "OAuth apps", tabindex: "-1" }), h("div", { class: "grid two" }, h("section", { "aria-label": "Apps" }, list), h("section", { "aria-labelledby": "new-app" }, h("h2", { id: "new-app", text: "Register an app" }), form)));
  await load();
}

export async function webhooksView(main) {
  const list = h("div");
  const deliveries = h("section", { "aria-labelledby": "deliveries-title" });
  let timer = 0;
  onLeave(() => window.clearTimeout(timer));
  // Pending deliveries are retried by Kiln: the log is read again every 2 s while any is pending.
  const showDeliveries = async (hook, rounds = 15) => {
    window.clearTimeout(timer);
    try {
      const items = (await get(`v1/webhooks/${encodeURIComponent(hook.id)}/deliveries`, { limit: 50 })).data;
      clear(deliveries).append(h("h2", { id: "deliveries-title", text: `Deliveries to ${hook.url}` }));
      if (rounds > 0 && items.some((d) => d.status === "pending")) timer = window.setTimeout(() => showDeliveries(hook, rounds - 1), 2000);
      deliveries.append(items.length ? scrollable(h("table", { class: "list" },
        h("thead", {}, h("tr", {}, ["Event", "Status", "Attempts", "Response", "When"].map((t) => h("th", { scope: "col", text: t })))),
        h("tbody", {}, items.map((d) => {
          const attempts = Array.isArray(d.attempts) ? d.attempts : [];
          const last = attempts[attempts.length - 1];
          const response = last ? (last.statusCode !== null && last.statusCode !== undefined ? `HTTP ${last.statusCode}` : last.error || "") : "";
          return h("tr", { "data-delivery": d.id }, h("td", { text: d.eventType || "" }), h("td", {}, statusBadge(String(d.status || ""))), h("td", { text: String(attempts.length) }), h("td", { text: response }), h("td", {}, when(d.createdAt)));
        }))), "Deliveries")
        : h("p", { class: "muted", text: "No delivery yet." }));
    } catch (error) {
      clear(deliveries).append(errorBox(error));
    }
  };
  const load = () => listInto(list, "v1/webhooks", (hooks) => h("ul", { class: "cards" }, hooks.map((hook) => {
    const show = h("button", { type: "button", text: "Delivery log" });
    show.addEventListener("click", () => showDeliveries(hook));
    const test = h("button", { type: "button", text: "Send a test event" });
    test.addEventListener("click", () => busy(test, null, async () => {
      await post(`v1/webhooks/${encodeURIComponent(hook.id)}/test`);
      toast("Test event queued.");
      showDeliveries(hook);
    }));
    const remove = h("button", { type: "button", class: "link", text: "Delete" });
    remove.addEventListener("click", () => busy(remove, null, async () => {
      if (!window.confirm(`Delete the webhook to ${hook.url}?`)) return;
      await api("DELETE", `v1/webhooks/${encodeURIComponent(hook.id)}`);
      load();
    }));
    return h("li", { class: "card" }, h("strong", { text: hook.url }), h("p", { class: "small", text: `Events: ${(hook.events || []).join(", ")}` }), statusBadge(String(hook.status || "active")), h("div", { class: "row" }, show, test, remove));
  })));
  const url = h("input", { name: "url", type: "url", required: true, maxlength: "2048" });
  const events = h("input", { name: "events", required: true, value: "run.*" });
  const errors = h("div");
  const secret = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary", text: "Add webhook" });
  const form = h("form", { class: "card" }, field("URL", url), field("Events", events, "Space-separated: run.completed, run.*, export.completed, custom.*, or *."), errors, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, errors, async () => {
      const hook = (await post("v1/webhooks", { url: url.value, events: events.value.split(/[\s,]+/).filter(Boolean) })).data;
      form.reset();
      if (hook.secret) {
        clear(secret).append(h("div", { class: "card notice", role: "alert" }, h("p", { text: "The signing secret, shown this once:" }), h("p", {}, h("code", { class: "secret", text: hook.secret })), copyButton(hook.secret, "Copy the secret")));
      }
      load();
    });
  });
  main.append(h("h1", { text: "Webhooks", tabindex: "-1" }), secret, h("div", { class: "grid two" }, h("section", { "aria-label": "Webhooks" }, list), h("section", { "aria-labelledby": "new-hook" }, h("h2", { id: "new-hook", text: "New webhook" }), form)), deliveries);
  await load();
}
