// Typed syntax tree of a .bartopo file. Every node keeps its generic statement
// (for edits) and spans (for diagnostics, hover, rename). Fields that failed to
// parse are undefined; the statement is still kept so references to it resolve.

import { Stmt } from './tree';
import { Span } from './types';

export interface Val<T> {
  value: T;
  span: Span;
}

/** A parsed value that is its own span: one object per value instead of two. */
class SpannedValue<T> implements Val<T>, Span {
  constructor(
    readonly value: T,
    /** Mutable only for incremental re-parsing, which moves reused nodes after an edit. */
    public start: number,
    public end: number,
  ) {}
  get span(): Span {
    return this;
  }
}

export function val<T>(value: T, span: Span): Val<T> {
  return new SpannedValue(value, span.start, span.end);
}

/** A value read from `text[start, end)`. */
export function valAt<T>(value: T, start: number, end: number): Val<T> {
  return new SpannedValue(value, start, end);
}

export type BarKind = 'mem32' | 'mem64' | 'io';
export type Policy = 'listed' | 'size-descending' | 'page-match';
export type MsixMode = 'emulate' | 'paravirt' | 'relocate';

export interface PciAddress {
  domain: number;
  bus: number;
  device: number;
  fn: number;
}

export interface HostWindowNode {
  name?: Val<string>;
  address?: Val<bigint>;
  size?: Val<bigint>;
  prefetch: boolean;
  stmt: Stmt;
}

export interface HostNode {
  keyword: Span;
  name?: Val<string>;
  pageSize?: Val<bigint>;
  arch?: Val<string>;
  msixMappable?: Val<boolean>;
  windows: HostWindowNode[];
  stmt: Stmt;
}

export interface BarNode {
  /** The statement had a syntax error after its index (its other fields may be missing). */
  incomplete?: boolean;
  index?: Val<number>;
  /** A plain value: no message points at the kind word, so it keeps no span (one object less per BAR). */
  kind?: BarKind;
  prefetch: boolean;
  size?: Val<bigint>;
  address?: Val<bigint>;
  stmt: Stmt;
}

export interface MsixNode {
  entries?: Val<bigint>;
  tableBar?: Val<number>;
  tableOffset?: Val<bigint>;
  pbaBar?: Val<number>;
  pbaOffset?: Val<bigint>;
  stmt: Stmt;
}

export interface RegionNode {
  name?: Val<string>;
  bar?: Val<number>;
  offset?: Val<bigint>;
  size?: Val<bigint>;
  hot: boolean;
  stmt: Stmt;
}

export interface RomNode {
  size?: Val<bigint>;
  address?: Val<bigint>;
  stmt: Stmt;
}

export interface SriovNode {
  vfs?: Val<bigint>;
  bars: BarNode[];
  stmt: Stmt;
}

export interface DeviceNode {
  name?: Val<string>;
  pci?: Val<PciAddress>;
  group?: Val<bigint>;
  label?: Val<string>;
  id?: Val<string>;
  bars: BarNode[];
  msix: MsixNode[];
  regions: RegionNode[];
  roms: RomNode[];
  sriovs: SriovNode[];
  groups: Val<bigint>[];
  stmt: Stmt;
  /** model.ts's cache: the device model built from this node (a field, not a WeakMap: read for every device of every analysis). */
  model?: unknown;
}

export interface AssignBarNode {
  index?: Val<number>;
  address?: Val<bigint>;
  stmt: Stmt;
}

export interface AssignNode {
  device?: Val<string>;
  bars: AssignBarNode[];
  stmt: Stmt;
}

export interface GuestWindowNode {
  address?: Val<bigint>;
  size?: Val<bigint>;
  stmt: Stmt;
}

export interface GuestNode {
  name?: Val<string>;
  windows: GuestWindowNode[];
  allocates: Val<Policy>[];
  msixModes: Val<MsixMode>[];
  assigns: AssignNode[];
  stmt: Stmt;
}

export interface FileNode {
  hosts: HostNode[];
  devices: DeviceNode[];
  guests: GuestNode[];
  /** Single-valued statements seen more than once (reported as `duplicate`). */
  repeated: { span: Span; message: string }[];
}
