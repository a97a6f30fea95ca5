"""The web console's files, as served under /app/ by kiln.handlers.console.

A module of its own, without settings: the OpenAPI document lists the names too, and it is
built where no function's settings exist (the CDK app packages it at synthesis).
"""

PAGE = "index.html"
# Every file of the console. A new file must be listed here (a unit test compares this list with
# the directory).
FILES = (
    PAGE,
    "console.css",
    "app.js",
    "api.js",
    "dom.js",
    "diff.js",
    "highlight.js",
    "views/signin.js",
    "views/projects.js",
    "views/project.js",
    "views/build.js",
    "views/files.js",
    "views/settings.js",
)
