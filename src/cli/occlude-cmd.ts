/** `occlude IMAGES...`: flags to runFolder's options; each image's result printed as text or a JSON line. */
import { runFolder } from '../runs/folder.js';
import { resultJson, resultText } from '../report/json.js';
import type { ColormapName } from '../options.js';
import { listen, sessionOptions, type Io, type ModelFlags, type Reporter } from './common.js';
import { parseShard } from '../runs/shard.js';

export interface OccludeFlags extends ModelFlags {
  class?: string;
  patch: number;
  stride?: number;
  fill: string;
  mode: 'prob' | 'drop';
  iterate: number;
  output?: string;
  out?: string;
  colormap: ColormapName;
  alpha: number;
  range: string;
  legend: boolean;
  saveMap?: string;
  recursive?: boolean;
  resume?: boolean;
  report?: string;
  shard?: string;
}

export async function runOccludeCmd(inputs: string[], f: OccludeFlags, io: Io, rep: Reporter): Promise<void> {
  const events = listen(io, f, rep);
  const r = await runFolder(
    {
      ...sessionOptions(f),
      inputs,
      recursive: f.recursive,
      class: f.class,
      patch: f.patch,
      stride: f.stride,
      fill: f.fill,
      mode: f.mode,
      iterate: f.iterate,
      output: f.output,
      out: f.out,
      saveMap: f.saveMap,
      resume: f.resume,
      report: f.report,
      shard: f.shard === undefined ? undefined : parseShard(f.shard, io.env ?? {}),
      colormap: f.colormap,
      alpha: f.alpha,
      range: f.range,
      legend: f.legend,
      signal: io.signal,
    },
    {
      ...events,
      result: (result, files) => {
        events.progressBar.clear();
        rep.info(`${result.image}: ${result.evaluated} of ${result.variants} variants through the model (the rest are outside what it sees), ${result.seconds.toFixed(2)} s, backend ${result.backend}, engine ${result.engine}`);
        if (f.json) io.stdout.write(JSON.stringify(resultJson(result, files)) + '\n');
        else io.stdout.write(resultText(result, files).join('\n') + '\n');
      },
    },
  ).finally(() => events.progressBar.clear());
  if (r.stopped) rep.notice(`stopped: ${r.done} of ${r.images} image(s) done (${r.stopped})`);
  rep.interrupted((prefix) => `${prefix}: ${r.rows.length} of ${r.images} image(s) done${r.summary ? `, listed in ${r.summary}` : ''}`);
}
