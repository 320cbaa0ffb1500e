/**
 * A text summary of the CPU profiles a `--profile <dir>` run wrote
 * (profiler.ts): per (map, threads), the functions with the most *self*
 * samples — samples in which the function itself was on top of the stack, not
 * a function it called — summed over the cell's trials and workers, as a share
 * of all samples. Functions are told apart by name and source position;
 * positions in maplab's compiled JavaScript are mapped back to the TypeScript
 * line through the `.js.map` next to the file, when there is one.
 *
 * V8 counts a sample inside a function that the optimiser inlined as its
 * caller's (measured on Node 20): the harness's `applyOp` holds every map
 * method it inlined. A map function listed under its own name was *called*:
 * not inlined (too big, or a polymorphic call site) — itself a finding.
 * `(garbage collector)` and `(program)` (V8 itself, outside any JS function)
 * are listed like functions.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapping } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profilePath, profileStem } from './profiler.js';

/** The parts of a V8 .cpuprofile this summary reads. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    hitCount?: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }>;
}

export interface FunctionShare {
  functionName: string;
  /** `maps/rwmutex.ts:104`, or the compiled file's position when no source map is found; '' for V8's own entries. */
  location: string;
  samples: number;
  /** samples ÷ all samples of the group, 0..1. */
  share: number;
}

export interface ProfileGroup {
  map: string;
  threads: number;
  profiles: number;
  samples: number;
  top: FunctionShare[];
  /** Self samples by source file, largest first, as shares 0..1. */
  byFile: Array<{ file: string; share: number }>;
}

interface ProfiledCell {
  map: string;
  workload: string;
  threads: number;
  loadFactor: number;
}

/** Functions listed per group. */
export const TOP_FUNCTIONS = 12;

/**
 * Reads the profiles the planned `cells` × `trials` wrote into `dir` (files
 * of earlier runs with other names are ignored) and summarises them per
 * (map, threads), in plan order.
 */
export function summariseProfiles(
  dir: string,
  cells: readonly ProfiledCell[],
  trials: number,
  top = TOP_FUNCTIONS,
): ProfileGroup[] {
  const groups = new Map<
    string,
    { map: string; threads: number; profiles: number; selfSamples: Map<string, number> }
  >();
  const locations = new SourceLocator();
  for (const cell of cells) {
    const key = `${cell.map}\u0000${cell.threads}`;
    let group = groups.get(key);
    if (!group) {
      group = { map: cell.map, threads: cell.threads, profiles: 0, selfSamples: new Map() };
      groups.set(key, group);
    }
    for (let trial = 0; trial < trials; trial++) {
      for (let worker = 0; worker < cell.threads; worker++) {
        const path = profilePath({ dir, stem: profileStem(cell, trial) }, worker);
        if (!existsSync(path)) continue;
        addSelfSamples(JSON.parse(readFileSync(path, 'utf8')) as CpuProfile, group.selfSamples, locations);
        group.profiles++;
      }
    }
  }
  return [...groups.values()].filter((group) => group.profiles > 0).map((group) => rank(group, top));
}

function addSelfSamples(profile: CpuProfile, into: Map<string, number>, locations: SourceLocator): void {
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber, columnNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'}\u0000${locations.locate(url, lineNumber, columnNumber)}`;
    into.set(key, (into.get(key) ?? 0) + hits);
  }
}

function rank(
  group: { map: string; threads: number; profiles: number; selfSamples: Map<string, number> },
  top: number,
): ProfileGroup {
  let samples = 0;
  const byFile = new Map<string, number>();
  const functions: FunctionShare[] = [];
  for (const [key, count] of group.selfSamples) {
    const [functionName, location] = key.split('\u0000');
    samples += count;
    const file = location === '' ? functionName : location.replace(/:\d+$/, '');
    byFile.set(file, (byFile.get(file) ?? 0) + count);
    functions.push({ functionName, location, samples: count, share: 0 });
  }
  for (const entry of functions) entry.share = entry.samples / samples;
  functions.sort((a, b) => b.samples - a.samples);
  return {
    map: group.map,
    threads: group.threads,
    profiles: group.profiles,
    samples,
    top: functions.slice(0, top),
    byFile: [...byFile].sort((a, b) => b[1] - a[1]).map(([file, count]) => ({ file, share: count / samples })),
  };
}

/** Turns a profile's (url, 0-based line, column) into `file:line`, through source maps when present. */
class SourceLocator {
  private readonly maps = new Map<string, SourceMap | null>();

  locate(url: string, lineNumber: number, columnNumber: number): string {
    if (url === '') return '';
    if (!url.startsWith('file:')) return lineNumber >= 0 ? `${url}:${lineNumber + 1}` : url;
    const path = fileURLToPath(url);
    const sourceMap = this.sourceMapOf(path);
    const found = sourceMap && lineNumber >= 0 ? sourceMap.findEntry(lineNumber, Math.max(0, columnNumber)) : {};
    const entry = found as Partial<SourceMapping>;
    if (typeof entry.originalSource === 'string' && typeof entry.originalLine === 'number') {
      const source = entry.originalSource.startsWith('file:')
        ? fileURLToPath(entry.originalSource)
        : entry.originalSource;
      return `${relative(process.cwd(), source)}:${entry.originalLine + 1}`;
    }
    return `${relative(process.cwd(), path)}${lineNumber >= 0 ? `:${lineNumber + 1}` : ''}`;
  }

  private sourceMapOf(path: string): SourceMap | null {
    let sourceMap = this.maps.get(path);
    if (sourceMap === undefined) {
      sourceMap = null;
      try {
        const payload = JSON.parse(readFileSync(`${path}.map`, 'utf8'));
        // `sources` are relative to the map's directory: resolve them so originalSource is a full path.
        payload.sources = (payload.sources as string[]).map((source) => new URL(source, `file://${path}`).href);
        sourceMap = new SourceMap(payload);
      } catch {
        sourceMap = null;
      }
      this.maps.set(path, sourceMap);
    }
    return sourceMap;
  }
}

/** The summary as text: one block per (map, threads). */
export function formatProfileSummary(dir: string, groups: readonly ProfileGroup[]): string {
  if (groups.length === 0) return `CPU profiles: none written in ${dir}`;
  const lines = [
    `CPU profiles of the measured windows in ${dir} — self time per function (samples on top of the stack)`,
  ];
  for (const group of groups) {
    lines.push(
      '',
      `${group.map}, ${group.threads} thread${group.threads === 1 ? '' : 's'}: ${group.profiles} profiles, ${group.samples} samples`,
    );
    const width = Math.max(8, ...group.top.map((entry) => entry.functionName.length));
    for (const entry of group.top) {
      lines.push(
        `  ${(entry.share * 100).toFixed(1).padStart(5)}%  ${entry.functionName.padEnd(width)}  ${entry.location}`,
      );
    }
    const files = group.byFile.slice(0, 5).map(({ file, share }) => `${file} ${(share * 100).toFixed(0)}%`);
    lines.push(`  by file: ${files.join(' · ')}`);
  }
  return lines.join('\n');
}
