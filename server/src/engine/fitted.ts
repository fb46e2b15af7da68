// V8 gives an array that grows by `push` from empty room for 17 elements. A
// syntax node or model keeps a few hundred thousand small arrays alive (a
// device's BARs, its group, a block's statements), so each is copied to an
// exact-size array once it is complete (about 120 bytes less per array), and
// the many that stay empty share one.

/** Shared by every list that ended up empty (frozen: nothing may add to it). */
const EMPTY: readonly never[] = Object.freeze([]);

/** An exact-size copy of `a`, or one shared empty array: call it on lists that are complete. */
export function fitted<T>(a: T[]): T[] {
  return a.length === 0 ? (EMPTY as unknown as T[]) : a.slice();
}

/** The shared empty list (frozen): for a list field that has nothing in it. */
export function emptyList<T>(): T[] {
  return EMPTY as unknown as T[];
}
