/**
 * Number formats that the command line, the reports and the analysis
 * sentences share, one rule per kind of figure: a latency reads the same in a
 * `maplab run` summary, a comparison table, an HTML report and a finding.
 *
 * A leaf module (it imports nothing), so harness/ may use it too; reports/
 * itself imports nothing from harness/ but types.
 */

/** A duration given in ns, three significant digits: "850 ns", "1.23 µs", "12.3 ms", "1.5 s"; "—" for no figure. */
export function formatNs(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const [divisor, unit] =
    value >= 1e9 ? [1e9, 's'] : value >= 1e6 ? [1e6, 'ms'] : value >= 1e3 ? [1e3, 'µs'] : [1, 'ns'];
  return `${+(value / divisor).toPrecision(3)} ${unit}`;
}

/** Ops/s inside a sentence, three significant digits and no space: "12.8k", "950k", "1.2M", "12"; "—" for no figure. */
export function formatOpsInText(opsPerSec: number | null): string {
  if (opsPerSec === null) return '—';
  if (opsPerSec >= 1e6) return `${+(opsPerSec / 1e6).toPrecision(3)}M`;
  if (opsPerSec >= 1e3) return `${+(opsPerSec / 1e3).toPrecision(3)}k`;
  return `${+opsPerSec.toPrecision(3)}`;
}
