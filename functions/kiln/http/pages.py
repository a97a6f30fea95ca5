"""The HTML pages Kiln serves itself: sign-in, consent and the authorization error page
(`/oauth/authorize`, CONTRACT section 7).

Plain server-rendered HTML with no script at all, so they work with JavaScript off and leave
nothing for an injected script to ride on. Every value that did not come from this module
(a client's name, a person's name and email, the hidden fields carrying the authorization
request, an error's description) goes through `html.escape` with quotes escaped, in text and in
attributes alike: a client named `<script>` is shown as those characters.

The stylesheet is inline and allowed by its hash, not by `'unsafe-inline'`, so the page needs no
second request and the policy still refuses any other style. The policy allows nothing else:
no script, image, font or connection, no framing (clickjacking a consent button is the classic
attack on these pages), no `<base>`. `form-action` names this origin and, on the pages of a
checked request, the origin of the client's redirect URI: Chromium and Safari apply
`form-action` to the redirects that follow a form submission, so without it the 303 that ends
an approval or a refusal would be blocked (w3c/webappsec-csp#8).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from html import escape
from typing import Any

CSS = """\
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}
body{margin:0;padding:2rem 1rem;background:Canvas;color:CanvasText}
main{max-width:28rem;margin:0 auto}
h1{font-size:1.4rem;margin:0 0 1rem}
label{display:block;margin:1rem 0 .25rem;font-weight:600}
input[type=email],input[type=password]{box-sizing:border-box;width:100%;padding:.5rem;font:inherit}
button{font:inherit;padding:.5rem 1.25rem;margin:1.25rem .5rem 0 0;cursor:pointer}
button.primary{font-weight:600}
ul.scopes{padding-left:1.25rem}
.notice{border-left:4px solid #b3261e;padding:.25rem .75rem;margin:1rem 0}
.small{font-size:.875rem;opacity:.8}
:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}
"""
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()

# An origin a policy may name: a scheme, a host name or address, a port; nothing that could end
# the directive (`;`, `,`, a space) or the header.
_ORIGIN = re.compile(r"^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def content_security_policy(form_origins: Iterable[str] = ()) -> str:
    targets = ["'self'", *(origin for origin in form_origins if _ORIGIN.match(origin))]
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src '{STYLE_HASH}'",
            "form-action " + " ".join(dict.fromkeys(targets)),
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ]
    )


def security_headers(form_origins: Iterable[str] = ()) -> dict[str, str]:
    """The headers of every answer of these pages, the redirects included."""
    return {
        "Content-Security-Policy": content_security_policy(form_origins),
        "X-Frame-Options": "DENY",
        # A page may hold a CSRF token, a redirect a code: neither may be kept by a cache.
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        # The page's URL holds the whole authorization request; the redirect target, the code.
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


def html_answer(
    status: int,
    page: str,
    request_id: str,
    *,
    form_origins: Iterable[str] = (),
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A page as the API Gateway proxy answer."""
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": "text/html; charset=utf-8",
            **security_headers(form_origins),
            **(headers or {}),
            "X-Request-Id": request_id,
        },
        "body": page,
        "isBase64Encoded": False,
    }


def redirect_answer(location: str, request_id: str, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """303 See Other: the browser follows it with a GET, whatever the method that led here."""
    return {
        "statusCode": 303,
        "headers": {**security_headers(), **(headers or {}), "Location": location, "X-Request-Id": request_id},
        "body": "",
        "isBase64Encoded": False,
    }


def _layout(title: str, content: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} - Kiln</title>
<style>{CSS}</style>
</head>
<body>
<main>
{content}
</main>
</body>
</html>
"""


def _hidden(fields: Iterable[tuple[str, str]]) -> str:
    return "\n".join(
        f'<input type="hidden" name="{escape(name, quote=True)}" value="{escape(value, quote=True)}">'
        for name, value in fields
    )


def _notice(message: str | None) -> str:
    if not message:
        return ""
    return f'<p class="notice" role="alert">{escape(message)}</p>\n'


def sign_in_page(
    client_name: str, fields: Iterable[tuple[str, str]], *, email: str = "", message: str | None = None
) -> str:
    """Email and password, posted back to /oauth/authorize with the request in hidden fields."""
    client = escape(client_name)
    return _layout(
        "Sign in",
        f"""<h1>Sign in to Kiln</h1>
<p><strong>{client}</strong> asks to use your Kiln account. Sign in to see what it asks for.</p>
{_notice(message)}<form method="post" action="authorize">
{_hidden(fields)}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="254" \
value="{escape(email, quote=True)}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256">
<button class="primary" type="submit" name="action" value="sign_in">Sign in</button>
</form>""",
    )


def consent_page(
    client_name: str,
    redirect_origin: str,
    person_name: str,
    person_email: str,
    scopes: Iterable[str],
    fields: Iterable[tuple[str, str]],
    csrf_token: str,
) -> str:
    """The client, what it would be allowed (`scopes`: their plain words), Approve and Deny."""
    client = escape(client_name)
    allowed = "\n".join(f"<li>{escape(words)}</li>" for words in scopes)
    if allowed:
        ask = f"""<p><strong>{client}</strong> will be able to:</p>
<ul class="scopes">
{allowed}
</ul>"""
        approve = '<button class="primary" type="submit" name="action" value="approve">Approve</button>\n'
    else:
        # Approving would grant nothing: the person holds none of what the client asks for.
        ask = f"<p>You hold none of the permissions <strong>{client}</strong> asks for, so it cannot be allowed.</p>"
        approve = ""
    return _layout(
        "Allow access",
        f"""<h1>Allow {client} to use your Kiln account?</h1>
<p class="small">Signed in as {escape(person_name)} ({escape(person_email)}).</p>
{ask}
<p class="small">Either way you go back to {escape(redirect_origin)}.</p>
<form method="post" action="authorize">
{_hidden([*fields, ("csrf_token", csrf_token)])}
{approve}<button type="submit" name="action" value="deny">Deny</button>
</form>""",
    )


def error_page(heading: str, message: str, request_id: str) -> str:
    """A request Kiln cannot send back to its client (an unknown client, a redirect URI it did
    not register), or a form it refuses."""
    return _layout(
        heading,
        f"""<h1>{escape(heading)}</h1>
{_notice(message)}<p>Go back to the app you came from and start again. If this keeps happening, tell its developer.</p>
<p class="small">Request id: {escape(request_id)}</p>""",
    )
