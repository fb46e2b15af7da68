// The code-server harness: a real VS Code (code-server's server and web
// workbench, from npm) with the freshly built extension installed as an
// unpacked folder, run offline. Used by test/editor.test.ts (integration suite
// and UI test) and scripts/editor.js (npm run editor).
//
// Every run gets its own short folder under the temp dir (unix socket paths
// must stay under 108 characters) holding HOME/XDG dirs, the user data dir, a
// fresh extensions dir and the config; code-server runs in its own process
// group (detached = setsid) and is stopped by signalling the whole group, so
// no file watcher or extension host survives it.

import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';

/** Repository root (this file runs compiled from out/test/editor/). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface Tools {
  /** Node 24 binary (code-server needs it). */
  node24: string;
  /** code-server's out/node/entry.js. */
  codeServer: string;
  /** Debian's chromium binary. */
  chromium: string;
}

/**
 * Runs scripts/setup-editor-tests.sh (installs or reuses chromium, Node 24 and
 * code-server) and returns where they are. The script is quick when all is
 * cached; on a fresh machine it installs everything (a few minutes).
 */
export function ensureTools(log: (line: string) => void = () => undefined): Tools {
  const script = path.join(REPO_ROOT, 'scripts', 'setup-editor-tests.sh');
  const r = spawnSync('bash', [script], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
  for (const line of (r.stderr ?? '').split('\n')) if (line.trim()) log(line);
  if (r.status !== 0) {
    throw new Error(`scripts/setup-editor-tests.sh failed (exit ${r.status ?? r.signal}):\n${(r.stderr ?? '').split('\n').slice(-30).join('\n')}`);
  }
  const kv: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(\w+)=(.*)$/.exec(line.trim());
    if (m) kv[m[1]] = m[2];
  }
  for (const k of ['node24', 'codeServer', 'chromium']) {
    if (!kv[k] || !fs.existsSync(kv[k])) throw new Error(`setup-editor-tests.sh did not report a usable ${k} (${kv[k] ?? 'nothing'})`);
  }
  return { node24: kv.node24, codeServer: kv.codeServer, chromium: kv.chromium };
}

// --- The unpacked extension -------------------------------------------------

interface PackageJson {
  name: string;
  publisher: string;
  version: string;
  main?: string;
}

export function readPackageJson(): PackageJson {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
}

/** `publisher.name`, the extension id. */
export function extensionId(): string {
  const p = readPackageJson();
  return `${p.publisher}.${p.name}`;
}

/** `publisher.name-version`: the folder name VS Code expects in an extensions dir. */
export function extensionFolderName(): string {
  const p = readPackageJson();
  return `${p.publisher}.${p.name}-${p.version}`;
}

/** A .vscodeignore glob as a regular expression over repo-relative paths. */
function globToRegExp(glob: string): RegExp {
  let g = glob.replace(/^\.?\//, '');
  if (g.endsWith('/')) g += '**';
  let re = '';
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '*' && g[i + 1] === '*') {
      // `**/` matches any number of folders (also none); a final `**` anything.
      if (g[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  // A pattern naming a folder also covers what is inside it.
  return new RegExp(`^${re}(?:/.*)?$`);
}

const NEVER_PACKAGED = new Set(['.git', 'node_modules', '.vscode-test', 'out', 'test-output']);

/**
 * The files `vsce package` would put in the .vsix (without dependencies: the
 * client and server are bundled), from .vscodeignore: the same last-match-wins
 * rules as vsce, read directly because walking the repo with vsce also walks
 * the ~1 GB code-server cache and takes seconds.
 */
export function extensionFiles(): string[] {
  const ignoreFile = path.join(REPO_ROOT, '.vscodeignore');
  const rules = fs.existsSync(ignoreFile)
    ? fs
        .readFileSync(ignoreFile, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => (l.startsWith('!') ? { keep: true, re: globToRegExp(l.slice(1)) } : { keep: false, re: globToRegExp(l) }))
    : [];
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(REPO_ROOT, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (!rel && NEVER_PACKAGED.has(e.name)) continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) {
        let keep = true;
        for (const rule of rules) if (rule.re.test(r)) keep = rule.keep;
        if (keep) out.push(r);
      }
    }
  };
  walk('');
  const main = (readPackageJson().main ?? './dist/extension.js').replace(/^\.\//, '');
  for (const must of ['package.json', main]) {
    if (!out.includes(must)) throw new Error(`${must} is not part of the packaged extension (.vscodeignore) or does not exist: run npm run build`);
  }
  return out.sort();
}

/** Copies the packaged files of the extension into `<extensionsDir>/publisher.name-version`; returns that folder. */
export function installUnpackedExtension(extensionsDir: string): string {
  const dest = path.join(extensionsDir, extensionFolderName());
  fs.rmSync(dest, { recursive: true, force: true });
  for (const f of extensionFiles()) {
    const to = path.join(dest, f);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, f), to);
  }
  return dest;
}

// --- code-server --------------------------------------------------------------

export interface CodeServerOptions {
  tools: Tools;
  /** Folder opened in the workbench. */
  workspace: string;
  /** Run folder; default: a new short temp folder (removed by stop() unless keepRunDir). */
  runDir?: string;
  /** Port; default: one the OS picks. */
  port?: number;
  /** Extra environment for code-server and its extension hosts. */
  env?: Record<string, string>;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Also enable the smoke-test driver (needed to run an integration suite through the payload URL). */
  testDriver?: boolean;
  /** Where code-server's stdout/stderr go; default `<runDir>/code-server.log`. */
  logFile?: string;
  log?: (line: string) => void;
}

