// The `bartopo` CLI as a user runs it: a real child process on real files.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import { pathToFileURL } from 'url';
import { sarifUri } from '../server/src/cli/report';
import * as fs from 'fs';
import * as path from 'path';
import { EXAMPLES_DIR, REPO_ROOT } from './paths';
import { tempDir } from './tempDir';

const BIN = path.join(REPO_ROOT, 'bin', 'bartopo.js');

/** The environment the CLI runs in here: no colour, unless a test sets FORCE_COLOR or NO_COLOR itself. */
function envWith(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  return { ...env, ...extra };
}

function run(args: string[], cwd = REPO_ROOT, input?: string, extraEnv: NodeJS.ProcessEnv = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, input, encoding: 'utf8', maxBuffer: 256 << 20, env: envWith(extraEnv) });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function tmpFile(name: string, content: string | Buffer): string {
  const dir = tempDir('bartopo-cli-');
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

const CLEAN = `host h {\n  page-size 4K\n}\ndevice nic at 01:00.0 {\n  group 1\n  bar 0 mem64 size 1M at 0xfe000000\n}\n`;
const WITH_ERROR = `device nic at 01:00.0 {\n  bar 0 mem64 size 1M at 0xfe001000\n}\n`;

describe('bartopo CLI', () => {
  it('colours text output as FORCE_COLOR, NO_COLOR and --no-color say (the flag wins)', () => {
    const f = tmpFile('colour.bartopo', WITH_ERROR);
    const escapes = (extra: NodeJS.ProcessEnv, flags: string[] = []): boolean => run(['check', ...flags, f], REPO_ROOT, undefined, { NO_COLOR: undefined, ...extra }).stdout.includes('\u001b[');
    // Not a terminal here: no colour unless forced.
    assert.deepStrictEqual(
      [escapes({}), escapes({ FORCE_COLOR: '1' }), escapes({ FORCE_COLOR: '' }), escapes({ FORCE_COLOR: '0' }), escapes({ FORCE_COLOR: 'false' }), escapes({ FORCE_COLOR: '1' }, ['--no-color']), escapes({ NO_COLOR: '1' })],
      [false, true, true, false, false, false, false],
    );
  });

  it('names what import lspci expected in a read error, and says why it cannot write its output', () => {
    const dir = tempDir('bartopo-cli-');
    assert.deepStrictEqual([run(['import', 'lspci', dir]).stderr, run(['import', 'lspci', dir]).code], [`bartopo: ${dir}: is a directory, not \`lspci -vvv\` output\n`, 2]);
    const lspci = tmpFile('lspci.txt', '01:00.0 Ethernet controller: Acme NIC\n\tRegion 0: Memory at 80000000 (32-bit, non-prefetchable) [size=64K]\n');
    const out = path.join(dir, 'missing', 'x.bartopo');
    const r = run(['import', 'lspci', lspci, '-o', out]);
    assert.deepStrictEqual([r.stderr, r.code], [`bartopo: ${out}: cannot write: no such directory\n`, 2]);
  });

  it('exits 0 on a file without errors and prints a compiler-style summary', () => {
    const r = run(['check', tmpFile('ok.bartopo', CLEAN)]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /0 errors, 0 warnings, 0 infos in 1 file/);
  });

  it('--verdicts lists four VFs of a VF BAR and counts the others by host verdict, never leaving them out silently', () => {
    // 100 VFs of 4K from 0x2_0000_0000 on a 64K host: 16 per page, none mmapped (sub-page VF BARs share their pages).
    const text = 'host h {\n  page-size 64K\n}\ndevice a at 01:00.0 {\n  group 1\n  bar 0 mem64 size 64K at 0x1_0000_0000\n  sriov vfs 100 {\n    bar 0 mem64 size 4K at 0x2_0000_0000\n  }\n}\n';
    const r = run(['check', '--verdicts', tmpFile('vfs.bartopo', text)]);
    const rows = r.stdout.split('\n').filter((l) => /^\s+(a\.|…)/.test(l));
    assert.deepStrictEqual(
      rows.map((l) => l.trim().split(/\s+/)[0]),
      ['a.bar0', 'a.vf0.bar0', 'a.vf1.bar0', 'a.vf2.bar0', 'a.vf3.bar0', '…'],
      r.stdout,
    );
    assert.match(rows[5], /… 96 more VFs \(a\.vf4\.bar0 to a\.vf99\.bar0\): 96 no-mmap/);
  });

  it('takes a file whose only top-level words are mistyped keywords for a topology with syntax errors, not for a foreign file', () => {
    for (const [word, meant] of [['devcie', 'device'], ['Device', 'device'], ['gust', 'guest'], ['HOST', 'host']]) {
      const r = run(['check', tmpFile('typo.bartopo', `${word} a at 01:00.0 {\n  bar 0 mem32 size 4K at 0xf000_0000\n}\n`)]);
      assert.strictEqual(r.code, 1, `${word}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`error syntax: unknown statement \`${word}\` in the top level; did you mean \`${meant}\`\\?`), r.stdout);
    }
    // A word that merely resembles one, on a line that opens no block, is still a foreign file: YAML's `hosts:` and
    // `host:`, an ssh_config `Host name`, English text.
    for (const [name, text] of [['inventory.yaml', 'hosts:\n  - a\n  - b\n'], ['config.yaml', 'host: foo\nbar: 1\n'], ['ssh_config', 'Host myserver\n  User me\n'], ['notes.txt', 'ghost town\n']]) {
      const r = run(['check', tmpFile(name, text)]);
      assert.strictEqual(r.code, 2, `${name}: ${r.stdout}`);
      assert.match(r.stderr, /does not look like a \.bartopo topology/);
    }
  });

  it('exits 1 when there are errors, with file:line:col: severity rule: message', () => {
    const f = tmpFile('bad.bartopo', WITH_ERROR);
    const r = run(['check', f]);
    assert.strictEqual(r.code, 1);
    // 1-based line 2, column of the address token.
    const col = '  bar 0 mem64 size 1M at '.length + 1;
    assert.ok(r.stdout.includes(`${f}:2:${col}: error bar-alignment: nic.bar0: address 0xfe001000 is not a multiple of its size 1M`), r.stdout);
  });

  it('exits 2 with a one-line error for a missing file, a directory, invalid UTF-8, binary and foreign files', () => {
    const dir = tempDir('bartopo-cli-');
    const cases: [string, RegExp][] = [
      [path.join(dir, 'missing.bartopo'), /cannot read: no such file/],
      [dir, /is a directory/],
      [tmpFile('latin1.bartopo', Buffer.from([0x64, 0x65, 0x76, 0xe9, 0x0a])), /not valid UTF-8/],
      [tmpFile('bin.bartopo', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01])), /binary file/],
      [tmpFile('pkg.json', '{ "name": "x", "version": "1.0.0" }\n'), /does not look like a \.bartopo topology/],
    ];
    // A device that never ends: read in chunks, the first NUL stops it (a whole read would never return).
    if (fs.existsSync('/dev/zero')) cases.push(['/dev/zero', /binary file/]);
    else console.log('      (no /dev/zero here: the endless-device case is not run)');
    for (const [p, re] of cases) {
      const r = run(['check', p]);
      assert.strictEqual(r.code, 2, `${p}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re);
      assert.strictEqual(r.stderr.trim().split('\n').length, 1, `one line, no stack trace: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/);
    }
  });

  it('map and fix refuse a file that is not a topology as check does; fix --write refuses a pipe and a file it may not write', function () {
    const yaml = tmpFile('inventory.yaml', 'hosts:\n  - a\n');
    for (const args of [['map', yaml], ['fix', yaml], ['fix', '--write', yaml]]) {
      const r = run(args);
      assert.strictEqual(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /does not look like a \.bartopo topology/);
      assert.strictEqual(r.stdout, '');
    }
    assert.strictEqual(fs.readFileSync(yaml, 'utf8'), 'hosts:\n  - a\n');
    // A directory is said to be one, with --write as without.
    assert.match(run(['fix', '--write', path.dirname(yaml)]).stderr, /is a directory, not a \.bartopo file/);
    // A pipe was read, not a place to write: refused before any work, nothing lost, nothing hangs.
    const piped = spawnSync('sh', ['-c', `cat "$1" | "$2" "$3" fix --write /dev/stdin`, 'sh', path.join(EXAMPLES_DIR, 'nec-usb-x86-4k.bartopo'), process.execPath, BIN], { encoding: 'utf8', timeout: 20000 });
    assert.strictEqual(piped.status, 2, piped.stdout + piped.stderr);
    assert.match(piped.stderr, /--write needs a regular file/);
    assert.strictEqual(piped.stderr.trim().split('\n').length, 1, piped.stderr);
    // A read-only file: one line, no "internal error". (root writes any file whatever its mode: then run as `nobody`.)
    const f = tmpFile('ro.bartopo', fs.readFileSync(path.join(EXAMPLES_DIR, 'nec-usb-x86-4k.bartopo'), 'utf8'));
    fs.chmodSync(path.dirname(f), 0o755);
    fs.chmodSync(f, 0o444);
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const ro = spawnSync(process.execPath, [BIN, 'fix', '--write', f], { cwd: REPO_ROOT, encoding: 'utf8', ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
    if (ro.error || (asRoot && ro.status !== 2 && /Cannot find module|EACCES.*bartopo\.js/.test(ro.stderr))) {
      console.log(`      skipped the read-only case: cannot run the CLI as an unprivileged user here (${ro.error?.message ?? ro.stderr.trim().split('\n')[0]})`);
      return;
    }
    assert.strictEqual(ro.status, 2, ro.stdout + ro.stderr);
    assert.match(ro.stderr, /ro\.bartopo: cannot write: permission denied\n$/);
    assert.doesNotMatch(ro.stderr, /internal error/);
  });

  it('exits 2 with a one-line error for a file it may not read', function () {
    const f = tmpFile('locked.bartopo', CLEAN);
    fs.chmodSync(path.dirname(f), 0o755);
    fs.chmodSync(f, 0o000);
    // root reads any file whatever its mode: then the CLI runs as the unprivileged user `nobody`.
    const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const r = spawnSync(process.execPath, [BIN, 'check', f], { cwd: REPO_ROOT, encoding: 'utf8', ...(asRoot ? { uid: 65534, gid: 65534 } : {}) });
    if (r.error || (asRoot && r.status !== 2 && /Cannot find module|EACCES.*bartopo\.js/.test(r.stderr))) {
      console.log(`      skipped: cannot run the CLI as an unprivileged user here (${r.error?.message ?? r.stderr.trim().split('\n')[0]})`);
      this.skip();
    }
    assert.strictEqual(r.status, 2, r.stdout + r.stderr);
    assert.strictEqual(r.stderr, `bartopo: ${f}: cannot read: permission denied\n`);
  });

  it('reads a topology from a pipe as well as from a file (/dev/stdin, process substitution)', () => {
    // Through a shell pipe, as a user runs it (Node's own `input` is a socket, which /dev/stdin cannot open).
    const f = tmpFile('piped.bartopo', WITH_ERROR);
    const r = spawnSync('sh', ['-c', `cat "$1" | "$2" "$3" check /dev/stdin`, 'sh', f, process.execPath, BIN], { encoding: 'utf8' });
    assert.strictEqual(r.status, 1, r.stderr);
    assert.match(r.stdout, /\/dev\/stdin:2:\d+: error bar-alignment: nic\.bar0/);
  });

  it('exits 2 on bad usage, with a one-line error', () => {
    for (const args of [['check'], ['check', '--format', 'xml', 'x.bartopo'], ['check', '--page-size', '3K', 'x.bartopo'], ['check', '--severity', 'foo=bar', 'x.bartopo'], ['fix', '--budget', 'soon', 'x.bartopo'], ['fix', 'a.bartopo', 'b.bartopo'], ['map', 'a.bartopo', 'b.bartopo'], ['frobnicate']]) {
      const r = run(args);
      assert.strictEqual(r.code, 2, args.join(' '));
      assert.strictEqual(r.stderr.trimEnd().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /--help/);
    }
  });

  it('--format json streams a report too big for one string, formatted as JSON.stringify formats it', () => {
    // 2 × 4,000 VFs × 2 BARs: 16,000 VF BAR entries, several megabytes, written in pieces.
    const vfs = (i: number): string => `device d${i} at 00:00.${i} {\n  group ${i}\n  sriov vfs 4000 {\n    bar 0 mem64 size 16K at 0x${(0x1_0000_0000 + i * 0x1000_0000).toString(16)}\n    bar 2 mem64 size 64K\n  }\n}\n`;
    const f = tmpFile('vfs.bartopo', `host h {\n  page-size 64K\n}\n${vfs(0)}${vfs(1)}`);
    const chunks: string[] = [];
    const res = run(['check', '--format', 'json', f]);
    assert.strictEqual(res.code, 0, res.stderr);
    const j = JSON.parse(res.stdout);
    assert.strictEqual(res.stdout, JSON.stringify(j, null, 2) + '\n');
    assert.strictEqual(j.files[0].bars.length, 16_000);
    assert.deepStrictEqual(j.files[0].bars[4001], { id: 'd0.vf1.bar2', kind: 'mem64', size: '0x10000', hostVerdict: 'no-mmap', guests: {} });
    // In process: the writer hands the output over in pieces of about a megabyte, never as one string.
    const { writeJson } = require('../server/src/cli/report') as typeof import('../server/src/cli/report');
    const { analyze } = require('../server/src/engine/analyze') as typeof import('../server/src/engine/analyze');
    const { LineIndex } = require('../server/src/engine/lineIndex') as typeof import('../server/src/engine/lineIndex');
    const text = fs.readFileSync(f, 'utf8');
    writeJson([{ path: f, analysis: analyze(text), lines: new LineIndex(text) }], (s) => chunks.push(s));
    assert.ok(chunks.length >= 3, `${chunks.length} pieces`);
    assert.ok(Math.max(...chunks.map((c) => c.length)) < 2 << 20, 'a piece over 2 MB');
    assert.strictEqual(chunks.join(''), res.stdout);
  });

  it('writes a report bigger than its heap limit to a slow pipe, as it writes it to a file', () => {
    // 3 × 65,535 VF BARs: a 39 MB JSON report, with a 128 MB heap. Queued for a pipe that is not read yet, the
    // writes ran the heap out (V8's fatal error and native stack, 64 KiB delivered); they now wait for the reader.
    const f = tmpFile('vfs65535.bartopo', 'host { page-size 4K }\ndevice pf at 00:01.0 {\n  bar 0 mem64 size 64K at 0x10_0000_0000\n  sriov vfs 65535 {\n    bar 0 mem64 size 16K at 0x20_0000_0000\n    bar 2 mem64 size 16K at 0x30_0000_0000\n    bar 4 mem64 size 16K at 0x40_0000_0000\n  }\n}\n');
    const env = { ...process.env, NODE_OPTIONS: '--max-old-space-size=128' };
    const out = path.join(path.dirname(f), 'report.json');
    const cmd = (tail: string): string => `"${process.execPath}" "${BIN}" check --format json "${f}" ${tail}; echo " \${PIPESTATUS[0]}"`;
    const toFile = spawnSync('bash', ['-c', cmd(`> "${out}"`)], { encoding: 'utf8', env });
    assert.strictEqual(toFile.stdout.trim(), '0', toFile.stderr);
    const size = fs.statSync(out).size;
    assert.ok(size > 30e6, `${size} bytes`);
    const piped = spawnSync('bash', ['-c', cmd('| (sleep 2; wc -c)')], { encoding: 'utf8', env });
    assert.strictEqual(piped.stderr, '', 'no fatal error');
    assert.deepStrictEqual(piped.stdout.trim().split(/\s+/), [String(size), '0'], 'every byte, exit code 0');
  });

  it('ends quietly when the reader closes the pipe early (| head)', () => {
    const big = fs.readFileSync(path.join(EXAMPLES_DIR, 'sriov-vfs-64k.bartopo'), 'utf8');
    const f = tmpFile('many.bartopo', big.replace(/sriov vfs \d+/g, 'sriov vfs 60000'));
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" check --format json "${f}" | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    assert.strictEqual(r.stderr, '', 'no stack trace');
    assert.strictEqual(r.stdout.trim(), '141', 'the status of a process ended by a closed pipe (128 + SIGPIPE)');
  });

  it('prints --help and --version; without a command, the usage and exit code 2', () => {
    const h = run(['--help']);
    assert.strictEqual(h.code, 0);
    assert.match(h.stdout, /check/);
    for (const args of [[], ['import']]) {
      const r = run(args);
      assert.strictEqual(r.code, 2, `bartopo ${args.join(' ')}`);
      assert.match(r.stdout + r.stderr, /Usage: bartopo/);
    }
    const v = run(['--version']);
    assert.strictEqual(v.code, 0);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    assert.strictEqual(v.stdout.trim(), pkg.version);
  });

  it('--format json follows the spec: hex strings, 0-based ranges, bars in file order, guests that assign the device', () => {
    const f = tmpFile(
      'j.bartopo',
      `host h {\n  page-size 64K\n}\ndevice a at 01:00.0 {\n  group 1\n  bar 0 mem64 size 4K at 0x3fe080021000\n  bar 2 mem64 size 64K\n}\nguest vm0 {\n  window 0x200080000000 size 1G\n  assign a\n}\n`,
    );
    const r = run(['check', '--format', 'json', f]);
    assert.strictEqual(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.strictEqual(j.version, 1);
    assert.strictEqual(j.files[0].path, f);
    assert.strictEqual(j.files[0].pageSize, '0x10000');
    const sub = j.files[0].diagnostics.find((d: { rule: string }) => d.rule === 'subpage-unaligned');
    assert.deepStrictEqual(sub.range.start, { line: 5, character: '  bar 0 mem64 size 4K at '.length });
    assert.strictEqual(sub.subject, 'a.bar0');
    assert.strictEqual(sub.severity, 'warning');
    assert.deepStrictEqual(
      j.files[0].bars.map((b: { id: string }) => b.id),
      ['a.bar0', 'a.bar2'],
    );
    const [b0, b2] = j.files[0].bars;
    assert.deepStrictEqual(b0, { id: 'a.bar0', kind: 'mem64', size: '0x1000', host: '0x3fe080021000', hostVerdict: 'no-mmap', guests: { vm0: { address: '0x200080000000', verdict: 'trapped' } } });
    // listed policy: bar0 first at the window start, then the 64K bar2 at the next 64K multiple.
    assert.deepStrictEqual(b2.guests, { vm0: { address: '0x200080010000', verdict: 'trapped' } });
    assert.strictEqual(b2.host, undefined, 'host is absent for an unassigned BAR');
    assert.strictEqual(b2.hostVerdict, 'no-mmap');
    assert.deepStrictEqual(j.summary, { errors: 0, warnings: 1, infos: 1 });
  });

  it('--page-size overrides the host page size (what-if)', () => {
    const f = tmpFile('p.bartopo', `host h {\n  page-size 4K\n}\ndevice a at 01:00.0 {\n  bar 0 mem32 size 4K at 0xf0001000\n}\n`);
    assert.doesNotMatch(run(['check', f]).stdout, /subpage/);
    const r = run(['check', '--page-size', '64K', f]);
    assert.match(r.stdout, /warning subpage-unaligned/);
    assert.strictEqual(JSON.parse(run(['check', '-f', 'json', '-p', '64K', f]).stdout).files[0].pageSize, '0x10000');
  });

  it('--severity changes or silences a rule, and errors drive the exit code', () => {
    const f = tmpFile('s.bartopo', WITH_ERROR);
    const off = run(['check', '--severity', 'bar-alignment=off', f]);
    assert.strictEqual(off.code, 0);
    assert.doesNotMatch(off.stdout, /bar-alignment/);
    const up = run(['check', '-f', 'json', '--severity', 'bar-unassigned=error', tmpFile('u.bartopo', `device a at 01:00.0 {\n  bar 0 mem32 size 4K\n}\n`)]);
    assert.strictEqual(up.code, 1);
    assert.strictEqual(JSON.parse(up.stdout).files[0].diagnostics[0].severity, 'error');
  });

  it('--format sarif writes SARIF 2.1.0 that code scanning accepts', () => {
    const f = tmpFile('s.bartopo', WITH_ERROR);
    const r = run(['check', '--format', 'sarif', f]);
    assert.strictEqual(r.code, 1);
    const s = JSON.parse(r.stdout);
    assert.strictEqual(s.version, '2.1.0');
    assert.match(s.$schema, /sarif/);
    const run0 = s.runs[0];
    assert.strictEqual(run0.tool.driver.name, 'bartopo');
    assert.strictEqual(run0.columnKind, 'utf16CodeUnits');
    const ruleIds = run0.tool.driver.rules.map((x: { id: string }) => x.id);
    assert.ok(ruleIds.includes('bar-alignment') && ruleIds.includes('guest-offset-mismatch'));
    const res = run0.results[0];
    assert.strictEqual(res.ruleId, 'bar-alignment');
    assert.strictEqual(res.level, 'error');
    assert.ok(res.message.text.length > 0);
    const loc = res.locations[0].physicalLocation;
    // An absolute path is a file:// URI (SARIF's artifactLocation.uri is a URI reference).
    assert.strictEqual(loc.artifactLocation.uri, pathToFileURL(f).href);
    assert.strictEqual(loc.region.startLine, 2);
    assert.strictEqual(loc.region.startColumn, '  bar 0 mem64 size 1M at '.length + 1);
  });

  it('--format sarif writes a relative path as a URI reference, each segment percent-encoded', () => {
    const dir = tempDir('bartopo-sarif-');
    fs.mkdirSync(path.join(dir, 'my topo'));
    fs.writeFileSync(path.join(dir, 'my topo', 'a b#c%d.bartopo'), WITH_ERROR);
    const r = run(['check', '--format', 'sarif', 'my topo/a b#c%d.bartopo'], dir);
    const uri = JSON.parse(r.stdout).runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri;
    assert.strictEqual(uri, 'my%20topo/a%20b%23c%25d.bartopo');
    // Windows paths, whatever the platform: a drive path and a UNC path are file URIs.
    assert.strictEqual(sarifUri('C:\\Users\\me\\x y.bartopo'), 'file:///C:/Users/me/x%20y.bartopo');
    assert.strictEqual(sarifUri('\\\\server\\share\\f.bartopo'), 'file://server/share/f.bartopo');
  });

  it('checks every bundled example without errors', () => {
    const files = fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.bartopo')).map((f) => path.join(EXAMPLES_DIR, f));
    assert.ok(files.length >= 5);
    const r = run(['check', '-f', 'json', ...files]);
    assert.strictEqual(r.code, 0, r.stdout);
    const j = JSON.parse(r.stdout);
    assert.strictEqual(j.files.length, files.length);
    assert.strictEqual(j.summary.errors, 0);
  });

  it('bartopo fix applies the preferred fixes and the result re-checks clean of the fixed rules', () => {
    const f = tmpFile('f.bartopo', fs.readFileSync(path.join(EXAMPLES_DIR, 'page-match-guest.bartopo'), 'utf8'));
    const r = run(['fix', '--write', f]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /fixed: /);
    // The last line counts the fixes and the rounds they took.
    const fixedLines = r.stderr.split('\n').filter((l) => l.startsWith('fixed: ')).length;
    assert.match(r.stderr, new RegExp(`\\n${fixedLines} fix(es)? in [1-9]\\d* rounds?\\n$`));
    const after = run(['check', '-f', 'json', f]);
    const rules = JSON.parse(after.stdout).files[0].diagnostics.map((d: { rule: string }) => d.rule);
    assert.ok(!rules.includes('guest-offset-mismatch') && !rules.includes('guest-page-conflict'), rules.join(','));
    assert.ok(fs.readFileSync(f, 'utf8').includes('# The VMM places each BAR in its own guest page'), 'comments survive');
  });

  it('bartopo fix ends with the count line also when there is nothing to fix', () => {
    const r = run(['fix', tmpFile('clean.bartopo', CLEAN)]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(r.stdout, CLEAN);
    assert.strictEqual(r.stderr, 'no fix applied\n');
  });

  it('bartopo fix keeps a UTF-8 byte order mark, written back or printed', () => {
    const source = fs.readFileSync(path.join(EXAMPLES_DIR, 'page-match-guest.bartopo'), 'utf8');
    const f = tmpFile('bom.bartopo', '\ufeff' + source);
    const printed = run(['fix', f]);
    assert.strictEqual(printed.code, 0, printed.stderr);
    assert.ok(printed.stdout.startsWith('\ufeff') && !printed.stdout.startsWith('\ufeff\ufeff'), JSON.stringify(printed.stdout.slice(0, 20)));
    assert.strictEqual(run(['fix', '--write', f]).code, 0);
    const written = fs.readFileSync(f, 'utf8');
    assert.notStrictEqual(written, '\ufeff' + source, 'fixes were applied');
    assert.strictEqual(written, printed.stdout);
  });

  it('bartopo map draws at most --max-pages pages (1,000 unless told) and says when it left some out', () => {
    // 40 devices, each with a 1K BAR alone at the start of its own 4K page: 40 pages to draw.
    const devs = Array.from({ length: 40 }, (_, i) => `device d${i} at 00:${(i + 1).toString(16).padStart(2, '0')}.0 {\n  group ${i}\n  bar 0 mem32 size 1K at 0x${(0xf000_0000 + i * 0x1000).toString(16)}\n}\n`).join('');
    const f = tmpFile('many.bartopo', devs);
    const all = run(['map', f]);
    assert.strictEqual((all.stdout.match(/^host page /gm) ?? []).length, 40, all.stdout.slice(0, 400));
    assert.doesNotMatch(all.stdout, /not drawn/);
    const few = run(['map', '--max-pages', '3', f]);
    assert.strictEqual((few.stdout.match(/^host page /gm) ?? []).length, 3);
    assert.match(few.stdout, /… first 3 pages; more are not drawn \(--max-pages 0 draws all\)\n$/);
    assert.strictEqual((run(['map', '--max-pages', '0', f]).stdout.match(/^host page /gm) ?? []).length, 40);
    const out = path.join(tempDir('bartopo-map-'), 'few.svg');
    const svg = run(['map', '--max-pages', '3', '--svg', out, f]);
    assert.match(svg.stderr, /wrote .*few\.svg \(3 pages: first 3 pages; more are not drawn/);
    assert.strictEqual((fs.readFileSync(out, 'utf8').match(/<g class="page"/g) ?? []).length, 3);
    assert.strictEqual(run(['map', '--max-pages', 'many', f]).code, 2);
  });

  it('bartopo map prints the shared pages and writes an SVG', () => {
    const r = run(['map', path.join(EXAMPLES_DIR, 'nec-usb-x86-4k.bartopo')]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /host page 0xf7c00000-0xf7c00fff \(4K\): holds resources of 2 IOMMU groups/);
    const out = path.join(tempDir('bartopo-map-'), 'm.svg');
    const s = run(['map', '--svg', out, path.join(EXAMPLES_DIR, 'nec-usb-power-64k-packed.bartopo')]);
    assert.strictEqual(s.code, 0, s.stderr);
    const svg = fs.readFileSync(out, 'utf8');
    assert.match(svg, /<svg /);
    assert.match(svg, /data-id="ohci1.bar0"/);
  });

  it('bartopo import lspci reads a file or standard input and writes a topology that checks', () => {
    const dump = `0000:01:00.0 Ethernet controller [0200]: Example NIC [8086:1572] (rev 01)\n\tIOMMU group: 17\n\tRegion 0: Memory at 38000000000 (64-bit, prefetchable) [size=8M]\n\tRegion 3: Memory at 38000800000 (64-bit, prefetchable) [size=32K]\n\tCapabilities: [70] MSI-X: Enable+ Count=129 Masked-\n\t\tVector table: BAR=3 offset=00000000\n\t\tPBA: BAR=3 offset=00001000\n`;
    const r = run(['import', 'lspci', '--page-size', '64K'], REPO_ROOT, dump);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stdout, /page-size 64K/);
    assert.match(r.stdout, /bar 3 mem64 prefetch size 32K at 0x38000800000/);
    assert.match(r.stdout, /msix entries 129 table bar 3 offset 0x0 pba bar 3 offset 0x1000/);
    const f = tmpFile('imp.bartopo', r.stdout);
    const c = run(['check', '-f', 'json', f]);
    assert.strictEqual(c.code, 0, c.stdout);
    const bars = JSON.parse(c.stdout).files[0].bars;
    assert.deepStrictEqual(bars.map((b: { size: string; hostVerdict: string }) => [b.size, b.hostVerdict]), [['0x800000', 'mmap'], ['0x8000', 'mmap']]); // 32K alone at the start of its 64K page: vfio-pci reserves the rest
  });

  it('bartopo import rejects input that is not lspci output, and a sysfs root without PCI devices', () => {
    const r = run(['import', 'lspci', tmpFile('x.txt', 'hello world\nthis is not lspci\n')]);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /no lspci device found/);
    const s = run(['import', 'sysfs', tempDir('bartopo-sys-')]);
    assert.strictEqual(s.code, 2);
    assert.match(s.stderr, /has no sys\/bus\/pci\/devices/);
  });
});
