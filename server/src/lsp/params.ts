// Checks the parameters of a request before its handler runs: a client that
// sends a hover without a position, or a code action with `context: null`, is
// answered with an InvalidParams error that says what is missing, not with a
// handler's TypeError (logged as a failure) and an empty result.

type Field = 'textDocument' | 'position' | 'range' | 'context' | 'newName' | 'uri';

/** The fields each request needs, by the name its handler is registered under (see server.ts). */
const NEEDS: Record<string, readonly Field[]> = {
  diagnostic: ['textDocument'],
  codeAction: ['textDocument', 'range', 'context'],
  hover: ['textDocument', 'position'],
  completion: ['textDocument', 'position'],
  definition: ['textDocument', 'position'],
  references: ['textDocument', 'position'],
  prepareRename: ['textDocument', 'position'],
  rename: ['textDocument', 'position', 'newName'],
  inlayHint: ['textDocument', 'range'],
  documentSymbol: ['textDocument'],
  foldingRange: ['textDocument'],
  semanticTokens: ['textDocument'],
  'semanticTokens/delta': ['textDocument'],
  'semanticTokens/range': ['textDocument', 'range'],
  formatting: ['textDocument'],
  rangeFormatting: ['textDocument', 'range'],
  codeLens: ['textDocument'],
  'bartopo/pageMap': ['uri'],
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isPosition = (v: unknown): boolean => isObject(v) && isCount(v.line) && isCount(v.character);
/** Whether `v` is an LSP range: two positions of whole, non-negative numbers. */
export const isRange = (v: unknown): v is { start: { line: number; character: number }; end: { line: number; character: number } } => isObject(v) && isPosition(v.start) && isPosition(v.end);

const CHECKS: Record<Field, [(v: unknown) => boolean, string]> = {
  textDocument: [(v) => isObject(v) && typeof v.uri === 'string', '`textDocument` with a string `uri`'],
  uri: [(v) => typeof v === 'string', 'a string `uri`'],
  position: [isPosition, 'a `position` with whole, non-negative `line` and `character`'],
  range: [isRange, 'a `range` whose `start` and `end` are positions'],
  context: [(v) => isObject(v) && Array.isArray(v.diagnostics), 'a `context` with a `diagnostics` array'],
  newName: [(v) => typeof v === 'string', 'a string `newName`'],
};

/** What is wrong with the parameters of request `name` (undefined: nothing this check knows of). */
export function paramsProblem(name: string, params: unknown): string | undefined {
  const needs = NEEDS[name];
  if (!needs) return undefined;
  if (!isObject(params)) return `${name}: the parameters must be an object`;
  for (const f of needs) {
    const [ok, what] = CHECKS[f];
    if (!ok(params[f])) return `${name}: expected ${what}`;
  }
  return undefined;
}
