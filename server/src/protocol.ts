// Custom protocol shared by the bartopo server and its VS Code client. Kept
// free of imports so that both sides (and other editors' plugins) can copy it.

/** Server → client notification after each analysis of an open document. */
export const StatusNotification = 'bartopo/status';

export interface StatusParams {
  uri: string;
  version: number;
  /** Host page size in force, e.g. `64K`. */
  pageSize: string;
  /** Where it comes from: the default (4K), the file's `page-size`, or the `bartopo.pageSize` setting. */
  pageSizeSource: 'default' | 'host' | 'override';
  errors: number;
  warnings: number;
  infos: number;
  /** Diagnostics left out because of `bartopo.maxDiagnostics`. */
  omitted: number;
  /** Time the analysis took, in milliseconds. */
  analysisMs: number;
}

/** Server → client notification when a document's results were cut short (`maxDiagnostics`, `maxItemsComputed`). */
export const ResultLimitReachedNotification = 'bartopo/resultLimitReached';

export interface ResultLimitReachedParams {
  uri: string;
  /** `diagnostics`, `symbols`, `folding` or `semanticTokens`. */
  what: string;
  limit: number;
}

/** Base of the rule documentation links (`codeDescription.href`): append `#RULE`. */
export const RULES_DOC_URL = 'https://github.com/bartopo/bartopo/blob/main/docs/rules.md';

/** Code of the info diagnostic that says how many diagnostics were left out. */
export const OMITTED_CODE = 'too-many-diagnostics';

/** Name a client passes to `workspace/configuration` and the settings section. */
export const SETTINGS_SECTION = 'bartopo';

/** The `source` of every diagnostic and the suffix of `source.fixAll.bartopo`. */
export const SOURCE = 'bartopo';

/** `data` of every published diagnostic: enough for a quick fix without re-analysing. */
export interface DiagnosticData {
  rule: string;
  target?: { device?: string; bar?: number; guest?: string; region?: string };
  subject?: string;
  /** Document version the diagnostic was computed for. */
  version: number;
}
