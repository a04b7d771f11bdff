/**
 * The command line: flags (commander) to the runs' options, and the exit code. Each command's file
 * (occlude-cmd, predict-cmd, review-cmd, check-cmd) maps its flags and prints its results; the work is
 * in src/runs and src/session.ts.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, Option, InvalidArgumentError } from 'commander';
import { OccludeError, usageError, messageOf } from '../errors.js';
import { DEFAULTS, BACKENDS, ENGINES, MODES, COLORMAPS, integerText, numberText, heightWidthText, numbersText } from '../options.js';
import { Reporter, type Io, type ReporterFlags } from './common.js';
import { runOccludeCmd, type OccludeFlags } from './occlude-cmd.js';
import { runPredictCmd } from './predict-cmd.js';
import { runReviewCmd, type ReviewFlags } from './review-cmd.js';
import { runCheckCmd, type CheckFlags } from './check-cmd.js';
import { runMergeCmd, type MergeFlags } from './merge-cmd.js';

export type { Io } from './common.js';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../../package.json') as { version: string }).version;

/** A flag's value through a validator of options.ts; its usage error becomes commander's (`error: option ... is invalid`). */
function arg<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      if (err instanceof OccludeError) throw new InvalidArgumentError(err.message);
      throw err;
    }
  };
}
const int = (name: string) => arg((v) => integerText(name, v));
const num = (name: string, lo: number, hi: number) => arg((v) => numberText(name, v, lo, hi));
const hw = (name: string) => arg((v) => heightWidthText(name, v));
const nums = (name: string, count?: number) => arg((v) => numbersText(name, v, count));

function addModelOptions(cmd: Command, o: { labels?: boolean; json?: string } = {}): Command {
  cmd
    .option('-m, --model <path>', 'model folder or model.json (TF.js LayersModel or GraphModel; SavedModel with tfjs-node), or embedded:traffic-light-coco (slower, better on real footage); default: the embedded traffic-light model')
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(BACKENDS).default(DEFAULTS.backend))
    .addOption(new Option('--engine <name>', 'incremental: recompute only what each patch changes (LayersModels); full: a forward pass per variant; auto: incremental when the model allows').choices(ENGINES).default(DEFAULTS.engine))
    .option('--workers <n>', 'inference worker threads (wasm/cpu); default: the number of cores, or fewer if the memory budget holds fewer', int('workers'))
    .option('--batch-size <n>', 'variants per forward pass; default: chosen from --memory-budget', int('batch-size'))
    .option('--memory-budget <bytes>', 'memory for the whole process (process, workers, models, batches), e.g. 512MB, 2GB (default 1GB)')
    .option('--max-pixels <n>', 'refuse images with more pixels than this (and image files over 16 bytes per pixel + 16 MiB)', int('max-pixels'), DEFAULTS.maxPixels);
  if (o.labels !== false) cmd.option('--labels <a,b,c>', 'class labels (overrides occlude.json)');
  else cmd.option('--class-names <a,b,c>', 'the model\'s class labels (overrides occlude.json)');
  return cmd
    .option('--input-size <HxW>', 'model input size (overrides occlude.json)', hw('input-size'))
    .addOption(new Option('--input-fit <fit>', 'stretch: resize every frame to the input size; width: to its width, keeping the frame\'s aspect ratio (overrides occlude.json)').choices(['stretch', 'width']))
    .option('--input-max-width <px>', 'with fit width: a wider frame keeps its own width up to this, never upscaled (overrides occlude.json; the model\'s input width must be free)', int('input-max-width'))
    .option('--input-choose-scale <label>', 'with --input-max-width: score a wider frame at both widths and use the one where this label is less probable (overrides occlude.json)')
    .option('--resize <HxW>', 'resize the frame to this before a centre crop (overrides occlude.json)', hw('resize'))
    .addOption(new Option('--crop <mode>', 'centre crop after resize (overrides occlude.json)').choices(['center', 'none']))
    .option('--input-range <lo,hi>', 'pixel value range the model expects, e.g. 0,255 or -1,1', nums('input-range', 2))
    .option('--mean <r,g,b>', 'per-channel mean subtracted after the range', nums('mean'))
    .option('--std <r,g,b>', 'per-channel std divided after the mean', nums('std'))
    .addOption(new Option('--channels <order>', 'channel order').choices(['rgb', 'bgr']))
    .option('--exact-reference', 'use the straightforward procedure (paint + full resize per variant); slow, for checking')
    .option('--json', o.json ?? 'one JSON object per image on stdout')
    .option('-v, --verbose', 'say which backend, workers and batch size are used')
    .option('-q, --quiet', 'no progress display')
    .option('--no-color', 'no colour in messages (also NO_COLOR=1)')
    .option('--debug', 'show stack traces of errors');
}

