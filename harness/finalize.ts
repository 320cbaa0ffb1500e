/**
 * The one place a sweep's results are completed before their last write.
 *
 * `maplab sweep` (a finished or resumed sweep) and `maplab run --out` call
 * `finalizeResults` exactly once, after the last cell and before the final
 * write; nothing after it changes the document. The knee analysis plugs in
 * here:
 *
 *     finished.analysis = analyzeResults(finished);
 *
 * (harness/analysis; it reads only the results document, so it can be re-run
 * on any file later by `maplab analyze`).
 */
import type { Results } from './results.js';

export function finalizeResults(results: Results): Results {
  const finished: Results = { ...results, analysis: { ...results.analysis, knees: results.analysis?.knees ?? [] } };
  delete finished.incomplete;
  delete finished.interrupted;
  return finished;
}
