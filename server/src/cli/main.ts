// The `bartopo` command line: the same engine as the language server, for CI
// and terminals. Exit codes: 0 no errors, 1 errors found, 2 bad usage or input.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import * as fs from 'fs';
import { analyze } from '../engine/analyze';
import { closestWord } from '../engine/suggest';
import { fixAll } from '../engine/fixes';
import { LineIndex } from '../engine/lineIndex';
import { AnalyzeOptions, isRuleId, RuleId, SeverityOverride } from '../engine/types';
import { isPowerOfTwo, parseSize } from '../engine/values';
import { execFileSync } from 'child_process';
import { ImportResult } from '../import/emit';
import { importLspci } from '../import/lspci';
import { importSysfs } from '../import/sysfs';
import { buildPageMap } from '../pagemap/model';
import { renderSvg, renderText } from '../pagemap/render';
import { CheckedFile, formatSarif, formatText, summarize, writeJson } from './report';

// Replaced by the bundler; falls back to package.json when running from out/.
declare const BARTOPO_VERSION: string | undefined;

/**
 * Whether text output is coloured (`--no-color` aside, which always wins): `FORCE_COLOR` set to anything but
 * `0`/`false` forces it, `FORCE_COLOR=0` turns it off, a non-empty `NO_COLOR` turns it off, else a terminal has it.
 */
export function wantsColor(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !['0', 'false'].includes(force.trim().toLowerCase());
  if (env.NO_COLOR) return false;
  return isTTY;
}

export function version(): string {
  if (typeof BARTOPO_VERSION === 'string') return BARTOPO_VERSION;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require('../../../../package.json').version as string;
  } catch {
    return '0.0.0';
  }
}

/** A problem with the input or the command line: one line on stderr, exit code 2. */
export class UsageError extends Error {}

export function readTopology(path: string, what = 'a .bartopo file'): string {
  return readTopologyFile(path, what).text;
}

/** Largest input read from a pipe or device (Node reads no larger regular file either). */
const STREAM_MAX = 2 ** 31;
const CHUNK = 1 << 16;

/**
 * A pipe, FIFO or character device (`<(…)`, /dev/stdin), read chunk by chunk: a NUL byte ends
 * the read at once (a binary source such as /dev/zero or /dev/urandom never ends), and so does
 * passing STREAM_MAX.
 */
function readStream(path: string, what: string): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      const n = fs.readSync(fd, chunk, 0, CHUNK, null);
      if (n === 0) break;
      const got = chunk.subarray(0, n);
      if (got.includes(0)) throw new UsageError(`${path}: is a binary file, not ${what}`);
      total += n;
      if (total > STREAM_MAX) throw new UsageError(`${path}: cannot read: more than 2 GiB`);
      chunks.push(got);
    }
    return Buffer.concat(chunks, total);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The file's text without its UTF-8 byte order mark, and whether it had one (`fix` writes it back). `what` names
 * what the file should hold, for the messages (`` `lspci -vvv` output `` for `import lspci`).
 */
