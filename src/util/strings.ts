// String helpers any layer may use.

/** Longest common prefix of some strings ("[[A]]", "[[B]]" → "[["). */
export function commonPrefix(strings: string[]): string {
  if (strings.length === 0) return '';
  let p = strings[0] ?? '';
  for (const s of strings) {
    let i = 0;
    while (i < p.length && i < s.length && p[i] === s[i]) i++;
    p = p.slice(0, i);
  }
  return p;
}
