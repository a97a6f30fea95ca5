"""What git itself refuses in a tree: `.git` under its aliases, and hostile `.gitmodules`. No AWS here.

A Kiln repository is meant to be handed to git (exports, `git clone` of a pushed copy), and
git refuses trees that hold a path it reads as `.git` (`git fsck --strict` reports
`hasDotgit`, `git clone` will not check it out: such a path writes into the clone's own
`.git` on Windows or macOS), or a `.gitmodules` whose submodule settings would run commands
or smuggle options. This module is git's own logic (its current source), ported as written, so that
Kiln refuses what git refuses, on every file system git protects, whatever the server runs on:

- `verify_path` (read-cache.c) with both `core.protectNTFS` and `core.protectHFS` on, as
  `git fsck` checks whatever its platform;
- `is_ntfs_dotgit` and `is_ntfs_dot_generic` (path.c): NTFS drops trailing dots and spaces
  (`.git.`, `.git  `), has 8.3 short names (`git~1`, `gitmod~1`, `gi7eba~1`) and alternate
  data streams (`.git::$INDEX_ALLOCATION`);
- `is_hfs_dotgit` (utf8.c): HFS+ ignores some zero-width and direction code points
  (`.g\\u200cit`) and folds ASCII case;
- `fsck_tree` and `fsck_blob` (fsck.c): a file whose name is an alias of `.gitmodules` has its
  content checked, in any directory: `check_submodule_name`, `check_submodule_url`
  (submodule-config.c, with `url_normalize` of urlmatch.c), a submodule `path` that looks
  like an option, an `update` that runs a command; `.gitattributes` with a line of 2048 bytes
  or more, or over 100 MiB;
- the config file parser (config.c) that reads `.gitmodules`.

A few choices are stricter than git, on purpose: a `.gitmodules` git cannot parse is refused
(fsck only notes it, but every `git submodule` command then fails on it, and a parser that
stopped early would let a later line through unchecked), and so are a submodule `path` with a
`..` component, a `name` starting with `-` (no use, only danger) and a `.gitmodules` over
GITMODULES_MAX_BYTES. The URL rules are those of current git (`url_normalize`), stricter than
older releases. tests/unit/kiln/domain/test_git_paths.py holds all of it against the installed
`git fsck --strict`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

# Reasons (kiln.domain.archives.REASONS uses them as they are).
GIT_PATH = "git_path"
GITMODULES_NAME = "gitmodules_name"
GITMODULES_URL = "gitmodules_url"
GITMODULES_PATH = "gitmodules_path"
GITMODULES_UPDATE = "gitmodules_update"
GITMODULES_PARSE = "gitmodules_parse"
GITATTRIBUTES = "gitattributes"
REASONS = frozenset(
    {GIT_PATH, GITMODULES_NAME, GITMODULES_URL, GITMODULES_PATH, GITMODULES_UPDATE, GITMODULES_PARSE, GITATTRIBUTES}
)

# attr.h: ATTR_MAX_LINE_LENGTH, ATTR_MAX_FILE_SIZE.
ATTRIBUTES_MAX_LINE = 2048
ATTRIBUTES_MAX_BYTES = 100 * 1024 * 1024
# git parses .gitmodules whatever its size; Kiln holds it in memory to parse it, so it caps it.
# Real ones are a few hundred bytes per submodule.
GITMODULES_MAX_BYTES = 1024 * 1024

_ALIAS_STARTS = frozenset(".gG~")
# utf8.c next_hfs_char: code points HFS+ ignores in a name.
HFS_IGNORED = frozenset(
    {
        0x200C,
        0x200D,
        0x200E,
        0x200F,
        0x202A,
        0x202B,
        0x202C,
        0x202D,
        0x202E,
        0x206A,
        0x206B,
        0x206C,
        0x206D,
        0x206E,
        0x206F,
        0xFEFF,
    }
)


@dataclass(frozen=True)
class GitProblem:
    """Why git would refuse a path or a file: `reason` is one of REASONS, `message` a phrase that
    follows the path's name ("'.git./x' has the segment ...")."""

    reason: str
    message: str


class ContentCheck(Protocol):
    """Looks at a file's content as it streams by, a chunk at a time."""

    def feed(self, chunk: bytes) -> GitProblem | None: ...

    def finish(self) -> GitProblem | None: ...


# --- names -----------------------------------------------------------------------------------