export type Runner = { code: number };

/** Patch, fill and rendering flags shared by the main command and `review`. */
function addOcclusionOptions(cmd: Command): Command {
  return cmd
    .option('-p, --patch <px>', 'patch size in pixels', int('patch'), DEFAULTS.patch)
    .option('-s, --stride <px>', 'stride in pixels (default: half the patch)', int('stride'))
    .option('--fill <value>', 'occluder: grey level 0..1, hex colour, mean or blur', String(DEFAULTS.fill))
    .addOption(new Option('--colormap <name>', 'heat-map colours').choices(COLORMAPS).default(DEFAULTS.colormap))
    .option('--alpha <a>', 'heat-map opacity 0..1', num('alpha', 0, 1), DEFAULTS.alpha)
    .option('--no-legend', 'no colour bar')
    .option('-r, --recursive', 'descend into sub-folders');
}

/** Build the CLI program; `state.code` receives the exit code. Tests drive it in-process. */
export function createProgram(io: Io, state: Runner = { code: 0 }): Command {
  const program = new Command('occlude');
  program
    .description('Occlusion sensitivity heat-maps (Zeiler & Fergus 2014) for TF.js image classifiers: which part of the image the prediction rests on.')
    .version(VERSION, '-V, --version')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .enablePositionalOptions()
    .showSuggestionAfterError(true);

  addModelOptions(addOcclusionOptions(program))
    .argument('[images...]', 'image files, folders or glob patterns')
    .option('-c, --class <name|index|all>', 'target class (default: the predicted class); all: one overlay per class from one sweep')
    .addOption(new Option('--mode <mode>', 'prob: mean target probability; drop: baseline minus it').choices(MODES).default(DEFAULTS.mode))
    .option('--iterate <n>', 'passes; each greys out the previous minimum patch for good', int('iterate'), DEFAULTS.iterate)
    .option('-o, --output <file>', 'overlay PNG (default: <image>.occlusion.png beside the image)')
    .option('--out <dir>', 'write outputs into this folder (mirroring input paths)')
    .option('--range <auto|lo,hi>', 'colour scale', String(DEFAULTS.range))
    .option('--save-map <file>', 'raw heat-map: .f32 (float32 LE, HxW), .json or .png (16-bit)')
    .option('--resume', 'skip images already done in --out (summary row without error and overlay present)')
    .option('--report <file>', 'write a static HTML page of the results (e.g. results/index.html)')
    .option('--shard <K/N|auto>', 'run the K-th of N parts of the inputs (auto: from the job engine\'s environment); see occlude merge')
    .addHelpText(
      'after',
      `
Examples:
  occlude frame.jpg --class red --patch 64 --stride 16
  occlude frame.jpg --model ../shared/seed-model/nexar-squeezenet-a --patch 32 --stride 16 --json
  occlude frames/ more/*.jpg --out results/ --class red --report results/index.html
  occlude frames/ --recursive --out results/ --resume
  occlude predict frame1.jpg frame2.jpg --json
  occlude review frames/ --labels labels.csv --out review/
  occlude check fixtures/manifest.json --junit results.xml

With --out DIR, DIR/summary.csv and DIR/summary.jsonl get one row per image.

Exit codes: 0 ok, 1 runtime failure (unreadable image or model, unwritable output), 2 usage error,
130 interrupted (Ctrl-C), 143 SIGTERM, 129 SIGHUP (each stops after the current batch and writes
the summary and the page).`,
    )
    .action(async (images: string[], flags: OccludeFlags) => {
      if (!images.length) {
        program.outputHelp({ error: true });
        throw usageError('no image given');
      }
      await act(runOccludeCmd)(images, flags);
    });

  const predict = program.command('predict').description('classify images without occluding').argument('<images...>', 'image files or folders');
  addModelOptions(predict).action(act(runPredictCmd));
  const review = program
    .command('review')
    .description('classify labelled frames, print the confusion matrix, and show each mistake as two heat-maps: predicted class and true class')
    .argument('<images...>', 'image files, folders or glob patterns')
    .requiredOption('--labels <csv>', 'labels.csv with the columns image,class')
    .requiredOption('--out <dir>', 'output folder: confusion.json, one side-by-side PNG per mistake, index.html')
    .option('--report <file>', 'the review page (default: <out>/index.html)');
  addModelOptions(addOcclusionOptions(review), { labels: false, json: 'print confusion.json on stdout' })
    .addHelpText(
      'after',
      `
Example:
  occlude review frames/ --labels labels.csv --out review/ --model ../shared/seed-model/nexar-squeezenet-a

Mistakes are grouped by confusion pair (true→predicted), e.g. review/none-as-red/frame.review.png:
left the predicted class's heat-map, right the true class's. Exit code 0 (mistakes are the output),
1 when a frame could not be read.`,
    )
    .action(act<ReviewFlags>(runReviewCmd));

  const check = program
    .command('check')
    .description('check heat-maps against a manifest of expected classes and evidence boxes (for CI)')
    .argument('<manifests...>', 'manifest JSON files')
    .option('--junit <file>', 'write JUnit XML')
    .option('--shard <K/N|auto>', 'run the K-th of N parts of each manifest\'s cases (by name); the JUnit file lists that part');
  addModelOptions(check, { json: 'one JSON object per case on stdout' })
    .addHelpText(
      'after',
      `
Example:
  occlude check fixtures/manifest.json --junit results.xml

A case passes when the predicted class equals "class" (when given) and the minimum of that
class's heat-map lies in one of the "evidence" boxes (or, with "rule": "energy", at least
"minShare" of the probability drop does). --model overrides the manifest's model.
A case marked "expect": "fail" (with a "reason") is a known miss: it must fail (XFAIL); when it
passes (XPASS) the check fails, so that the mark comes off.
Exit codes: 0 all cases pass (or fail as expected), 1 a case fails, 2 a bad manifest,
130 interrupted (Ctrl-C), 143 SIGTERM, 129 SIGHUP (the JUnit file lists every case that did not
run as an error).`,
    )
    .action(act<CheckFlags>(runCheckCmd));

  program
    .command('merge')
    .description('merge the output folders of the shards of a folder run (--shard K/N) into one')
    .argument('<folders...>', 'the shards\' --out folders')
    .requiredOption('--out <dir>', 'the merged folder: summary.csv, summary.jsonl, run.json and the overlays')
    .option('--report <file>', 'write the report page of all the shards (e.g. merged/index.html)')
    .option('--json', 'print the result as one JSON object on stdout')
    .option('--no-color', 'no colour in messages (also NO_COLOR=1)')
    .option('--debug', 'show stack traces of errors')
    .addHelpText(
      'after',
      `
Example:
  occlude frames/ --out results/shard-1 --shard 1/3      (and 2/3, 3/3 elsewhere)
  occlude merge results/shard-1 results/shard-2 results/shard-3 --out results/all --report results/all/index.html

The overlays are hard-linked into the merged folder (copied across filesystems). Folders of other
settings, overlapping shards and colliding files are refused (exit 2); missing or unfinished shards
are reported and exit 1 after merging what is there. docs/scale.md shows it on Kubernetes, GitHub
Actions and Slurm.`,
    )
    .action(act<MergeFlags>(runMergeCmd));
  return program;

  /** A command's action: a reporter for its flags; what it throws is reported; its exit code kept in `state`. */
  function act<F extends ReporterFlags>(command: (args: string[], f: F, io: Io, rep: Reporter) => Promise<void>) {
    return async (args: string[], flags: F): Promise<void> => {
      const rep = new Reporter(io, flags);
      try {
        await command(args, flags, io, rep);
      } catch (err) {
        rep.error(err);
      }
      state.code = Math.max(state.code, rep.code);
    };
  }
}

/** Run the CLI with user arguments (no node/script prefix); resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  const state: Runner = { code: 0 };
  const program = createProgram(io, state);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    io.stderr.write(`occlude: ${messageOf(err)}\n`);
    return err instanceof OccludeError ? err.exitCode : 1;
  }
  return state.code;
}
