/**
 * The one place a sweep's results are completed before their last write.
 *
 * `maplab sweep` (a finished or resumed sweep) and `maplab run --out` call
 * `finalizeResults` exactly once, after the last cell and before the final
 * write; nothing after it changes the document. It runs the knee analysis
 * (harness/analysis reads only the results document, so `maplab analyze` can
 * re-run it on any file later).
 */
import { analyzeResults } from '../analysis/index.js';
import type { Results } from '../results/results.js';

export function finalizeResults(results: Results): Results {
  const finished: Results = { ...results };
  delete finished.incomplete;
  delete finished.interrupted;
  finished.analysis = analyzeResults(finished);
  return finished;
}