def _is_dir_sep(c: str) -> bool:
    return c == "/"


def _is_xplatform_dir_sep(c: str) -> bool:
    return c in "/\\"


def _ascii_lower(c: str) -> str:
    return c.lower() if "A" <= c <= "Z" else c


def _starts_iascii(text: str, prefix: str) -> bool:
    """strncasecmp(text, prefix, len(prefix)) == 0, ASCII case only (git's needles are ASCII)."""
    return len(text) >= len(prefix) and all(_ascii_lower(a) == b for a, b in zip(text, prefix, strict=False))


def _hfs_chars(name: str) -> Iterator[str]:
    return (c for c in name if ord(c) not in HFS_IGNORED)


def is_hfs_dot(name: str, needle: str) -> bool:
    """utf8.c is_hfs_dot_generic: `name` (up to the next `/`) is `.` + needle on HFS+, which
    ignores HFS_IGNORED code points and ASCII case. `name` may run on past the component."""
    chars = _hfs_chars(name)
    if next(chars, "") != ".":
        return False
    for expected in needle:
        c = next(chars, "")
        if not c or ord(c) > 127 or _ascii_lower(c) != expected:
            return False
    c = next(chars, "")
    return not c or _is_dir_sep(c)


def is_hfs_dotgit(name: str) -> bool:
    return is_hfs_dot(name, "git")


def is_hfs_dotgitmodules(name: str) -> bool:
    return is_hfs_dot(name, "gitmodules")


def is_ntfs_dotgit(name: str) -> bool:
    """path.c is_ntfs_dotgit: `.git` or `git~1`, any ASCII case, then only dots and spaces up to
    the end, a separator (either slash) or a `:` (an alternate data stream)."""
    if name[:1] == ".":
        if not _starts_iascii(name[1:], "git"):
            return False
        rest = name[4:]
    elif _starts_iascii(name, "git~1"):
        rest = name[5:]
    else:
        return False
    for c in rest:
        if _is_xplatform_dir_sep(c) or c == ":":
            return True
        if c not in ". ":
            return False
    return True


def _only_spaces_and_periods(rest: str) -> bool:
    for c in rest:
        if c == ":":
            return True
        if c not in " .":
            return False
    return True


def is_ntfs_dot(name: str, dotgit_name: str, shortname_prefix: str) -> bool:
    """path.c is_ntfs_dot_generic: `.` + dotgit_name, its 6-letter short name with `~1`..`~4`,
    or the fall-back short name (`shortname_prefix` then `~` and digits), then only dots and
    spaces (or a `:`). Unlike is_ntfs_dotgit, a separator after the name does not match."""
    length = len(dotgit_name)
    if name[:1] == "." and _starts_iascii(name[1:], dotgit_name):
        return _only_spaces_and_periods(name[length + 1 :])
    if _starts_iascii(name, dotgit_name[:6]) and name[6:7] == "~" and "1" <= name[7:8] <= "4":
        return _only_spaces_and_periods(name[8:])
    i = 0
    saw_tilde = False
    while i < 8:
        if i >= len(name):
            return False
        c = name[i]
        if saw_tilde:
            if not "0" <= c <= "9":
                return False
        elif c == "~":
            i += 1
            if not "1" <= name[i : i + 1] <= "9":
                return False
            saw_tilde = True
        elif i >= 6 or ord(c) > 127 or _ascii_lower(c) != shortname_prefix[i]:
            return False
        i += 1
    return _only_spaces_and_periods(name[8:])


def is_ntfs_dotgitmodules(name: str) -> bool:
    return is_ntfs_dot(name, "gitmodules", "gi7eba")


def is_ntfs_dotgitattributes(name: str) -> bool:
    return is_ntfs_dot(name, "gitattributes", "gi7d29")


def is_dotgitmodules(name: str) -> bool:
    """A tree entry name git treats as `.gitmodules` (fsck checks the content of such a file)."""
    return is_hfs_dotgitmodules(name) or is_ntfs_dotgitmodules(name)


def is_dotgitattributes(name: str) -> bool:
    return is_hfs_dot(name, "gitattributes") or is_ntfs_dotgitattributes(name)


