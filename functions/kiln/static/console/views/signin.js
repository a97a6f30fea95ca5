// The sign-in form: POST /v1/sessions with the email and password; the answer sets the
// __Host-kiln_session cookie (HttpOnly: this script never sees it) and carries the CSRF token.
import { post } from "../api.js";
import { signedIn } from "../app.js";
import { errorBox, field, h } from "../dom.js";

export function signInView(main) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true, maxlength: "254" });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
    maxlength: "256",
  });
  const errors = h("div", { class: "errors" });
  const submit = h("button", { type: "submit", class: "primary", text: "Sign in" });
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "signin-title" },
    field("Email", email),
    field("Password", password),
    errors,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errors.replaceChildren();
    submit.disabled = true;
    try {
      const answer = await post("v1/sessions", { email: email.value, password: password.value });
      password.value = "";
      signedIn(answer.data);
    } catch (error) {
      errors.append(errorBox(error));
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  main.append(
    h("h1", { id: "signin-title", text: "Sign in to Kiln", tabindex: "-1" }),
    h("p", { class: "muted", text: "Use the email and password of your Kiln account." }),
    form,
  );
  email.focus();
}
