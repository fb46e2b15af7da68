// Where tests find the repository and the read-only `../shared` folder.
import * as path from 'path';

/** Repository root (tests run compiled from out/test/). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** `../shared` beside the repository, or $BARTOPO_SHARED. Read-only: never write there. */
export const SHARED_DIR = process.env.BARTOPO_SHARED ?? path.resolve(REPO_ROOT, '..', 'shared');
export const EXAMPLES_DIR = path.join(REPO_ROOT, 'examples');
export const FIXTURES_DIR = path.join(REPO_ROOT, 'test', 'fixtures');