def _dotgit_alias(rest: str) -> str | None:
    """Why the component starting `rest` is `.git` to git (the rest of the path may follow)."""
    component = rest.split("/", 1)[0]
    if len(component) == 4 and component[0] == "." and _starts_iascii(component[1:], "git"):
        return "is '.git'"
    if is_ntfs_dotgit(rest):
        if component[:1] != ".":
            return "is the short (8.3) name Windows gives '.git'"
        return "is '.git' on Windows (NTFS drops trailing dots and spaces and reads ':' as a data stream)"
    if is_hfs_dotgit(rest):
        return "is '.git' on macOS (HFS+ ignores zero-width and direction characters, and letter case)"
    return None


def path_problem(path: str, *, symlink: bool = False) -> GitProblem | None:
    """read-cache.c verify_path with core.protectNTFS and core.protectHFS on, plus fsck's
    reading of backslashes as Windows separators: None when git accepts `path` as a file
    (a symbolic link when `symlink`), else the problem. Only git's `.git` rules are checked
    here; empty, `.` and `..` segments are the repository's own rules (and git's too)."""
    if not path:
        return GitProblem(GIT_PATH, "is empty")
    start = 0
    while True:
        rest = path[start:]
        # Every alias starts with '.', 'g' or (a short name of .gitmodules) '~' once HFS+'s
        # ignored code points are skipped, or has a backslash: most segments stop here.
        first = next((c for c in rest if ord(c) not in HFS_IGNORED), "")
        if first not in _ALIAS_STARTS and "\\" not in rest.split("/", 1)[0]:
            slash = path.find("/", start)
            if slash < 0:
                return None
            start = slash + 1
            continue
        why = _dotgit_alias(rest)
        if why is None:
            # fsck reads every backslash of a name as a separator (Windows would).
            component = rest.split("/", 1)[0]
            for index, char in enumerate(component):
                if char == "\\" and is_ntfs_dotgit(component[index + 1 :]):
                    why = "is '.git' after a backslash, which Windows reads as a separator"
                    break
        if why is None and symlink and (is_hfs_dotgitmodules(rest) or is_ntfs_dotgitmodules(rest)):
            return GitProblem(GIT_PATH, "is a symbolic link named like '.gitmodules', which git refuses")
        if why is not None:
            segment = rest.split("/", 1)[0]
            return GitProblem(GIT_PATH, f"has the segment '{_show(segment)}', which {why}: git refuses such a path")
        slash = path.find("/", start)
        if slash < 0:
            return None
        start = slash + 1


def _show(text: str, limit: int = 120) -> str:
    shown = "".join(c if c.isprintable() and ord(c) not in HFS_IGNORED else f"\\u{ord(c):04x}" for c in text)
    return shown if len(shown) <= limit else shown[:limit] + "…"


# --- .gitmodules -----------------------------------------------------------------------------

_EOF = -1
_NL = 10


def _isspace(c: int) -> bool:
    return c in (9, 10, 13, 32)  # git's sane_ctype: \t \n \r and space, nothing else


def _isalpha(c: int) -> bool:
    return 65 <= c <= 90 or 97 <= c <= 122


def _iskeychar(c: int) -> bool:
    return _isalpha(c) or 48 <= c <= 57 or c == 45  # isalnum or '-'


def _tolower(c: int) -> int:
    return c + 32 if 65 <= c <= 90 else c


