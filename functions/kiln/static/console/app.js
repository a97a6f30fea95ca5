// The console's entry point: finds out who is signed in, then shows the view the URL's
// fragment names (#/projects, #/projects/<id>, ...). A signed-out visitor gets the sign-in form.
import { api, setCsrfToken, whenSignedOut } from "./api.js";
import { clear, h } from "./dom.js";
import { buildView } from "./views/build.js";
import { filesView } from "./views/files.js";
import { projectView } from "./views/project.js";
import { importView, projectsView } from "./views/projects.js";
import { keysView, oauthView, webhooksView } from "./views/settings.js";
import { signInView } from "./views/signin.js";

const main = document.getElementById("main");
let session = null;
// Views register what to stop when the person leaves them (an EventSource, a timer).
let cleanups = [];
let rendered = 0;

export function onLeave(cleanup) {
  cleanups.push(cleanup);
}

const ROUTES = [
  [/^\/projects$/, () => projectsView],
  [/^\/projects\/([^/]+)$/, (m) => (el, q) => projectView(el, m[1], q)],
  [/^\/projects\/([^/]+)\/runs\/([^/]+)$/, (m) => (el) => buildView(el, m[1], m[2])],
  [/^\/projects\/([^/]+)\/files$/, (m) => (el, q) => filesView(el, m[1], q)],
  [/^\/import$/, () => importView],
  [/^\/keys$/, () => keysView],
  [/^\/oauth$/, () => oauthView],
  [/^\/webhooks$/, () => webhooksView],
];

function parseHash() {
  const raw = window.location.hash.replace(/^#/, "") || "/projects";
  const [path, search] = raw.split("?", 2);
  return { path, query: new URLSearchParams(search || "") };
}

function showWho() {
  const who = clear(document.getElementById("who"));
  const nav = document.getElementById("nav");
  nav.hidden = !session;
  if (!session) return;
  const signOut = h("button", { type: "button", class: "link", text: "Sign out" });
  signOut.addEventListener("click", async () => {
    try {
      await api("DELETE", "v1/sessions/current");
    } finally {
      signedOut();
    }
  });
  who.append(h("span", { class: "muted", text: session.user.email }), " ", signOut);
}

function signedOut() {
  session = null;
  setCsrfToken(null);
  showWho();
  render();
}

export function signedIn(current) {
  session = current;
  setCsrfToken(current.csrfToken);
  showWho();
  if (!window.location.hash.startsWith("#/")) window.location.hash = "#/projects";
  else render();
}

export function currentUser() {
  return session ? session.user : null;
}

async function render() {
  for (const cleanup of cleanups.splice(0)) cleanup();
  clear(main);
  if (!session) {
    document.title = "Sign in - Kiln";
    signInView(main);
    return;
  }
  const { path, query } = parseHash();
  for (const [pattern, view] of ROUTES) {
    const match = path.match(pattern);
    if (match) {
      try {
        await view(match)(main, query);
      } catch (error) {
        main.append(h("div", { class: "error", role: "alert" }, h("p", { text: error.message || String(error) })));
      }
      const title = main.querySelector("h1");
      document.title = `${title ? title.textContent : "Kiln"} - Kiln`;
      // After a move between views, focus goes to the new view's heading, so keyboard and
      // screen-reader users start there; a fresh load leaves it at the top (the skip link first).
      if (title && rendered > 0) {
        title.focus({ preventScroll: true });
      }
      rendered += 1;
      return;
    }
  }
  main.append(h("h1", { text: "Not found", tabindex: "-1" }), h("p", {}, h("a", { href: "#/projects", text: "Back to the projects" })));
}

window.addEventListener("hashchange", () => {
  // The skip link's own fragment (#main) is not a view.
  if (window.location.hash.startsWith("#/") || window.location.hash === "") render();
});
document.getElementById("skip").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

// A 401 ends the view only when the session itself has ended (expired, signed out elsewhere):
// other 401s (a refused credential in a request's body) are the request's own error.
whenSignedOut(async () => {
  if (!session) return;
  try {
    await api("GET", "v1/sessions/current");
  } catch {
    signedOut();
  }
});

async function start() {
  try {
    const answer = await api("GET", "v1/sessions/current");
    signedIn(answer.data);
  } catch {
    signedOut();
  }
}

start();