export function readTopologyFile(path: string, what = 'a .bartopo file'): { text: string; bom: boolean } {
  let buf: Buffer;
  try {
    const st = fs.statSync(path);
    if (st.isDirectory()) throw new UsageError(`${path}: is a directory, not ${what}`);
    if (st.isBlockDevice()) throw new UsageError(`${path}: is a block device, not ${what}`);
    buf = st.isFile() ? fs.readFileSync(path) : readStream(path, what);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : err.message;
    throw new UsageError(`${path}: cannot read: ${why}`);
  }
  if (buf.includes(0)) throw new UsageError(`${path}: is a binary file, not ${what}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(buf); // ignoreBOM: the mark is kept in the text, to be seen below
  } catch {
    throw new UsageError(`${path}: is not valid UTF-8 text`);
  }
  const bom = text.charCodeAt(0) === 0xfeff;
  if (bom) text = text.slice(1);
  return { text, bom };
}

/** Pages `bartopo map` draws unless told otherwise: an SVG of 40,000 devices' shared pages would be tens of MB. */
const MAP_MAX_PAGES = 1000;
const MAP_ITEMS_PER_PAGE = 20;

function parseMaxPages(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 1_000_000_000) throw new InvalidArgumentError('expected a whole number of pages (0: all)');
  return Number(v);
}

function parsePageSize(v: string): bigint {
  const r = parseSize(v);
  if (!r.ok || !isPowerOfTwo(r.value) || r.value < 4096n) throw new InvalidArgumentError(`expected a power of two of at least 4K, such as 4K, 16K or 64K`);
  return r.value;
}

function parseBudget(v: string): number {
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number of seconds (0: no limit)');
  return n;
}

function collectSeverity(v: string, prev: Partial<Record<RuleId, SeverityOverride>>): Partial<Record<RuleId, SeverityOverride>> {
  const m = /^([a-z0-9-]+)=(error|warning|info|off)$/.exec(v);
  if (!m || !isRuleId(m[1])) throw new InvalidArgumentError(`expected RULE=error|warning|info|off with a rule id from docs/rules.md`);
  return { ...prev, [m[1]]: m[2] as SeverityOverride };
}

const TOP_LEVEL = ['host', 'device', 'guest'];

/** The analysis of a file's text, or a usage error when the text is not a topology at all (every command reads topologies so). */
function analyzeTopology(path: string, text: string, options: AnalyzeOptions): ReturnType<typeof analyze> {
  const analysis = analyze(text, options);
  if (text.trim() !== '' && looksForeign(analysis)) throw new UsageError(`${path}: does not look like a .bartopo topology (no host, device or guest statement)`);
  return analysis;
}

/** `--write` goes back to a regular file only: a pipe or device (`/dev/stdin`, `<(…)`) was read, not a place to write. */
function checkWritable(path: string): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(path);
  } catch {
    return; // reading it says why
  }
  if (st.isDirectory()) throw new UsageError(`${path}: is a directory, not a .bartopo file`);
  if (!st.isFile()) throw new UsageError(`${path}: --write needs a regular file; this is a pipe or device (leave out --write to print the result)`);
}

/** A write error as a one-line usage error. */
function writeError(path: string, e: unknown): UsageError {
  const err = e as NodeJS.ErrnoException;
  const why: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    ENOENT: 'no such directory',
    ENOTDIR: 'a part of the path is not a directory',
    EISDIR: 'is a directory',
  };
  return new UsageError(`${path}: cannot write: ${(err.code && why[err.code]) ?? err.message}`);
}

/**
 * True when the text has no statement that could belong to a topology: no `host`, `device` or
 * `guest`, and no top-level statement with a `{ … }` block whose first word is a typo away from
 * one (`devcie a at 01:00.0 {`: a topology with a syntax error, reported as one; YAML's `host:`
 * and an ssh_config `Host name` open no block).
 */
function looksForeign(a: ReturnType<typeof analyze>): boolean {
  const f = a.file;
  if (f.hosts.length + f.devices.length + f.guests.length > 0 || a.tree.stmts.length === 0) return false;
  return !a.tree.stmts.some((s) => s.block !== undefined && nearTopLevelKeyword(s.head()));
}

/** `devcie`, `Device`, `hots`: a keyword mistyped (other case, a letter off, two swapped), not a different word such as YAML's `hosts:`. */
function nearTopLevelKeyword(word: string): boolean {
  const w = word.toLowerCase();
  const k = closestWord(w, TOP_LEVEL);
  return k !== undefined && Math.abs(k.length - w.length) <= 1;
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

export async function main(argv: string[], io: Io): Promise<number> {
  let code = 0;
  const program = new Command();
  program
    .name('bartopo')
    .description('Check PCI passthrough topologies (.bartopo): which BARs a guest maps directly, which trap to the VMM, which pages break IOMMU isolation.')
    .version(version(), '-V, --version')
    .exitOverride()
    // A second file to a one-file command is a usage error, not something to drop silently (inherited by every command).
    .allowExcessArguments(false)
    // Usage errors on one line, with where to look.
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (s, write) => write(`${s.trimEnd()} (run bartopo --help for usage)\n`) });

  program
    .command('check')
    .description('check .bartopo files and report diagnostics and verdicts')
    .argument('<files...>', '.bartopo files to check')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'sarif']).default('text'))
    .option('-p, --page-size <size>', "override the host's page size (what-if: 4K, 16K, 64K)", parsePageSize)
    .option('-s, --severity <rule=level>', 'override a rule severity (error|warning|info|off); repeatable', collectSeverity, {})
    .option('--verdicts', 'text format: also print the BAR verdict table', false)
    .option('--no-color', 'no colour in text output')
    .action((files: string[], o: { format: string; pageSize?: bigint; severity: Partial<Record<RuleId, SeverityOverride>>; verdicts: boolean; color: boolean }) => {
      const options: AnalyzeOptions = { pageSize: o.pageSize, severities: o.severity };
      const checked: CheckedFile[] = [];
      for (const path of files) {
        const text = readTopology(path);
        const analysis = analyzeTopology(path, text, options);
        checked.push({ path, analysis, lines: new LineIndex(text) });
      }
      if (o.format === 'json') writeJson(checked, io.out);
      else if (o.format === 'sarif') io.out(formatSarif(checked, version()));
      else {
        io.out(formatText(checked, { color: o.color && wantsColor(io.isTTY, process.env), verdicts: o.verdicts }));
      }
      code = summarize(checked).errors > 0 ? 1 : 0;
    });

  program
    .command('fix')
    .description('apply the preferred quick fix of every fixable diagnostic (each re-checked) and print or write the result')
    .argument('<file>', '.bartopo file')
    .option('-w, --write', 'write the fixed text back to the file instead of printing it', false)
    .option('-p, --page-size <size>', "override the host's page size", parsePageSize)
    .option('--budget <seconds>', 'stop after this many seconds (0: no limit); the fixes made so far are kept', parseBudget, 60)
    .action((path: string, o: { write: boolean; pageSize?: bigint; budget: number }) => {
      if (o.write) checkWritable(path);
      const { text, bom } = readTopologyFile(path);
      const before = analyzeTopology(path, text, { pageSize: o.pageSize });
      // Every diagnostic may get one fix, and a fix may leave a warning another fix takes up: twice as many steps.
      // Fixes are made in rounds, each checked by analysing again (see fixAll); on huge files that is still seconds: the time is bounded too.
      const { text: fixed, applied, complete, rounds } = fixAll(before, {
        maxSteps: Math.max(100, 2 * before.diagnostics.length),
        budgetMs: o.budget > 0 ? o.budget * 1000 : undefined,
      });
      for (const t of applied) io.err(`fixed: ${t}\n`);
      io.err(applied.length === 0 ? 'no fix applied\n' : `${applied.length} fix${applied.length === 1 ? '' : 'es'} in ${rounds} round${rounds === 1 ? '' : 's'}\n`);
      if (!complete) io.err(`stopped after ${applied.length} fix${applied.length === 1 ? '' : 'es'}; run \`bartopo fix\` again for the rest\n`);
      // A byte order mark the file had is kept, as the editor's formatting keeps it.
      if (o.write) {
        try {
          if (fixed !== text) fs.writeFileSync(path, (bom ? '\ufeff' : '') + fixed);
        } catch (e) {
          throw writeError(path, e);
        }
      } else io.out((bom ? '\ufeff' : '') + fixed);
      code = analyze(fixed, { pageSize: o.pageSize }).diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
    });

  program
    .command('map')
    .description('draw the host pages that hold more than one resource, a sub-page BAR or an MSI-X table (text, or SVG with --svg)')
    .argument('<file>', '.bartopo file')
    .option('-p, --page-size <size>', "override the host's page size", parsePageSize)
    .option('--svg <out>', 'write an SVG picture to OUT (- for standard output)')
    .option('--max-pages <n>', `draw at most N pages (0: all; default ${MAP_MAX_PAGES})`, parseMaxPages, MAP_MAX_PAGES)
    .action((path: string, o: { pageSize?: bigint; svg?: string; maxPages: number }) => {
      const text = readTopology(path);
      const limit = o.maxPages > 0 ? o.maxPages : undefined;
      // With a page limit, items are limited too (MAP_ITEMS_PER_PAGE per page on average): thousands of BARs overlapping in one page draw as many items.
      const maxItems = limit === undefined ? undefined : limit * MAP_ITEMS_PER_PAGE;
      const map = buildPageMap(analyzeTopology(path, text, { pageSize: o.pageSize }), { maxPages: limit === undefined ? undefined : limit + 1, maxItems });
      // One page past the limit says there are more; it is not drawn.
      const morePages = limit !== undefined && map.pages.length > limit;
      if (morePages) map.pages.length = limit;
      const truncated = morePages || !!map.itemsCut;
      const more = map.itemsCut ? `first ${maxItems} resources; more are not drawn (--max-pages 0 draws all)` : morePages ? `first ${limit} pages; more are not drawn (--max-pages 0 draws all)` : '';
      const title = truncated ? `${path} — ${more}` : path;
      if (o.svg === '-') io.out(renderSvg(map, { title }));
      else if (o.svg) {
        try {
          fs.writeFileSync(o.svg, renderSvg(map, { title }));
        } catch (e) {
          throw writeError(o.svg, e);
        }
        io.err(`wrote ${o.svg} (${map.pages.length} page${map.pages.length === 1 ? '' : 's'}${truncated ? `: ${more}` : ''})\n`);
      } else io.out(renderText(map) + (truncated ? `… ${more}\n` : ''));
      code = 0;
    });

  const emitImport = (r: ImportResult, source: string, out: string | undefined): void => {
    for (const w of r.warnings) io.err(`${source}${w.line > 0 ? `:${w.line}` : ''}: warning: ${w.message}\n`);
    if (out && out !== '-') {
      try {
        fs.writeFileSync(out, r.text);
      } catch (e) {
        throw writeError(out, e);
      }
      io.err(`wrote ${out}: ${r.devices} device${r.devices === 1 ? '' : 's'}, ${r.bars} BAR${r.bars === 1 ? '' : 's'}\n`);
    } else io.out(r.text);
    code = 0;
  };
  const importCmd = program.command('import').description('write a .bartopo topology from a real machine (lspci output or sysfs)');
  importCmd
    .command('lspci')
    .description('read `lspci -vvv` output (also -vv, -vvnn, -vvvxxx) from FILE or standard input')
    .argument('[file]', 'lspci output; - or nothing for standard input', '-')
    .option('-p, --page-size <size>', 'host page size (default: from SR-IOV "System Page Size" when printed, else 4K)', parsePageSize)
    .option('-o, --output <file>', 'write the topology to FILE instead of standard output')
    .action((file: string, o: { pageSize?: bigint; output?: string }) => {
      const source = file === '-' ? 'standard input' : file;
      let text: string;
      if (file === '-') {
        try {
          text = fs.readFileSync(0, 'utf8');
        } catch (e) {
          throw new UsageError(`standard input: cannot read: ${(e as Error).message}`);
        }
      } else text = readTopology(file, '`lspci -vvv` output');
      const r = importLspci(text, { pageSize: o.pageSize, sourceName: source });
      if (r.devices === 0 && r.warnings.length > 0 && !/Region|Memory at|I\/O ports at/.test(text)) {
        throw new UsageError(`${source}: no lspci device found (expected the output of \`lspci -vvv\`)`);
      }
      emitImport(r, file === '-' ? '<stdin>' : file, o.output);
    });
  importCmd
    .command('sysfs')
    .description('read /sys/bus/pci/devices under ROOT (default /): resources, IOMMU groups, MSI-X, SR-IOV')
    .argument('[root]', 'filesystem root that holds sys/bus/pci/devices', '/')
    .option('-p, --page-size <size>', 'host page size (default: this machine\'s page size when ROOT is /, else 4K)', parsePageSize)
    .option('-o, --output <file>', 'write the topology to FILE instead of standard output')
    .action((root: string, o: { pageSize?: bigint; output?: string }) => {
      if (!fs.existsSync(`${root}/sys/bus/pci/devices`)) throw new UsageError(`${root}: has no sys/bus/pci/devices`);
      let pageSize = o.pageSize;
      if (pageSize === undefined && (root === '/' || root === '')) {
        try {
          pageSize = BigInt(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());
        } catch {
          pageSize = undefined;
        }
      }
      emitImport(importSysfs(root, { pageSize }), root, o.output);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help asked for (--help) or the version: success. Help shown because no command was given (`bartopo`,
      // `bartopo import`): bad usage.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      return 2;
    }
    if (e instanceof UsageError) {
      io.err(`bartopo: ${e.message}\n`);
      return 2;
    }
    io.err(`bartopo: internal error: ${(e as Error).message}\n`);
    return 2;
  }
  return code;
}

