// Child process of memory.test.ts, run with --expose-gc: types into a document
// version after version, the way the editor does, and prints the heap kept
// after the first analysis and after the last one (each after a full GC).
//   node --expose-gc memory-worker.js engine|server EDITS
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze, Analysis } from '../server/src/engine/analyze';
import { DocumentStore, lspDiagnostics } from '../server/src/lsp/documents';
import { KeptBufferJsonEncoder } from '../server/src/lsp/jsonEncoder';
import { generate, toBartopo } from '../bench/generate';

export interface MemoryReport {
  textBytes: number;
  edits: number;
  heapAfterOpen: number;
  heapAfterEdits: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function heapUsed(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed;
}

/** A topology whose names, labels and comments are all longer than 13 characters (V8 keeps such slices as views). */
function longNamedTopology(): string {
  return toBartopo(generate({ devices: 600, seed: 5 })).replace(/\b(dev|nvme|nic|gpu|usb|audio|vm)(\d+)\b/g, 'component-$1-$2');
}

/** One edit per step, in turn: a BAR address digit, a character in a label, one in a comment, a new comment line. */
function editAt(text: string, step: number): { start: number; end: number; insert: string } {
  // Each pattern with where, from the end of its match, the edit goes.
  const kinds: [RegExp, number][] = [
    [/ at 0x[0-9a-f_]*[0-9a-f]\n/g, 2], // the address's last digit
    [/\n {2}name "[^"\n]*"/g, 1], // before the closing quote
    [/\n# [^\n]*/g, 0], // at the end of the comment
    [/\n\ndevice /g, 8], // at the blank line before a device
  ];
  const [re, back] = kinds[step % kinds.length];
  const hits: number[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) hits.push(m.index + m[0].length - back);
  const at = hits[(step * 7919) % hits.length];
  switch (step % kinds.length) {
    case 0:
      return { start: at, end: at + 1, insert: text[at] === '0' ? '1' : '0' };
    case 1:
    case 2:
      return { start: at, end: at, insert: 'x' };
    default:
      return { start: at, end: at, insert: `# note ${step} on the next device\n` };
  }
}

function run(mode: string, edits: number): MemoryReport {
  let text = longNamedTopology();
  const textBytes = text.length;
  if (mode === 'engine') {
    let a: Analysis = analyze(text);
    const heapAfterOpen = heapUsed();
    for (let i = 0; i < edits; i++) {
      const e = editAt(text, i);
      text = text.slice(0, e.start) + e.insert + text.slice(e.end);
      a = analyze(text, {}, a);
    }
    const heapAfterEdits = heapUsed();
    if (a.diagnostics.length === 0) throw new Error('the topology should have findings');
    return { textBytes, edits, heapAfterOpen, heapAfterEdits };
  }
  // The language server's path: a TextDocument updated in place, the store's analysis, conversion and JSON encoding.
  const uri = 'file:///memory.bartopo';
  const doc = TextDocument.create(uri, 'bartopo', 1, text);
  const store = new DocumentStore({ get: (u: string) => (u === uri ? doc : undefined), all: () => [doc] } as never);
  const encoder = new KeptBufferJsonEncoder();
  const publish = (): void => {
    const s = store.get(uri)!;
    void encoder.encode({ jsonrpc: '2.0', method: 'textDocument/publishDiagnostics', params: { uri, version: s.version, diagnostics: lspDiagnostics(s).diagnostics } } as never, { charset: 'utf-8' });
  };
  publish();
  const heapAfterOpen = heapUsed();
  for (let i = 0; i < edits; i++) {
    const e = editAt(doc.getText(), i);
    TextDocument.update(doc, [{ range: { start: doc.positionAt(e.start), end: doc.positionAt(e.end) }, text: e.insert }], doc.version + 1);
    publish();
  }
  return { textBytes, edits, heapAfterOpen, heapAfterEdits: heapUsed() };
}

if (require.main === module) {
  if (!gc) throw new Error('run with --expose-gc');
  process.stdout.write(JSON.stringify(run(process.argv[2], Number(process.argv[3]))) + '\n');
}
