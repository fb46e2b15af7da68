// Binary search over sorted arrays (line starts, window starts): numbers or bigints.

/** How many elements of the ascending `sorted` are at most `x` (the index of the first one above it). */
export function countAtMost<T extends number | bigint>(sorted: ArrayLike<T>, x: T): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
