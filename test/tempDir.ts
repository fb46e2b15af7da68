// Temporary folders for tests, removed when the test process exits (even after a failure),
// so a test run leaves nothing behind in the system's temporary directory.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const made: string[] = [];
let hooked = false;

/** A new empty folder under the system's temporary directory, removed at process exit. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const d of made) {
        try {
          fs.rmSync(d, { recursive: true, force: true });
        } catch {
          // A folder a test made unreadable or still in use: left for the system to clean.
        }
      }
    });
  }
  return dir;
}
