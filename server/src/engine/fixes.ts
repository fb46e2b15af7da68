// Quick fixes (spec section 5), computed as text edits and verified by
// re-analysing the edited text. (Being written.)

import { Analysis } from './analyze';
import { Diagnostic, Fix } from './types';

export function computeFixes(_a: Analysis, _d: Diagnostic): Fix[] {
  return [];
}
