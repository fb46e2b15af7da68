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
  /** Whether only the statements the last edit touched were parsed again (the rest reused from the previous version). */
  incremental: boolean;
  /**
   * Whether the client already holds this version's diagnostics: they are
   * exactly those last sent for the document (e.g. after a keystroke in a
   * comment or a label), so they are not sent again (push) or the pull is
   * answered `unchanged`. Compared with what was sent, not with the version
   * analysed before (a hover may have had a version analysed that was never
   * published): when false, a publish of this version follows (push), unless a
   * newer version overtakes it.
   */
  diagnosticsUnchanged: boolean;
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
  target?: { device?: string; bar?: number; vf?: boolean; guest?: string; region?: string };
  subject?: string;
  /**
   * Document version the diagnostic was made for. The server publishes it again,
   * unchanged, in later versions where it still says the same at the same range.
   */
  version: number;
}

/** Client → server request: the page map of an open document, as SVG. */
export const PageMapRequest = 'bartopo/pageMap';

export interface PageMapParams {
  uri: string;
}

/** `null` when the server does not have the document open. */
export interface PageMapResult {
  /**
   * The picture (`bartopo map --svg`): each item is a `<rect class="item …">`
   * with `data-id`, `data-start` and `data-end`, the UTF-16 offsets of the
   * statement to reveal when it is clicked.
   */
  svg: string;
  /** Host pages drawn. */
  pages: number;
  /** True when the file has more pages to show than the map draws (`PAGE_MAP_MAX_PAGES`). */
  truncated: boolean;
  /** Host page size the map was drawn for, e.g. `64K`. */
  pageSize: string;
  /** Document version the map was drawn from (offsets refer to it). */
  version: number;
}

/** Most host pages a page map draws. */
export const PAGE_MAP_MAX_PAGES = 400;
/** Most resources (BARs, tables, regions) the editor's page map draws: a page where thousands of BARs overlap stays a drawing of a few MB. */
export const PAGE_MAP_MAX_ITEMS = 5000;

/** A remark of an importer about its input: 1-based line of the input, 0 when no line applies. */
export interface ImportWarningItem {
  line: number;
  message: string;
}

/** What both import requests answer. */
export interface ImportResponse {
  /** The generated `.bartopo` text. */
  text: string;
  warnings: ImportWarningItem[];
  /** `device` blocks written. */
  devices: number;
  /** Device `bar` statements written. */
  bars: number;
}

/**
 * Client → server request: turn `lspci -vvv` output into a topology (`bartopo
 * import lspci`). `pageSize` (`4K`, `16K`, `64K`, any power of two of at
 * least 4K) overrides what the dump suggests; absent, the SR-IOV System Page
 * Size when lspci printed it, else 4K.
 */
export const ImportLspciRequest = 'bartopo/importLspci';

export interface ImportLspciParams {
  text: string;
  pageSize?: string;
  /** Named in the header comment, e.g. the file name. */
  sourceName?: string;
}

/**
 * Client → server request: read the PCI devices of the machine the server
 * runs on from sysfs (`bartopo import sysfs`). `root` (default `/`) holds
 * `sys/bus/pci/devices`; when it is `/` and no `pageSize` is given, the page
 * size comes from `getconf PAGESIZE`, else 4K.
 */
export const ImportSysfsRequest = 'bartopo/importSysfs';

export interface ImportSysfsParams {
  root?: string;
  pageSize?: string;
}
