// Small DOM helpers. Every value from the API goes in as text (textContent, attributes through
// setAttribute), never as HTML, so a project named "<script>" is shown as those characters.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "text") {
      el.textContent = value;
    } else if (name === "value" && (tag === "input" || tag === "textarea")) {
      el.defaultValue = value; // what a form's reset() returns to
      el.value = value;
    } else if (name === "value" || name === "checked" || name === "disabled" || name === "hidden") {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let counter = 0;
export function uid(prefix = "f") {
  counter += 1;
  return `${prefix}-${counter}`;
}

// A labelled form control: a <label> tied to its input by id (WCAG 1.3.1, 4.1.2).
export function field(label, control, hint) {
  const id = control.id || uid();
  control.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint`, text: hint }) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id, text: label }), hintEl, control);
}

export function statusBadge(status) {
  return h("span", { class: `badge status-${status}`, "data-status": status, text: status.replace(/_/g, " ") });
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return h("time", { datetime: iso, text: date.toLocaleString() });
}

// An error of the API shown where it happened, read out at once (role=alert).
export function errorBox(error) {
  const box = h("div", { class: "error", role: "alert" }, h("p", { text: error.message || String(error) }));
  const fields = error.details && Array.isArray(error.details.fields) ? error.details.fields : [];
  if (fields.length) {
    box.append(h("ul", {}, fields.map((f) => h("li", { text: `${f.field}: ${f.message}` }))));
  }
  return box;
}

export function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message;
  window.clearTimeout(toast.timer);
  toast.timer = window.setTimeout(() => {
    el.textContent = "";
  }, 6000);
}

// Runs an action from a button: disabled while it runs, its error shown in `errors`.
export async function busy(button, errors, action) {
  if (errors) clear(errors);
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await action();
  } catch (error) {
    if (errors) errors.append(errorBox(error));
    else toast(error.message || String(error));
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

export function heading(text, level = 1) {
  const el = h(`h${level}`, { text, tabindex: level === 1 ? "-1" : undefined });
  return el;
}

// A wide table scrolls sideways inside its own box on a phone instead of widening the page;
// the box takes the focus so a keyboard can scroll it too.
export function scrollable(table, label) {
  return h("div", { class: "table-wrap", role: "region", tabindex: "0", "aria-label": label }, table);
}
