/**
 * Runs `maplab sweep` as a child process for the gate: a fresh process per
 * measurement (the JIT state and heap of the gate itself stay out of the
 * numbers), restricted to the cells the gate needs, writing to a temp file
 * that is read back through the one results reader. The gate talks to the
 * sweep only through its command line and its results file, never its code.
 * The cells become --maps/--workloads/--threads/--load-factors (and --rates
 * when every cell is open-loop); the sweep runs their cross product, and
 * cells nobody asked for are dropped from what it returns.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../run/options.js';
import { readResultsFile, type Results } from '../results/results.js';
import { cellKeyOf, cellLabel, type CellKey } from './compare.js';
import { measuringNodeFlags } from '../run/jit.js';
import { BASE_SUFFIX, baseMapOf } from '../run/map-source.js';

export interface SweepRequest {
  /** The built CLI, dist/scripts/cli.js. */
  cliPath: string;
  preset: string;
  /** Cells to measure, in baseline names; the sweep runs their cross product and the rest is dropped. */
  cells: CellKey[];
  /** Plugin map module passed through to the sweep. */
  mapModule?: string;
  /** head map name → baseline map name; the sweep is asked for the head names. */
  mapAliases?: Readonly<Record<string, string>>;
  /** --node runtimes passed through to the sweep (cells then match the baseline's per runtime). */
  node?: string[];
  /** --against: the baseline code, swept beside the code under test; each cell's map also runs as <map>@base. */
  against?: string;
  timeoutMs: number;
}

/** The sweep exited non-zero for a reason other than bad arguments: the code under test failed to run. */
export class SweepFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SweepFailedError';
  }
}

/** Command-line arguments (after the node binary) for one restricted sweep. */
export function sweepArguments(request: SweepRequest, outPath: string): string[] {
  const baseToHead = new Map(
    Object.entries(request.mapAliases ?? {}).map(([headName, baseName]) => [baseName, headName]),
  );
  const distinct = <T>(values: T[]): string => [...new Set(values)].map(String).join(',');
  const headMaps = request.cells.map((cell) => baseToHead.get(cell.map) ?? cell.map);
  const maps = request.against
    ? request.cells.flatMap((cell, index) => [headMaps[index], cell.map + BASE_SUFFIX])
    : headMaps;
  const args = [
    request.cliPath,
    'sweep',
    '--preset',
    request.preset,
    '--out',
    outPath,
    '--quiet',
    '--maps',
    distinct(maps),
    '--workloads',
    distinct(request.cells.map((cell) => cell.workload)),
    '--threads',
    distinct(request.cells.map((cell) => cell.threads)),
    '--load-factors',
    distinct(request.cells.map((cell) => cell.loadFactor)),
  ];
  // Open-loop cells need --rates; a baseline mixing open- and closed-loop cells is re-measured closed-loop only.
  if (request.cells.every((cell) => cell.rate !== undefined))
    args.push('--rates', distinct(request.cells.map((cell) => cell.rate)));
  if (request.mapModule) args.push('--map-module', resolve(request.mapModule));
  if (request.node && request.node.length > 0) args.push('--node', request.node.join(','));
  // Pinned, so that a round's two copies of a cell run on the same vCPU (the round's fastest, harness/trial/affinity.ts):
  // the two vCPUs differ by up to 1.6× and a pair's ratio would carry that (EVIDENCE.md, "Which vCPU").
  if (request.against) args.push('--against', resolve(request.against), '--pin', 'true');
  return args;
}

/**
 * Runs the sweep and returns its results, restricted to the requested cells.
 * The child's stdout goes to our stderr, so the gate's own stdout stays the verdict.
 * Exit 2 from the sweep (bad arguments, unknown preset or map) is a UsageError here too.
 */
export async function runSweepProcess(request: SweepRequest): Promise<Results> {
  if (request.cells.length === 0) throw new RangeError('runSweepProcess needs at least one cell');
  const directory = mkdtempSync(join(tmpdir(), 'maplab-gate-'));
  const outPath = join(directory, 'current.json');
  try {
    const args = sweepArguments(request, outPath);
    const outcome = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolveOutcome, reject) => {
        const child = spawn(process.execPath, [...measuringNodeFlags(), ...args], {
          stdio: ['ignore', 2, 'inherit'],
          timeout: request.timeoutMs,
          killSignal: 'SIGTERM',
        });
        child.on('error', reject);
        child.on('exit', (code, signal) => resolveOutcome({ code, signal }));
      },
    );
    const command = `node ${args.join(' ')}`;
    if (outcome.code === 2) throw new UsageError(`the sweep rejected its arguments (exit 2): ${command}`);
    if (outcome.signal !== null) {
      throw new SweepFailedError(
        `the sweep was stopped by ${outcome.signal} (time limit ${request.timeoutMs / 1000} s): ${command}`,
      );
    }
    if (outcome.code !== 0) throw new SweepFailedError(`the sweep failed (exit ${outcome.code}): ${command}`);
    const results = readResultsFile(outPath);
    const aliases = request.mapAliases ?? {};
    const wanted = new Set(request.cells.map(cellLabel));
    return {
      ...results,
      cells: results.cells.filter((cell) =>
        wanted.has(cellLabel(cellKeyOf(cell, baseMapOf(cell.map) ?? aliases[cell.map] ?? cell.map))),
      ),
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
