// `genrm data inspect FILE` and `genrm data convert FILE --out OUT.jsonl`: read the field's
// preference formats (src/data/formats/) and write genrm's PreferencePair JSONL. Bad records are
// skipped and counted by reason with their lines (inspect always; convert unless --strict).
import { stat } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { ProgressBar } from '../util/progress.js';
import { FormatError } from '../data/formats/errors.js';
import { parseLabelValues } from '../data/formats/generic.js';
import { type LoadOptions, type LoadReport, type TiePolicy, flaggedSummary, invalidSummary, openPairs } from '../data/formats/load.js';
import { FORMAT_NAMES } from '../data/formats/registry.js';
import { JsonlSink } from '../data/jsonl.js';
import { CONTAINERS, type Container } from '../data/formats/source.js';
import { type LengthStats, StatsCollector } from '../data/formats/stats.js';
import { CliError } from './errors.js';

export interface CommonOpts {
  format?: string;
  container?: string;
  strict?: boolean;
  ties?: string;
  maxPromptChars?: string;
  promptField?: string;
  chosenField?: string;
  rejectedField?: string;
  labelField?: string;
  labelValues?: string;
  idField?: string;
  categoryField?: string;
  subsetField?: string;
  json?: boolean;
}

function addCommon(c: Command, o: { strict: boolean }): Command {
  c.option('--format <name>', `input format: ${FORMAT_NAMES.join(' | ')} (default: detected from the first records)`).option(
    '--container <kind>',
    `${CONTAINERS.join(' | ')} (default: from the extension, else the first characters)`,
  );
  if (o.strict)
    c.option('--strict', 'refuse the file at its first bad record (default: skip bad records, count them by reason and say where)');
  // Skipping is the default now; the old flag is still accepted so scripts keep working.
  c.addOption(new Option('--skip-invalid').hideHelp());
  return c
    .option(
      '--ties <policy>',
      'keep | skip: ties kept with tie: true (eval leaves them out of accuracy and counts them) or dropped',
      'keep',
    )
    .option('--max-prompt-chars <n>', 'prompts longer than this are invalid', '100000')
    .option('--prompt-field <path>', 'generic mapping: the prompt field (text or chat messages)')
    .option('--chosen-field <path>', 'generic mapping: the chosen answer (with --label-field: the first answer)')
    .option('--rejected-field <path>', 'generic mapping: the rejected answer (with --label-field: the second answer)')
    .option('--label-field <path>', 'generic mapping: which answer is better, valued by --label-values')
    .option(
      '--label-values <a,b[,tie]>',
      'label values meaning first, second[, tie] (default: 1,2 or A,B[,tie] when the file holds only those; otherwise required)',
    )
    .option('--id-field <path>', 'generic mapping: the record id (default "id", else file:line)')
    .option('--category-field <path>', 'generic mapping: category')
    .option('--subset-field <path>', 'generic mapping: subset')
    .option('--json', 'print the report as JSON');
}

/** The loader's options from the shared flags; `strict` false skips and counts bad records. */
export function loadOptions(o: CommonOpts, strict: boolean): LoadOptions {
  if (o.ties !== 'keep' && o.ties !== 'skip') throw new CliError(`--ties: expected keep or skip, got "${o.ties}"`);
  const max = Number(o.maxPromptChars);
  if (!Number.isInteger(max) || max <= 0) throw new CliError(`--max-prompt-chars: expected a positive integer, got "${o.maxPromptChars}"`);
  if (o.container !== undefined && !(CONTAINERS as readonly string[]).includes(o.container))
    throw new CliError(`--container: expected ${CONTAINERS.join(' | ')}, got "${o.container}"`);
  if (o.format !== undefined && !(FORMAT_NAMES as readonly string[]).includes(o.format))
    throw new CliError(`--format: expected ${FORMAT_NAMES.join(' | ')}, got "${o.format}"`);
  let labelValues;
  labelValues = o.labelValues === undefined ? undefined : parseLabelValues(o.labelValues);
  return {
    ...(o.format !== undefined && { format: o.format }),
    ...(o.container !== undefined && { container: o.container as Container }),
    skipInvalid: !strict,
    ties: o.ties as TiePolicy,
    maxPromptChars: max,
    fields: {
      ...(o.promptField !== undefined && { prompt: o.promptField }),
      ...(o.chosenField !== undefined && { chosen: o.chosenField }),
      ...(o.rejectedField !== undefined && { rejected: o.rejectedField }),
      ...(o.labelField !== undefined && { label: o.labelField }),
      ...(labelValues !== undefined && { labelValues }),
      ...(o.idField !== undefined && { id: o.idField }),
      ...(o.categoryField !== undefined && { category: o.categoryField }),
      ...(o.subsetField !== undefined && { subset: o.subsetField }),
    },
  };
}

/** Reading errors as one-line CLI errors (file:line: what, what to do); anything else is a bug and keeps its stack. */
export function loadErrorToCli(e: unknown): never {
  if (e instanceof FormatError)
    throw new CliError(
      `${e.message} (--strict refuses the file at its first bad record; without it such records are skipped and counted)`,
      'bad_input',
    );
  throw e;
}