class _ConfigParser:
    """config.c's parser (git_parse_source and its helpers) over a blob, collecting
    (variable, value) pairs; `error` when git would stop with "bad config line"."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.eof = False
        self.entries: list[tuple[bytes, bytes | None]] = []
        self.error = False

    def _raw(self) -> int:
        if self.pos < len(self.data):
            self.pos += 1
            return self.data[self.pos - 1]
        return _EOF

    def next_char(self) -> int:
        c = self._raw()
        if c == 13:
            c = self._raw()
            if c != _NL:
                if c != _EOF:
                    self.pos -= 1
                c = 13
        if c == _EOF:
            self.eof = True
            c = _NL
        return c

    def parse(self) -> None:
        bom = b"\xef\xbb\xbf"
        matched = 0  # bytes of a leading byte order mark seen; len(bom) + 1 once past it
        comment = False
        var = bytearray()
        baselen = 0
        while True:
            c = self.next_char()
            if matched < len(bom):
                if c == bom[matched]:
                    matched += 1
                    continue
                if matched:
                    break  # a partial byte order mark
                matched = len(bom) + 1
            if c == _NL:
                if self.eof:
                    return
                comment = False
                continue
            if comment:
                continue
            if _isspace(c):
                continue
            if c in (35, 59):  # '#', ';'
                comment = True
                continue
            if c == 91:  # '['
                var.clear()
                if not self._base_var(var) or not var:
                    break
                var.append(46)
                baselen = len(var)
                continue
            if not _isalpha(c):
                break
            del var[baselen:]
            var.append(_tolower(c))
            if not self._value(var):
                break
        self.error = True

    def _value(self, name: bytearray) -> bool:
        while True:
            c = self.next_char()
            if self.eof or not _iskeychar(c):
                break
            name.append(_tolower(c))
        while c in (32, 9):
            c = self.next_char()
        value: bytes | None = None
        if c != _NL:
            if c != 61:  # '='
                return False
            value = self._parse_value()
            if value is None:
                return False
        self.entries.append((bytes(name), value))
        return True

    def _parse_value(self) -> bytes | None:
        value = bytearray()
        quote = comment = False
        trim_len = 0
        while True:
            c = self.next_char()
            if c == _NL:
                if quote:
                    return None
                if trim_len:
                    del value[trim_len:]
                return bytes(value)
            if comment:
                continue
            if _isspace(c) and not quote:
                if not trim_len:
                    trim_len = len(value)
                if value:
                    value.append(c)
                continue
            if not quote and c in (59, 35):
                comment = True
                continue
            trim_len = 0
            if c == 92:  # backslash
                c = self.next_char()
                if c == _NL:
                    continue
                escaped = {116: 9, 98: 8, 110: 10, 92: 92, 34: 34}.get(c)  # t b n \ "
                if escaped is None:
                    return None
                value.append(escaped)
                continue
            if c == 34:  # '"'
                quote = not quote
                continue
            value.append(c)

    def _base_var(self, name: bytearray) -> bool:
        while True:
            c = self.next_char()
            if self.eof:
                return False
            if c == 93:  # ']'
                return True
            if _isspace(c):
                return self._extended_base_var(name, c)
            if not _iskeychar(c) and c != 46:
                return False
            name.append(_tolower(c))

    def _extended_base_var(self, name: bytearray, c: int) -> bool:
        while True:
            if c == _NL:
                return False
            c = self.next_char()
            if not _isspace(c):
                break
        if c != 34:
            return False
        name.append(46)
        while True:
            c = self.next_char()
            if c == _NL:
                return False
            if c == 34:
                break
            if c == 92:
                c = self.next_char()
                if c == _NL:
                    return False
            name.append(c)
        return self.next_char() == 93


def _submodule_key(var: bytes) -> tuple[bytes, bytes] | None:
    """config.c parse_config_key(var, "submodule"): (subsection, key), or None when `var` is
    not a `submodule.<name>.<key>` variable."""
    if not var.startswith(b"submodule."):
        return None
    rest = var[len(b"submodule") :]
    dot = rest.rfind(b".")
    if dot == 0:
        return None
    return rest[1:dot], rest[dot + 1 :]


def check_submodule_name(name: str) -> bool:
    """submodule-config.c check_submodule_name: not empty, no `..` component (either slash)."""
    if not name:
        return False
    components = name.replace("\\", "/").split("/")
    return ".." not in components


def _starts_with_dot_slash(url: str) -> bool:
    return url[:1] == "." and url[1:2] in ("/", "\\")


def _starts_with_dot_dot_slash(url: str) -> bool:
    return url[:2] == ".." and url[2:3] in ("/", "\\")


def _url_decode(url: str) -> str:
    """url.c url_decode: %XX decoded once (not before the first ':'), anything else kept."""
    colon = url.find(":")
    head, rest = (url[:colon], url[colon:]) if colon > 0 else ("", url)
    out = []
    i = 0
    while i < len(rest):
        c = rest[i]
        if c == "\0":
            break
        if c == "%" and i + 3 <= len(rest) and _hex2chr(rest[i + 1 : i + 3]) > 0:
            out.append(chr(_hex2chr(rest[i + 1 : i + 3])))
            i += 3
            continue
        out.append(c)
        i += 1
    return head + "".join(out)


def _hex2chr(pair: str) -> int:
    if len(pair) != 2 or any(c not in "0123456789abcdefABCDEF" for c in pair):
        return -1
    return int(pair, 16)


_URL_ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_URL_DIGIT = "0123456789"
_URL_SCHEME_CHARS = frozenset(_URL_ALPHA + _URL_DIGIT + "+.-")
_URL_HOST_CHARS = frozenset(_URL_ALPHA + _URL_DIGIT + ".-_[:]")


def _span(text: str, allowed: frozenset[str] | str, start: int = 0) -> int:
    end = start
    while end < len(text) and text[end] in allowed:
        end += 1
    return end - start


def _escapes_valid(text: str) -> bool:
    """append_normalized_escapes' only failure: a `%` not followed by two hex digits."""
    i = 0
    while i < len(text):
        if text[i] == "%":
            if _hex2chr(text[i + 1 : i + 3]) < 0:
                return False
            i += 3
        else:
            i += 1
    return True


