// Public surface of the engine, shared by the CLI, the language server and the tests.
export { analyze, barReports } from './analyze';
export type { Analysis } from './analyze';
export { computeFixes, guestRefactors, fixAll, applyEdits, prepareFixes } from './fixes';
export type { FixAllResult } from './fixes';
export { changedRegion } from './incremental';
export { LineIndex, lineBreakOf } from './lineIndex';
export * from './types';
export { formatSize, hex, parseSize, sizeLiteral } from './values';