async function guard<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    return loadErrorToCli(e);
  }
}

/** What was skipped and flagged, a line each, with the first few line numbers and messages. */
export function reportLines(r: LoadReport): string[] {
  const out: string[] = [];
  if (r.skippedTies > 0) out.push(`ties skipped (--ties skip): ${r.skippedTies}`);
  if (r.invalidTotal > 0) {
    out.push(`invalid records skipped: ${r.invalidTotal} of ${r.records} (${invalidSummary(r)})`);
    for (const [reason, ex] of Object.entries(r.examples)) for (const m of ex) out.push(`  ${reason}: ${m}`);
  }
  const flagged = flaggedSummary(r);
  if (flagged) out.push(`answers kept but flagged (meta.flags): ${flagged}`);
  return out;
}

const fmtLen = (s: LengthStats): string => `min ${s.min}  median ${s.median}  p95 ${s.p95}  max ${s.max}`;
const clip = (s: string, n = 200): string => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

export function registerData(program: Command): void {
  const data = program.command('data').description("preference data in the field's formats: inspect, convert to PreferencePair JSONL");

  addCommon(data.command('inspect').argument('<file>', 'JSONL, JSON (array, object of lists) or CSV/TSV (optionally .gz)'), {
    strict: false,
  })
    .description(
      'detected format, records read, pairs, ties, invalid records by reason and line, length statistics, duplicates, an example; never stops at a bad record',
    )
    .action(async (file: string, o: CommonOpts) =>
      guard(async () => {
        const opened = await openPairs(file, loadOptions(o, false));
        const stats = new StatsCollector();
        for await (const { pair } of opened.pairs) stats.add(pair);
        const s = stats.result();
        const r = opened.report;
        if (o.json) {
          console.log(JSON.stringify({ ...r, stats: s }, null, 2));
          return;
        }
        console.log(`${file}: format ${r.format} (${opened.format.describe}), container ${r.container}`);
        console.log(`records ${r.records}  pairs ${r.pairs}  ties ${r.ties}  invalid ${r.invalidTotal}`);
        console.log(`length (chars) prompt    ${fmtLen(s.lengths.prompt)}`);
        console.log(`               chosen    ${fmtLen(s.lengths.chosen)}`);
        console.log(`               rejected  ${fmtLen(s.lengths.rejected)}`);
        console.log(`duplicates: ${s.duplicatePairs} exact pairs, ${s.duplicatePrompts} repeated prompts`);
        for (const l of reportLines(r)) console.log(l);
        if (s.example) {
          const e = s.example;
          console.log(`example (${e.id}):`);
          console.log(`  prompt:   ${clip(typeof e.prompt === 'string' ? e.prompt : JSON.stringify(e.prompt))}`);
          console.log(`  chosen:   ${clip(e.chosen)}`);
          console.log(`  rejected: ${clip(e.rejected)}${e.tie ? '  (tie)' : ''}`);
        }
      }),
    );

  addCommon(data.command('convert').argument('<file>', 'JSONL, JSON (array, object of lists) or CSV/TSV (optionally .gz)'), {
    strict: true,
  })
    .description('write PreferencePair JSONL (atomically), streaming files of any size; bad records are skipped and counted')
    .requiredOption('--out <file>', 'output .jsonl (written to a temp file, renamed when complete)')
    .action(async (file: string, o: CommonOpts & { out: string }) =>
      guard(async () => {
        const progress = { bytes: 0 };
        const size = (await stat(file)).size;
        const opened = await openPairs(file, { ...loadOptions(o, o.strict === true), progress });
        // A bar only where a person watches and the file is big enough to wait for.
        const bar = new ProgressBar('convert [{bar}] {percentage}% {value}/{total} MB | {pairs} pairs', {
          enabled: !o.json && size > 8 << 20,
        });
        bar.start(Math.ceil(size / 1e6), 0, { pairs: 0 });
        const sink = await JsonlSink.open(o.out);
        const t0 = performance.now();
        try {
          for await (const { pair } of opened.pairs) {
            await sink.write(pair);
            if (sink.records % 4096 === 0) bar.update(Math.floor(progress.bytes / 1e6), { pairs: sink.records });
          }
        } catch (e) {
          bar.stop();
          await sink.abort();
          throw e;
        }
        await sink.close();
        bar.update(Math.ceil(size / 1e6), { pairs: sink.records });
        bar.stop();
        const r = opened.report;
        const seconds = (performance.now() - t0) / 1000;
        if (o.json) {
          console.log(JSON.stringify({ ...r, out: o.out, written: sink.records, seconds }, null, 2));
          return;
        }
        console.log(
          `${file} (${r.format}) -> ${o.out}: ${sink.records} pairs (${r.ties} ties) from ${r.records} records in ${seconds.toFixed(1)} s`,
        );
        for (const l of reportLines(r)) console.log(l);
      }),
    );
}
