// Logging that never throws. The server logs a handler's failure instead of dying of it; if the
// connection itself is gone (the client closed its end of the pipe), logging through it throws
// too, and the line goes to stderr instead (or nowhere, if that is closed as well).

import { Connection } from 'vscode-languageserver';

export function logError(connection: Connection, message: string): void {
  try {
    connection.console.error(message);
  } catch {
    try {
      process.stderr.write(message + '\n');
    } catch {
      // Nowhere left to write to.
    }
  }
}

/** `e` as a log line shows it: its stack when it has one. */
export function describeError(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}
