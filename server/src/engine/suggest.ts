// "Did you mean": the known name (a device name, a keyword) closest to a word the file got wrong.

/** "Did you mean": at most this many edits away. */
const MAX_SUGGEST_EDITS = 3;

/**
 * Suggestions of known names (device names, keywords) for unknown ones. The names are grouped by
 * length on first need (once per topology, shared by its guests), and a name
 * is compared only with names whose length is within the allowed number of
 * edits, by an edit distance computed in a band and given up once over it.
 */
export class NameSuggester {
  private byLength: Map<number, string[]> | undefined;
  private row0: number[] = [];
  private row1: number[] = [];
  private row2: number[] = [];

  constructor(private readonly names: ReadonlyMap<string, unknown>) {}

  /** ` Did you mean \`x\`?`, or '' when no name is close enough. */
  suggest(name: string): string {
    const best = this.closest(name);
    return best !== undefined ? ` Did you mean \`${best}\`?` : '';
  }

  /** The known name closest to `name`, if one is close enough. */
  closest(name: string): string | undefined {
    const k = Math.min(MAX_SUGGEST_EDITS, Math.max(1, Math.floor(name.length / 3)));
    if (!this.byLength) {
      this.byLength = new Map();
      for (const c of this.names.keys()) {
        const l = this.byLength.get(c.length);
        if (l) l.push(c);
        else this.byLength.set(c.length, [c]);
      }
    }
    let best: string | undefined;
    let bestD = k + 1;
    for (let len = Math.max(0, name.length - k); len <= name.length + k; len++) {
      for (const c of this.byLength.get(len) ?? []) {
        const dist = this.distance(name, c, Math.min(bestD, k));
        // Ties go to the first name in alphabetical order: the answer must not depend on the map's order.
        if (dist < bestD || (dist === bestD && best !== undefined && c < best)) {
          bestD = dist;
          best = c;
        }
      }
    }
    return best !== undefined && bestD <= k ? best : undefined;
  }

  /**
   * Edit distance of `a` and `b` if at most `k`, else k + 1: O(length × k). Two adjacent letters
   * swapped count as one edit (`nci` for `nic`), as a typo makes them (optimal string alignment).
   */
  private distance(a: string, b: string, k: number): number {
    const over = k + 1;
    const n = a.length;
    const m = b.length;
    if (Math.abs(n - m) > k) return over;
    let before = this.row2; // row i - 2
    let prev = this.row0; // row i - 1
    let cur = this.row1;
    for (let j = 0; j <= m + 1; j++) before[j] = over;
    for (let j = 0; j <= m; j++) prev[j] = j <= k ? j : over;
    prev[m + 1] = over;
    for (let i = 1; i <= n; i++) {
      const lo = Math.max(1, i - k);
      const hi = Math.min(m, i + k);
      cur[lo - 1] = lo === 1 ? (i <= k ? i : over) : over;
      let rowMin = cur[lo - 1];
      const ai = a.charCodeAt(i - 1);
      for (let j = lo; j <= hi; j++) {
        const bj = b.charCodeAt(j - 1);
        let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ai === bj ? 0 : 1));
        if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === bj && before[j - 2] + 1 < v) v = before[j - 2] + 1;
        cur[j] = v > over ? over : v;
        if (cur[j] < rowMin) rowMin = cur[j];
      }
      // Cells outside the band are over the limit (they are read by the next two rows).
      for (let j = hi + 1; j <= m + 1; j++) cur[j] = over;
      if (rowMin > k) return over;
      const t = before;
      before = prev;
      prev = cur;
      cur = t;
    }
    return prev[m] > over ? over : prev[m];
  }
}

/** The word of `words` closest to `word` (as `NameSuggester` judges closeness), if one is close enough. */
export function closestWord(word: string, words: readonly string[]): string | undefined {
  return new NameSuggester(new Map(words.map((w) => [w, w]))).closest(word);
}
