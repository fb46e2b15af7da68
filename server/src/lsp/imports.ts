// `bartopo/importLspci` and `bartopo/importSysfs`: the importers of `bartopo
// import` behind custom requests, so that an editor's client only shows the
// result. Bad parameters are answered with an InvalidParams error whose
// message the client can show as is.

import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCodes, ResponseError } from 'vscode-languageserver';
import { isPowerOfTwo, parseSize } from '../engine/values';
import { ImportResult } from '../import/emit';
import { importLspci } from '../import/lspci';
import { importSysfs } from '../import/sysfs';
import { ImportLspciParams, ImportResponse, ImportSysfsParams } from '../protocol';

function invalid(message: string): ResponseError<void> {
  return new ResponseError(ErrorCodes.InvalidParams, message);
}

/** `4K`, `64K`, `65536`, `0x10000` … → bytes; undefined for nothing, `file` or `dump`. */
export function parsePageSizeParam(v: unknown): bigint | undefined {
  if (v === undefined || v === null || v === '' || v === 'file' || v === 'dump') return undefined;
  if (typeof v !== 'string' && typeof v !== 'number') throw invalid('pageSize must be a string such as 4K, 16K or 64K');
  const r = parseSize(String(v).trim());
  if (!r.ok || !isPowerOfTwo(r.value) || r.value < 4096n) throw invalid(`page size \`${String(v)}\` is not a power of two of at least 4K (4K, 16K, 64K …)`);
  return r.value;
}

function response(r: ImportResult): ImportResponse {
  return { text: r.text, warnings: r.warnings.map((w) => ({ line: w.line, message: w.message })), devices: r.devices, bars: r.bars };
}

export function runImportLspci(params: ImportLspciParams): ImportResponse {
  if (!params || typeof params.text !== 'string') throw invalid('text (the output of `lspci -vvv`) is missing');
  const pageSize = parsePageSizeParam(params.pageSize);
  const sourceName = typeof params.sourceName === 'string' && params.sourceName !== '' ? params.sourceName : undefined;
  return response(importLspci(params.text, { pageSize, sourceName }));
}

/** This machine's page size (`getconf PAGESIZE`); undefined when it cannot be read. */
function machinePageSize(): Promise<bigint | undefined> {
  return new Promise((resolve) => {
    execFile('getconf', ['PAGESIZE'], { encoding: 'utf8', timeout: 5000 }, (err, stdout) => {
      if (err) return resolve(undefined);
      const t = stdout.trim();
      resolve(/^\d+$/.test(t) ? BigInt(t) : undefined);
    });
  });
}

export async function runImportSysfs(params: ImportSysfsParams | undefined): Promise<ImportResponse> {
  const rawRoot = params?.root;
  if (rawRoot !== undefined && rawRoot !== null && typeof rawRoot !== 'string') throw invalid('root must be a path');
  const root = rawRoot ? rawRoot : '/';
  if (!path.isAbsolute(root)) throw invalid(`root \`${root}\` is not an absolute path`);
  if (!fs.existsSync(path.join(root, 'sys', 'bus', 'pci', 'devices'))) {
    throw invalid(root === '/' ? 'this machine has no /sys/bus/pci/devices (not Linux, or no PCI bus visible here)' : `${root} has no sys/bus/pci/devices`);
  }
  let pageSize = parsePageSizeParam(params?.pageSize);
  if (pageSize === undefined && path.resolve(root) === '/') pageSize = await machinePageSize();
  return response(importSysfs(root, { pageSize }));
}