export interface CodeServer {
  url: string;
  port: number;
  runDir: string;
  logFile: string;
  extensionsDir: string;
  /** The installed unpacked extension. */
  extensionDir: string;
  workspace: string;
  process: ChildProcess;
  /** Stops the whole process group (SIGTERM, then SIGKILL after a grace time), waits for the exit. */
  stop(opts?: { keepRunDir?: boolean }): Promise<void>;
}

export const QUIET_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'github.copilot.enable': { '*': false },
  'git.enabled': false,
  'npm.autoDetect': 'off',
  'window.commandCenter': false,
};

/** A new short run folder under the temp dir (unix sockets need short paths). */
export function makeRunDir(prefix = 'bt-'): string {
  const base = fs.existsSync('/tmp') ? '/tmp' : os.tmpdir();
  return fs.mkdtempSync(path.join(base, prefix));
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const live = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  live.add(pid);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: a crashing test process must not leave code-server behind.
  process.on('exit', () => {
    for (const p of live) killGroup(p, 'SIGKILL');
  });
}

function httpGetStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

/**
 * Starts code-server with a fresh user data and extensions dir, the built
 * extension installed, and `workspace` as the folder to open. Resolves once
 * code-server listens and answers /healthz.
 */
export async function startCodeServer(o: CodeServerOptions): Promise<CodeServer> {
  const log = o.log ?? (() => undefined);
  const runDir = o.runDir ?? makeRunDir();
  const dirs = {
    home: path.join(runDir, 'home'),
    config: path.join(runDir, 'home', '.config'),
    data: path.join(runDir, 'home', '.local', 'share'),
    cache: path.join(runDir, 'home', '.cache'),
    runtime: path.join(runDir, 'rt'),
    tmp: path.join(runDir, 'tmp'),
    udd: path.join(runDir, 'udd'),
    exts: path.join(runDir, 'exts'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.join(dirs.udd, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.udd, 'User', 'settings.json'), JSON.stringify({ ...QUIET_SETTINGS, ...(o.settings ?? {}) }, null, 2));
  const extensionDir = installUnpackedExtension(dirs.exts);
  const configFile = path.join(runDir, 'config.yaml');
  fs.writeFileSync(configFile, 'auth: none\ncert: false\n');
  const logFile = o.logFile ?? path.join(runDir, 'code-server.log');
  const out = fs.openSync(logFile, 'a');

  const args = [
    o.tools.codeServer,
    '--bind-addr', `127.0.0.1:${o.port ?? 0}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--reconnection-grace-time', '5',
    '--config', configFile,
    '--user-data-dir', dirs.udd,
    '--extensions-dir', dirs.exts,
    ...(o.testDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
    o.workspace,
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: dirs.home,
    XDG_CONFIG_HOME: dirs.config,
    XDG_DATA_HOME: dirs.data,
    XDG_CACHE_HOME: dirs.cache,
    XDG_RUNTIME_DIR: dirs.runtime,
    TMPDIR: dirs.tmp,
    // code-server must not think it runs inside another code-server / VS Code.
    VSCODE_IPC_HOOK_CLI: '',
    ELECTRON_RUN_AS_NODE: '',
    ...(o.env ?? {}),
  };
  for (const k of Object.keys(env)) if (env[k] === '') delete env[k];
  log(`starting code-server (run folder ${runDir})`);
  const child = spawn(o.tools.node24, args, { cwd: runDir, env, detached: true, stdio: ['ignore', 'pipe', out] });
  trackGroup(child.pid!);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : null))));

  // The listening address is in its log: wait for that line (the port may be 0 = any).
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`code-server did not start listening within 60 s; see ${logFile}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      fs.appendFileSync(logFile, chunk);
      buf += chunk.toString('utf8');
      const m = /HTTP server listening on https?:\/\/[^\s:]+:(\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`code-server exited (${code}) before listening; see ${logFile}:\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`));
    });
  }).catch(async (e) => {
    killGroup(child.pid!, 'SIGKILL');
    live.delete(child.pid!);
    throw e;
  });
  fs.closeSync(out);
  const url = `http://127.0.0.1:${port}`;
  const health = await httpGetStatus(`${url}/healthz`);
  if (health !== 200) throw new Error(`code-server /healthz answered ${health}`);

  let stopped: Promise<void> | undefined;
  const stop = (opts: { keepRunDir?: boolean } = {}): Promise<void> => {
    stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child.pid!, 'SIGTERM');
        const t = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      // Children that outlived the main process (watcher, extension hosts).
      killGroup(child.pid!, 'SIGKILL');
      live.delete(child.pid!);
      if (!opts.keepRunDir && !o.runDir) fs.rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
    })();
    return stopped;
  };
  log(`code-server listening on ${url}`);
  return { url, port, runDir, logFile, extensionsDir: dirs.exts, extensionDir, workspace: o.workspace, process: child, stop };
}

/** A copy of examples/*.bartopo in `<dir>/examples` (tests edit them). */
export function copyExamples(dir: string): string {
  const ws = path.join(dir, 'examples');
  fs.mkdirSync(ws, { recursive: true });
  const src = path.join(REPO_ROOT, 'examples');
  for (const f of fs.readdirSync(src)) if (f.endsWith('.bartopo')) fs.copyFileSync(path.join(src, f), path.join(ws, f));
  return ws;
}
