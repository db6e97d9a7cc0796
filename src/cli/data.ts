// `genrm data inspect FILE` and `genrm data convert FILE --out OUT.jsonl`: read the field's
// preference formats (src/data/formats/) and write genrm's PreferencePair JSONL.
import { stat } from 'node:fs/promises';
import { ProgressBar } from '../util/progress.js';
import type { Command } from 'commander';
import { FormatError } from '../data/formats/errors.js';
import { parseLabelValues } from '../data/formats/generic.js';
import { type LoadOptions, type LoadReport, type TiePolicy, invalidSummary, openPairs } from '../data/formats/load.js';
import { FORMAT_NAMES } from '../data/formats/registry.js';
import { JsonlSink } from '../data/jsonl.js';
import { CONTAINERS, type Container } from '../data/formats/source.js';
import { type LengthStats, StatsCollector } from '../data/formats/stats.js';
import { CliError } from './errors.js';

interface CommonOpts {
  format?: string;
  container?: string;
  skipInvalid?: boolean;
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

function addCommon(c: Command): Command {
  return c
    .option('--format <name>', `input format: ${FORMAT_NAMES.join(' | ')} (default: detected from the first records)`)
    .option('--container <kind>', `${CONTAINERS.join(' | ')} (default: from the extension, else the first byte)`)
    .option('--skip-invalid', 'skip bad records and count them by reason (default: the first bad record is an error)')
    .option('--ties <policy>', 'keep | skip: ties kept with tie: true (the eval scores them) or dropped', 'keep')
    .option('--max-prompt-chars <n>', 'prompts longer than this are invalid', '100000')
    .option('--prompt-field <path>', 'generic mapping: the prompt field (text or chat messages)')
    .option('--chosen-field <path>', 'generic mapping: the chosen answer (with --label-field: the first answer)')
    .option('--rejected-field <path>', 'generic mapping: the rejected answer (with --label-field: the second answer)')
    .option('--label-field <path>', 'generic mapping: which answer is better, valued by --label-values')
    .option('--label-values <a,b[,tie]>', 'label values meaning first, second, tie (default 1,2,0)')
    .option('--id-field <path>', 'generic mapping: the record id (default "id", else file:line)')
    .option('--category-field <path>', 'generic mapping: category')
    .option('--subset-field <path>', 'generic mapping: subset')
    .option('--json', 'print the report as JSON');
}

function loadOptions(o: CommonOpts): LoadOptions {
  if (o.ties !== 'keep' && o.ties !== 'skip') throw new CliError(`--ties: expected keep or skip, got "${o.ties}"`);
  const max = Number(o.maxPromptChars);
  if (!Number.isInteger(max) || max <= 0) throw new CliError(`--max-prompt-chars: expected a positive integer, got "${o.maxPromptChars}"`);
  if (o.container !== undefined && !(CONTAINERS as readonly string[]).includes(o.container))
    throw new CliError(`--container: expected ${CONTAINERS.join(' | ')}, got "${o.container}"`);
  if (o.format !== undefined && !(FORMAT_NAMES as readonly string[]).includes(o.format))
    throw new CliError(`--format: expected ${FORMAT_NAMES.join(' | ')}, got "${o.format}"`);
  let labelValues;
  try {
    labelValues = o.labelValues === undefined ? undefined : parseLabelValues(o.labelValues);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  return {
    ...(o.format !== undefined && { format: o.format }),
    ...(o.container !== undefined && { container: o.container as Container }),
    skipInvalid: o.skipInvalid === true,
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

/** FormatErrors (file:line:field) become one-line CLI errors; anything else is a bug and keeps its stack. */
async function guard<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof FormatError) throw new CliError(`${e.message}${e.reason === 'encoding' || e.reason === 'json' ? '' : ' (or pass --skip-invalid to skip and count such records)'}`);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError((e as Error).message);
    throw e;
  }
}

function printReportTail(r: LoadReport): void {
  if (r.skippedTies > 0) console.log(`ties skipped (--ties skip): ${r.skippedTies}`);
  if (r.invalidTotal > 0) {
    console.log(`invalid records skipped: ${r.invalidTotal} (${invalidSummary(r)})`);
    for (const [reason, ex] of Object.entries(r.examples)) for (const m of ex) console.log(`  ${reason}: ${m}`);
  }
}

const fmtLen = (s: LengthStats): string => `min ${s.min}  median ${s.median}  p95 ${s.p95}  max ${s.max}`;
const clip = (s: string, n = 200): string => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

export function registerData(program: Command): void {
  const data = program.command('data').description('preference data in the field\'s formats: inspect, convert to PreferencePair JSONL');

  addCommon(data.command('inspect').argument('<file>', 'JSONL, JSON array or CSV/TSV (optionally .gz)'))
    .description('detected format, counts, length statistics, duplicates and an example')
    .action(async (file: string, o: CommonOpts) =>
      guard(async () => {
        const opened = await openPairs(file, loadOptions(o));
        const stats = new StatsCollector();
        for await (const { pair } of opened.pairs) stats.add(pair);
        const s = stats.result();
        const r = opened.report;
        if (o.json) {
          console.log(JSON.stringify({ ...r, stats: s }, null, 2));
          return;
        }
        console.log(`${file}: format ${r.format} (${opened.format.describe}), container ${r.container}`);
        console.log(`pairs ${r.pairs}  ties ${r.ties}  invalid ${r.invalidTotal}`);
        console.log(`length (chars) prompt    ${fmtLen(s.lengths.prompt)}`);
        console.log(`               chosen    ${fmtLen(s.lengths.chosen)}`);
        console.log(`               rejected  ${fmtLen(s.lengths.rejected)}`);
        console.log(`duplicates: ${s.duplicatePairs} exact pairs, ${s.duplicatePrompts} repeated prompts`);
        printReportTail(r);
        if (s.example) {
          const e = s.example;
          console.log(`example (${e.id}):`);
          console.log(`  prompt:   ${clip(typeof e.prompt === 'string' ? e.prompt : JSON.stringify(e.prompt))}`);
          console.log(`  chosen:   ${clip(e.chosen)}`);
          console.log(`  rejected: ${clip(e.rejected)}${e.tie ? '  (tie)' : ''}`);
        }
      }),
    );

  addCommon(data.command('convert').argument('<file>', 'JSONL, JSON array or CSV/TSV (optionally .gz)'))
    .description('write PreferencePair JSONL (atomically), streaming files of any size')
    .requiredOption('--out <file>', 'output .jsonl (written to a temp file, renamed when complete)')
    .action(async (file: string, o: CommonOpts & { out: string }) =>
      guard(async () => {
        const progress = { bytes: 0 };
        const size = (await stat(file)).size;
        const opened = await openPairs(file, { ...loadOptions(o), progress });
        // A bar only where a person watches and the file is big enough to wait for.
        const bar = new ProgressBar('convert [{bar}] {percentage}% {value}/{total} MB | {pairs} pairs', { enabled: !o.json && size > 8 << 20 });
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
        console.log(`${file} (${r.format}) -> ${o.out}: ${sink.records} pairs (${r.ties} ties) in ${seconds.toFixed(1)} s`);
        printReportTail(r);
      }),
    );
}
