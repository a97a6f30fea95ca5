// The API, called with the session cookie (same origin: fetch sends it by itself) and, on every
// change, the session's CSRF token as X-CSRF-Token. URLs are relative to the page's directory
// (/app/ or, deployed, /<stage>/app/), so "v1/projects" is /v1/projects or /<stage>/v1/projects.

export const ROOT = new URL("../", document.baseURI);

let csrfToken = null;
let onSignedOut = () => {};

export function setCsrfToken(token) {
  csrfToken = token;
}

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export function apiUrl(path, query) {
  const url = new URL(path.replace(/^\//, ""), ROOT);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  return url;
}

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `The request failed (HTTP ${status}).`);
    this.status = status;
    this.code = error.code || "HTTP_" + status;
    this.details = error.details || {};
  }
}

// Calls the API; answers the parsed body ({success, data, pagination}) or null for 204.
export async function api(method, path, { body, query, signal } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRF-Token"] = csrfToken || "";
  const init = { method, headers, credentials: "same-origin", signal };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(apiUrl(path, query), init);
  if (response.status === 204) return null;
  let parsed = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const error = new ApiError(response.status, parsed);
    if (response.status === 401 && path !== "v1/sessions") onSignedOut();
    throw error;
  }
  return parsed;
}

export const get = (path, query) => api("GET", path, { query });
export const post = (path, body) => api("POST", path, { body });
