// A tiny syntax highlighter for the files Kiln generates: Python, JSON and Markdown. Each
// tokenizer turns a line into [class, text] pieces; the view puts each in a <span> as text.

const PY_KEYWORDS = new Set(
  ("False None True and as assert async await break class continue def del elif else except finally for from " +
    "global if import in is lambda nonlocal not or pass raise return try while with yield match case").split(" "),
);
const PY_BUILTINS = new Set("print len range dict list set tuple str int float bool isinstance super self cls".split(" "));

function python(text) {
  const tokens = [];
  const pattern =
    /("""[\s\S]*?"""|'''[\s\S]*?'''|"""[\s\S]*$|'''[\s\S]*$)|(#[^\n]*)|([rbfu]{0,2}"(?:\\.|[^"\\\n])*"|[rbfu]{0,2}'(?:\\.|[^'\\\n])*')|(@[A-Za-z_][\w.]*)|(\b\d[\d_]*(?:\.\d+)?\b)|([A-Za-z_]\w*)|(\s+)|([^\w\s])/gy;
  let match;
  let previous = "";
  while ((match = pattern.exec(text)) !== null && match[0] !== "") {
    const [whole, triple, comment, string, decorator, number, word] = match;
    if (triple || string) tokens.push(["str", whole]);
    else if (comment) tokens.push(["com", whole]);
    else if (decorator) tokens.push(["dec", whole]);
    else if (number) tokens.push(["num", whole]);
    else if (word) {
      if (PY_KEYWORDS.has(word)) tokens.push(["kw", word]);
      else if (previous === "def" || previous === "class") tokens.push(["fn", word]);
      else if (PY_BUILTINS.has(word)) tokens.push(["bi", word]);
      else tokens.push(["", word]);
      previous = word;
      continue;
    } else tokens.push(["", whole]);
    if (!/^\s+$/.test(whole)) previous = "";
  }
  return tokens;
}

function json(text) {
  const tokens = [];
  const pattern = /("(?:\\.|[^"\\])*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(\btrue\b|\bfalse\b|\bnull\b)|(\s+)|([^\s])/gy;
  let match;
  while ((match = pattern.exec(text)) !== null && match[0] !== "") {
    const [whole, string, colon, number, literal] = match;
    if (string) {
      tokens.push([colon ? "key" : "str", string]);
      if (colon) tokens.push(["", colon]);
    } else if (number) tokens.push(["num", whole]);
    else if (literal) tokens.push(["kw", whole]);
    else tokens.push(["", whole]);
  }
  return tokens;
}

function markdown(text) {
  return text.split(/(?<=\n)/).flatMap((line) => {
    if (/^#{1,6}\s/.test(line)) return [["kw", line]];
    if (/^\s*([-*+]|\d+\.)\s/.test(line)) {
      const marker = line.match(/^\s*([-*+]|\d+\.)\s/)[0];
      return [["num", marker], ...inline(line.slice(marker.length))];
    }
    if (/^\s*(```|~~~)/.test(line)) return [["com", line]];
    return inline(line);
  });
}

function inline(text) {
  const tokens = [];
  const pattern = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\[[^\]\n]*\]\([^)\n]*\))|([^`*[]+|[`*[])/gy;
  let match;
  while ((match = pattern.exec(text)) !== null && match[0] !== "") {
    const [whole, code, strong, link] = match;
    tokens.push([code ? "str" : strong ? "fn" : link ? "key" : "", whole]);
  }
  return tokens;
}

const LANGUAGES = { py: python, json, md: markdown, markdown };

export function languageOf(path) {
  const ext = path.split(".").pop().toLowerCase();
  return LANGUAGES[ext] ? ext : null;
}

// The whole file as lines of tokens: multi-line tokens (docstrings, fenced code) are split at
// line ends so each line can be numbered.
export function highlight(path, text) {
  const language = languageOf(path);
  const tokens = language ? LANGUAGES[language](text) : [["", text]];
  const lines = [[]];
  for (const [kind, value] of tokens) {
    const parts = value.split("\n");
    parts.forEach((part, index) => {
      if (index > 0) lines.push([]);
      if (part) lines[lines.length - 1].push([kind, part]);
    });
  }
  if (lines.length > 1 && lines[lines.length - 1].length === 0) lines.pop();
  return lines;
}