/** Sleeps the thread (the CLI has nothing else to do while its reader catches up). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Writes to standard output before returning, whatever it is. `process.stdout.write` queues what a
 * pipe does not take at once, and nothing here waits for it to drain: a big report piped to `jq` or
 * `wc` (hundreds of MB of JSON for SR-IOV devices with 65,535 VFs) was all queued in memory, until the
 * heap ran out. A full pipe (EAGAIN: Node opens it non-blocking) is waited for a millisecond at a time.
 */
export function writeStdoutSync(s: string, fd = 1): void {
  const buf = Buffer.from(s, 'utf8');
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      pause(1);
    }
  }
}

/** Runs the CLI on this process's arguments and sets its exit code. */
export function runCli(): void {
  // A reader that stops early (`| head`) closes the pipe: end quietly, as a process killed by SIGPIPE would (128 + 13).
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(141);
    process.stderr.write(`bartopo: cannot write the output: ${e.message}\n`);
    process.exit(2);
  });
  const io: Io = {
    out: (s) => {
      try {
        writeStdoutSync(s);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') process.exit(141);
        process.stderr.write(`bartopo: cannot write the output: ${(e as Error).message}\n`);
        process.exit(2);
      }
    },
    err: (s) => process.stderr.write(s),
    isTTY: !!process.stdout.isTTY,
  };
  main(process.argv.slice(2), io).then(
    (c) => {
      process.exitCode = c;
    },
    (e) => {
      process.stderr.write(`bartopo: internal error: ${(e as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}

if (require.main === module) runCli();
