// Runs one case of the fuzz suite (test/fuzz-cases.ts) in a worker thread, for
// property.test.ts's watchdog. Before each document it writes the document
// (its first INPUT_CHARS characters) into shared memory, after each it counts
// one in the shared counter: a document the engine hangs on stops the counter,
// and the watchdog reads which document it was (shared memory, because a
// worker busy in a loop may never get to deliver a posted message).
import * as fc from 'fast-check';
import { parentPort, workerData } from 'worker_threads';
import { checkInvariants, FUZZ_CASES } from './fuzz-cases';

export const INPUT_CHARS = 2000;

export interface FuzzWorkerData {
  /** Index into FUZZ_CASES, or `hang`: the watchdog's own test, a check that never returns. */
  which: number | 'hang';
  /** Int32 0: documents checked; 1: documents started; 2: length of the current one; from byte 16, its first INPUT_CHARS UTF-16 units. */
  shared: SharedArrayBuffer;
}

export type FuzzWorkerMessage = { kind: 'done'; error?: string };

/** The shared memory a worker needs. */
export function sharedMemory(): SharedArrayBuffer {
  return new SharedArrayBuffer(16 + 2 * INPUT_CHARS);
}

/** What the worker last started on (for the watchdog's message). */
export function currentInput(shared: SharedArrayBuffer): string {
  const len = Atomics.load(new Int32Array(shared, 0, 3), 2);
  const units = new Uint16Array(shared, 16, Math.min(len, INPUT_CHARS));
  const head = String.fromCharCode(...units);
  return len > INPUT_CHARS ? `${head}… (${len} characters)` : head;
}

function check(text: string, withFixes: boolean): void {
  started(text);
  checkInvariants(text, withFixes);
  Atomics.add(counters, 0, 1);
}

function started(text: string): void {
  const units = new Uint16Array(shared, 16, INPUT_CHARS);
  for (let i = 0; i < Math.min(text.length, INPUT_CHARS); i++) units[i] = text.charCodeAt(i);
  Atomics.store(counters, 2, text.length);
  Atomics.add(counters, 1, 1);
}

const { which, shared } = (workerData ?? {}) as FuzzWorkerData;
const counters = shared ? new Int32Array(shared, 0, 3) : new Int32Array(3);

function post(m: FuzzWorkerMessage): void {
  parentPort!.postMessage(m);
}

if (parentPort) run();

function run(): void {
  try {
    if (which === 'hang') {
      started('device forever');
      for (;;); // never done: what a hang looks like from outside
    }
    const c = FUZZ_CASES[which];
    if (c.fixed) for (const t of c.fixed) check(t, c.withFixes);
    if (c.arb) fc.assert(fc.property(c.arb, (s) => check(s, c.withFixes)), { numRuns: c.numRuns });
    post({ kind: 'done' });
  } catch (e) {
    post({ kind: 'done', error: e instanceof Error ? e.message : String(e) });
  }
}