def _url_normalizes(url: str) -> bool:
    """urlmatch.c url_normalize succeeds (returns non-NULL) for `url`, a non-file URL."""
    scheme_len = _span(url, _URL_SCHEME_CHARS)
    if not scheme_len or url[0] not in _URL_ALPHA or url[scheme_len : scheme_len + 3] != "://":
        return False
    scheme = url[:scheme_len].lower()
    rest = url[scheme_len + 3 :]
    slash = next((i for i, c in enumerate(rest) if c in "/?#"), len(rest))
    at = rest.find("@")
    if 0 <= at < slash:
        if at > 0 and not _escapes_valid(rest[:at]):
            return False
        rest = rest[at + 1 :]
        slash -= at + 1
    if not rest or rest[0] in ":/?#":
        return False  # no host
    colon = slash - 1
    while colon > 0 and rest[colon] not in ":]":
        colon -= 1
    if rest[colon] != ":":
        colon = slash
    if _span(rest, _URL_HOST_CHARS) < colon:
        return False
    if colon < slash:
        port = colon + 1
        port += _span(rest, "0", port)
        if port == slash and rest[port - 1] == "0":
            port -= 1
        digits = rest[port:slash]
        if port == slash or (digits == "80" and scheme == "http") or (digits == "443" and scheme == "https"):
            pass
        else:
            if _span(digits, _URL_DIGIT) < len(digits):
                return False
            number = int(digits) if len(digits) <= 5 else 0
            if not 1 <= number <= 65535:
                return False
    rest = rest[slash:]
    # The path: escapes valid, and no `..` climbing above the root.
    end = next((i for i, c in enumerate(rest) if c in "?#"), len(rest))
    path, tail = rest[:end], rest[end:]
    depth = 0
    for segment in (path[1:] if path.startswith("/") else path).split("/"):
        if not _escapes_valid(segment):
            return False
        plain = _decode_dots(segment)
        if plain == ".":
            continue
        if plain == "..":
            if depth == 0:
                return False
            depth -= 1
            continue
        depth += 1
    return _escapes_valid(tail)


def _decode_dots(segment: str) -> str:
    """A path segment with %2E unescaped (the only escape that matters for `.` and `..`)."""
    return segment.replace("%2e", ".").replace("%2E", ".")


def _url_to_curl_url(url: str) -> str | None:
    for prefix in ("http::", "https::", "ftp::", "ftps::"):
        if url.startswith(prefix):
            return url[len(prefix) :]
    if url.startswith(("http://", "https://", "ftp://", "ftps://")):
        return url
    return None


def check_submodule_url(url: str) -> bool:
    """submodule-config.c check_submodule_url: no option-looking URL; a relative or git:// URL
    with no newline once decoded and no `../` escaping to a host; a URL git hands to curl that
    normalizes and has no newline once decoded."""
    if url.startswith("-"):
        return False
    if _starts_with_dot_slash(url) or _starts_with_dot_dot_slash(url) or url.startswith("git://"):
        if "\n" in _url_decode(url):
            return False
        climbs = 0
        rest = url
        while True:
            if _starts_with_dot_dot_slash(rest):
                climbs += 1
                rest = rest[3:]
            elif _starts_with_dot_slash(rest):
                rest = rest[2:]
            else:
                break
        return not (climbs > 0 and rest[:1] in (":", "/"))
    curl = _url_to_curl_url(url)
    if curl is not None:
        return _url_normalizes(curl) and "\n" not in _url_decode(curl)
    return True


