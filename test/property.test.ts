// The fuzz suite (cases in fuzz-cases.ts): whatever arrives — random text,
// grammar-shaped topologies, mutations of the examples — the engine never throws,
// never hangs, every range lies inside the document, and every offered fix yields
// text that still analyses. Each case runs in a worker thread under a watchdog:
// a document that stops the worker's progress for STALL_MS fails the case with
// that document in the message (a hang cannot be interrupted in-process).
import * as assert from 'assert';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { FUZZ_CASES } from './fuzz-cases';
import { currentInput, FuzzWorkerData, FuzzWorkerMessage, sharedMemory } from './fuzz-worker';

/** No document may take this long (the slowest, a 1 MB line, takes well under a second). */
const STALL_MS = 20000;

function runCase(which: FuzzWorkerData['which'], stallMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const shared = sharedMemory();
    const counters = new Int32Array(shared, 0, 2); // documents checked, documents started
    const data: FuzzWorkerData = { which, shared };
    const worker = new Worker(path.join(__dirname, 'fuzz-worker.js'), { workerData: data });
    let seen = 0;
    let since = Date.now();
    const finish = (f: () => void): void => {
      clearInterval(watchdog);
      void worker.terminate();
      f();
    };
    // The clock runs from the first document on (loading the modules is not a document).
    const watchdog = setInterval(() => {
      const n = Atomics.load(counters, 0) + Atomics.load(counters, 1);
      if (n === 0) since = Date.now();
      else if (n !== seen) {
        seen = n;
        since = Date.now();
      } else if (Date.now() - since > stallMs) {
        finish(() => reject(new Error(`no progress for ${stallMs} ms after ${Atomics.load(counters, 0)} documents: the engine hangs on ${JSON.stringify(currentInput(shared))}`)));
      }
    }, 50);
    worker.on('message', (m: FuzzWorkerMessage) => finish(() => (m.error ? reject(new Error(m.error)) : resolve(Atomics.load(counters, 0)))));
    worker.on('error', (e) => finish(() => reject(e)));
  });
}

describe('property: the engine never throws, never hangs and keeps ranges inside the document', function () {
  this.timeout(180000);
  for (const [i, c] of FUZZ_CASES.entries()) {
    it(c.name, async () => {
      const n = await runCase(i, STALL_MS);
      assert.strictEqual(n, (c.fixed?.length ?? 0) + (c.arb ? c.numRuns : 0), 'documents checked');
    });
  }

  it('the watchdog stops a check that never returns and names its document', async () => {
    await assert.rejects(runCase('hang', 500), /no progress for 500 ms after 0 documents: the engine hangs on "device forever"/);
  });
});
