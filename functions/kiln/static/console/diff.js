// A line diff for comparing two versions of a specification document: the longest common
// subsequence of lines, after the common head and tail are set aside (most versions differ in a
// few places, so the table it builds stays small).

const LIMIT = 4_000_000; // cells of the LCS table; past that, the middle is shown as replaced

export function diffLines(before, after) {
  const a = before.split("\n");
  const b = after.split("\n");
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head += 1;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail += 1;
  const ops = [];
  for (let i = 0; i < head; i += 1) ops.push({ type: "same", left: a[i], right: b[i] });
  ops.push(...middle(a.slice(head, a.length - tail), b.slice(head, b.length - tail)));
  for (let i = tail; i > 0; i -= 1) ops.push({ type: "same", left: a[a.length - i], right: b[b.length - i] });
  return ops;
}

function middle(a, b) {
  if (a.length * b.length > LIMIT) {
    return [...a.map((line) => ({ type: "del", left: line })), ...b.map((line) => ({ type: "add", right: line }))];
  }
  // lengths[i][j]: the LCS length of a[i:] and b[j:], kept as one flat array.
  const width = b.length + 1;
  const lengths = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lengths[i * width + j] =
        a[i] === b[j] ? lengths[(i + 1) * width + j + 1] + 1 : Math.max(lengths[(i + 1) * width + j], lengths[i * width + j + 1]);
    }
  }
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      ops.push({ type: "same", left: a[i], right: b[j] });
      i += 1;
      j += 1;
    } else if (lengths[(i + 1) * width + j] >= lengths[i * width + j + 1]) {
      ops.push({ type: "del", left: a[i] });
      i += 1;
    } else {
      ops.push({ type: "add", right: b[j] });
      j += 1;
    }
  }
  while (i < a.length) ops.push({ type: "del", left: a[i++] });
  while (j < b.length) ops.push({ type: "add", right: b[j++] });
  return ops;
}

// Side-by-side rows: a run of removed lines is paired with the run of added lines after it.
export function sideBySide(ops) {
  const rows = [];
  let k = 0;
  while (k < ops.length) {
    if (ops[k].type === "same") {
      rows.push({ kind: "same", left: ops[k].left, right: ops[k].right });
      k += 1;
      continue;
    }
    const removed = [];
    const added = [];
    while (k < ops.length && ops[k].type === "del") removed.push(ops[k++].left);
    while (k < ops.length && ops[k].type === "add") added.push(ops[k++].right);
    for (let n = 0; n < Math.max(removed.length, added.length); n += 1) {
      const left = n < removed.length ? removed[n] : null;
      const right = n < added.length ? added[n] : null;
      rows.push({ kind: left === null ? "add" : right === null ? "del" : "change", left, right });
    }
  }
  return rows;
}