def gitmodules_problem(content: bytes) -> GitProblem | None:
    """fsck.c fsck_gitmodules_fn over a `.gitmodules` blob (plus the stricter rules in the
    module docstring): the first problem, or None."""
    parser = _ConfigParser(content)
    parser.parse()
    for var, raw in parser.entries:
        found = _submodule_key(var)
        if found is None:
            continue
        subsection, key = found
        name = subsection.decode("utf-8", "surrogateescape")
        shown_name = _show_bytes(subsection)
        if not check_submodule_name(name) or name.startswith("-"):
            return GitProblem(
                GITMODULES_NAME,
                f"is a .gitmodules with a submodule name git refuses ('{shown_name}': "
                "empty, a '..' component, or an option)",
            )
        if raw is None:
            continue
        value = raw.decode("latin-1")  # byte for byte: git's checks are on bytes
        shown = _show_bytes(raw)
        if key == b"url" and not check_submodule_url(value):
            return GitProblem(
                GITMODULES_URL,
                f"is a .gitmodules whose submodule '{shown_name}' has a url git "
                f"refuses ('{shown}': an option, a newline, or a relative URL climbing "
                "to a host)",
            )
        if key == b"path" and (value.startswith("-") or ".." in value.replace("\\", "/").split("/")):
            return GitProblem(
                GITMODULES_PATH,
                f"is a .gitmodules whose submodule '{shown_name}' has a path that looks "
                f"like an option or climbs with '..' ('{shown}')",
            )
        if key == b"update" and value.startswith("!"):
            return GitProblem(
                GITMODULES_UPDATE,
                f"is a .gitmodules whose submodule '{shown_name}' runs a command on "
                f"update ('{shown}'), which git refuses",
            )
    if parser.error:
        return GitProblem(
            GITMODULES_PARSE,
            "is a .gitmodules git cannot parse (a bad config line), so its submodules cannot be checked",
        )
    return None


def _show_bytes(raw: bytes) -> str:
    return _show(raw.decode("utf-8", "backslashreplace").replace("\n", "\\n"))


class _GitmodulesCheck:
    """Keeps the content (at most GITMODULES_MAX_BYTES) and parses it at the end."""

    def __init__(self) -> None:
        self._content = bytearray()

    def feed(self, chunk: bytes) -> GitProblem | None:
        self._content += chunk
        if len(self._content) > GITMODULES_MAX_BYTES:
            return GitProblem(
                GITMODULES_PARSE, f"is a .gitmodules over {GITMODULES_MAX_BYTES} bytes, too large to check"
            )
        return None

    def finish(self) -> GitProblem | None:
        return gitmodules_problem(bytes(self._content))


class _GitattributesCheck:
    """fsck_blob's .gitattributes rules, streaming: size, and line length up to the first NUL."""

    def __init__(self) -> None:
        self._size = 0
        self._line = 0
        self._stopped = False

    def feed(self, chunk: bytes) -> GitProblem | None:
        self._size += len(chunk)
        if self._size > ATTRIBUTES_MAX_BYTES:
            return GitProblem(
                GITATTRIBUTES, f"is a .gitattributes over {ATTRIBUTES_MAX_BYTES} bytes, which git refuses"
            )
        if self._stopped:
            return None
        nul = chunk.find(b"\0")
        if nul >= 0:
            chunk = chunk[:nul]
            self._stopped = True  # git reads the file as a C string
        lines = chunk.split(b"\n")
        for index, line in enumerate(lines):
            self._line += len(line)
            if self._line >= ATTRIBUTES_MAX_LINE:
                return GitProblem(
                    GITATTRIBUTES,
                    f"is a .gitattributes with a line of {ATTRIBUTES_MAX_LINE} bytes or more, which git refuses",
                )
            if index < len(lines) - 1:
                self._line = 0
        return None

    def finish(self) -> GitProblem | None:
        return None


def content_check(path: str) -> ContentCheck | None:
    """The check fsck applies to the content of a file at `path` (by its last segment), if any."""
    name = path.rsplit("/", 1)[-1]
    if is_dotgitmodules(name):
        return _GitmodulesCheck()
    if is_dotgitattributes(name):
        return _GitattributesCheck()
    return None


def content_problem(path: str, content: bytes) -> GitProblem | None:
    """What git's fsck says about the content of the file at `path`, if it reads it."""
    check = content_check(path)
    if check is None:
        return None
    return check.feed(content) or check.finish()
