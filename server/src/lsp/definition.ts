// Go to definition, find references and rename for device names (declared by
// `device NAME`, used by `assign NAME`). Definition also jumps from a BAR
// index (`assign … { bar N }`, `msix … table bar N`, `region … bar N`) to the
// BAR's declaration.

import { Location, Range, ResponseError, ErrorCodes, WorkspaceEdit, TextEdit } from 'vscode-languageserver';
import { Span } from '../engine';
import { DeviceNode } from '../engine/ast';
import { toRange } from './convert';
import { DocState } from './documents';
import { deviceDecl, deviceNameAt, deviceRefs, locate } from './nav';

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Words the parser reads as keywords in a position where a name could also stand. */
const RESERVED = new Set(['at', 'size', 'bar', 'offset', 'table', 'pba', 'entries', 'prefetch', 'hot', 'vfs', 'mem32', 'mem64', 'io']);

function barDecl(d: DeviceNode | undefined, index: number): Span | undefined {
  const b = d?.bars.find((x) => x.index?.value === index);
  return b ? { start: b.stmt.start, end: b.stmt.end } : undefined;
}

export function getDefinition(s: DocState, offset: number): Location[] {
  const a = s.analysis;
  const loc = (span: Span): Location => ({ uri: s.uri, range: toRange(s.index, span) });
  const name = deviceNameAt(a, offset);
  if (name) {
    const d = deviceDecl(a, name.name);
    return d?.name ? [loc(d.name.span)] : [];
  }
  const h = locate(a, offset);
  if (h?.kind === 'assign-bar' && h.onIndex && h.bar.index && h.assign.device) {
    const span = barDecl(deviceDecl(a, h.assign.device.value), h.bar.index.value);
    return span ? [loc(span)] : [];
  }
  if ((h?.kind === 'msix' || h?.kind === 'region') && h.barRef) {
    const span = barDecl(h.device, h.barRef.index);
    return span ? [loc(span)] : [];
  }
  return [];
}

export function getReferences(s: DocState, offset: number, includeDeclaration: boolean): Location[] {
  const a = s.analysis;
  const name = deviceNameAt(a, offset);
  if (!name) return [];
  const spans: Span[] = [];
  if (includeDeclaration) for (const d of a.file.devices) if (d.name?.value === name.name) spans.push(d.name.span);
  spans.push(...deviceRefs(a, name.name));
  return spans.map((sp) => ({ uri: s.uri, range: toRange(s.index, sp) }));
}

export function prepareRename(s: DocState, offset: number): { range: Range; placeholder: string } | null {
  const name = deviceNameAt(s.analysis, offset);
  if (!name) return null;
  return { range: toRange(s.index, name.span), placeholder: name.name };
}

export function rename(s: DocState, offset: number, newName: string): WorkspaceEdit | null {
  const a = s.analysis;
  const name = deviceNameAt(a, offset);
  if (!name) return null;
  if (!NAME.test(newName) || RESERVED.has(newName)) {
    throw new ResponseError(ErrorCodes.InvalidParams, `\`${newName}\` is not a valid device name (letters, digits, \`_\` and \`-\`, not starting with a digit)`);
  }
  if (newName !== name.name && a.file.devices.some((d) => d.name?.value === newName)) {
    throw new ResponseError(ErrorCodes.InvalidParams, `a device named \`${newName}\` already exists`);
  }
  // A name that no device has but statements refer to (an unknown reference): renaming to it would bind them to this device.
  if (newName !== name.name && deviceRefs(a, newName).length > 0) {
    throw new ResponseError(ErrorCodes.InvalidParams, `\`${newName}\` is already named by statements that refer to no device (unknown references); renaming to it would make them refer to this device`);
  }
  const spans: Span[] = [];
  for (const d of a.file.devices) if (d.name?.value === name.name) spans.push(d.name.span);
  spans.push(...deviceRefs(a, name.name));
  const edits: TextEdit[] = spans.map((sp) => ({ range: toRange(s.index, sp), newText: newName }));
  return { changes: { [s.uri]: edits } };
}
