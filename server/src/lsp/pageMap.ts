// `bartopo/pageMap`: the page map of a document (the pages that hold more
// than one resource or a sub-page BAR) as the SVG `bartopo map --svg` draws,
// from the document's cached analysis. Computed once per analysis.

import { formatSize } from '../engine/values';
import { buildPageMap } from '../pagemap/model';
import { renderSvg } from '../pagemap/render';
import { PAGE_MAP_MAX_ITEMS, PAGE_MAP_MAX_PAGES, PageMapResult } from '../protocol';
import { DocState } from './documents';

const cache = new WeakMap<DocState, PageMapResult>();

/** File name of a URI for the map's title (`Untitled-1` for untitled documents). */
export function titleOf(uri: string): string {
  const path = uri.replace(/[?#].*$/, '');
  const name = path.slice(path.lastIndexOf('/') + 1) || path;
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}

export function getPageMap(s: DocState, maxPages = PAGE_MAP_MAX_PAGES): PageMapResult {
  const hit = cache.get(s);
  if (hit) return hit;
  // One page more than drawn tells whether the map was cut short.
  const map = buildPageMap(s.analysis, { maxPages: maxPages + 1, maxItems: PAGE_MAP_MAX_ITEMS });
  const morePages = map.pages.length > maxPages;
  if (morePages) map.pages.length = maxPages;
  const truncated = morePages || !!map.itemsCut;
  const title = `${titleOf(s.uri)}${map.itemsCut ? ` — first ${PAGE_MAP_MAX_ITEMS} resources` : morePages ? ` — first ${maxPages} pages` : ''}`;
  const r: PageMapResult = {
    svg: renderSvg(map, { title }),
    pages: map.pages.length,
    truncated,
    pageSize: formatSize(map.pageSize),
    version: s.version,
  };
  cache.set(s, r);
  return r;
}
