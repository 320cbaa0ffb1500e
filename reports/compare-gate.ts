/** The gate's verdict as text (stdout, CI logs) and markdown ($GITHUB_STEP_SUMMARY). */
import type { GateFinding, GateReport } from '../harness/gate/gate.js';
import { formatDeltaOrNa, formatP, markdownTable, textTable } from './compare-format.js';
import { COMPARISON_HEADER, comparisonNotes, comparisonPreamble, comparisonRows } from './compare-table.js';

function headline(report: GateReport): string {
  const rule = `more than ${report.thresholdPct}% slower at p < ${report.alpha}${report.normalized ? ' after calibration normalisation' : ''}`;
  const scope = `${report.gatedCount} cell(s) gated${report.notGated.length > 0 ? `, ${report.notGated.length} not gated` : ''}`;
  const count = (outcome: GateFinding['outcome']) =>
    report.findings.filter((finding) => finding.outcome === outcome).length;
  if (report.verdict === 'regression') {
    const confirmed = report.confirmRan ? ', confirmed by a re-run' : '';
    return `FAIL: ${report.regressions.length} cell(s) regressed (${rule}, or failing where the baseline ran${confirmed}); ${scope}.`;
  }
  if (report.verdict === 'inconclusive') {
    const seen = count('inconclusive') > 0 ? `${count('inconclusive')} cell(s) looked ${rule} on a busy machine; ` : '';
    return (
      `INCONCLUSIVE (exit 0): the machine was busy (same CPU as the baseline, calibration outside ±${report.calibrationTolerancePct}% ` +
      `of the baseline's), so this run can neither clear nor fail the code; ${seen}${scope}.`
    );
  }
  const dismissed = count('dismissed') > 0 ? `; ${count('dismissed')} candidate(s) did not hold on the re-run` : '';
  return `PASS: ${scope}; none ${rule}${dismissed}.`;
}

function describeFinding(finding: GateFinding): string {
  const first =
    finding.kind === 'failed'
      ? `failed: ${finding.error}`
      : `${formatDeltaOrNa(finding.deltaPct)} (${pEquals(finding.p ?? 1)})`;
  const confirmation = finding.confirmation;
  if (!confirmation) return `${finding.label}: ${first}`;
  const measured = `${formatDeltaOrNa(confirmation.deltaPct)} (${pEquals(confirmation.p ?? 1)})`;
  const second =
    confirmation.note === null
      ? measured
      : confirmation.deltaPct === null
        ? confirmation.note
        : `${measured}, ${confirmation.note}`;
  return `${finding.label}: ${first}; re-run ${second}`;
}

export function renderGateText(report: GateReport): string {
  const lines = [`maplab gate: ${headline(report)}`];
  if (report.regressions.length > 0)
    lines.push('regressions:', ...report.regressions.map((finding) => `  ${describeFinding(finding)}`));
  const dismissed = report.findings.filter((finding) => finding.outcome === 'dismissed');
  if (dismissed.length > 0)
    lines.push(
      'not confirmed by the re-run (run-to-run noise):',
      ...dismissed.map((finding) => `  ${describeFinding(finding)}`),
    );
  const inconclusive = report.findings.filter((finding) => finding.outcome === 'inconclusive');
  if (inconclusive.length > 0) {
    lines.push(
      'inconclusive (measured on a busy machine):',
      ...inconclusive.map((finding) => `  ${describeFinding(finding)}`),
    );
  }
  if (report.notGated.length > 0)
    lines.push('not gated:', ...report.notGated.map((cell) => `  ${cell.label}: ${cell.reason}`));
  lines.push(
    '',
    ...comparisonPreamble(report.comparison),
    '',
    textTable([COMPARISON_HEADER, ...comparisonRows(report.comparison)]),
  );
  const notes = [
    ...comparisonNotes({ ...report.comparison, warnings: [] }),
    ...report.warnings.map((warning) => `warning: ${warning}`),
  ];
  if (notes.length > 0) lines.push('', ...notes);
  return lines.join('\n') + '\n';
}

export function renderGateMarkdown(report: GateReport): string {
  const icon = { pass: '✅', regression: '❌', inconclusive: '⚠️' }[report.verdict];
  const lines = [`## maplab gate: ${icon} ${headline(report)}`, ''];
  if (report.findings.length > 0) {
    lines.push(
      markdownTable(
        ['cell', 'first run', 'p', 're-run', 're-run p', 'fails the gate'],
        report.findings.map((finding) => [
          finding.label,
          finding.kind === 'failed' ? `failed: ${finding.error}` : formatDeltaOrNa(finding.deltaPct),
          finding.p === null ? '' : formatP(finding.p),
          finding.confirmation
            ? [
                finding.confirmation.deltaPct === null ? null : formatDeltaOrNa(finding.confirmation.deltaPct),
                finding.confirmation.note,
              ]
                .filter((part) => part !== null)
                .join('; ')
            : 'not re-run',
          finding.confirmation?.p == null ? '' : formatP(finding.confirmation.p),
          { regressed: '**yes**', dismissed: 'no (noise)', inconclusive: 'no (busy machine)' }[finding.outcome],
        ]),
      ),
      '',
    );
  }
  if (report.notGated.length > 0)
    lines.push(...report.notGated.map((cell) => `- not gated: ${cell.label}: ${cell.reason}`), '');
  const rows = comparisonRows(report.comparison);
  const summary = rows.pop() as string[];
  summary[0] = `**${summary[0]}**`;
  lines.push(
    '<details><summary>All cells</summary>',
    '',
    ...comparisonPreamble(report.comparison).map((line) => `- ${line}`),
    '',
    markdownTable(COMPARISON_HEADER, [...rows, summary]),
    '',
    '</details>',
  );
  const notes = [
    ...comparisonNotes({ ...report.comparison, warnings: [] }),
    ...report.warnings.map((warning) => `warning: ${warning}`),
  ];
  if (notes.length > 0) lines.push('', ...notes.map((note) => `- ${note}`));
  return lines.join('\n') + '\n';
}

/** 'p=0.008', or 'p<0.001' below that. */
function pEquals(p: number): string {
  const text = formatP(p);
  return text.startsWith('<') ? `p${text}` : `p=${text}`;
}
