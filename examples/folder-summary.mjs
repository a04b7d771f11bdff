// A folder to a summary: every image of a folder through the embedded model, the results in an output
// folder (overlays, summary.csv, summary.jsonl, run.json), and a table of them on stdout.
//   node examples/folder-summary.mjs [FOLDER] [OUT]
// (default: the fixtures, into ./fixtures-summary)
import { fileURLToPath } from 'node:url';
import { runFolder } from 'occlude';

const folder = process.argv[2] ?? fileURLToPath(new URL('../fixtures', import.meta.url));
const out = process.argv[3] ?? 'fixtures-summary';

const result = await runFolder(
  { inputs: [folder], out, patch: 64, stride: 32 },
  {
    // the run prints nothing itself: these events are the script's to show
    progress: (p) => process.stderr.isTTY && process.stderr.write(`\r${p.index + 1}/${p.count} ${p.label} ${p.done}/${p.total} `),
    failure: ({ image, error }) => console.error(`${image}: ${error.message}`),
  },
);
if (process.stderr.isTTY) process.stderr.write('\n');
for (const row of result.rows) {
  if (row.error) console.log(`${row.image}\terror: ${row.error}`);
  else console.log(`${row.image}\t${row.predicted}\t${(row.probability * 100).toFixed(1)}%\tmin ${(row.minProbability * 100).toFixed(1)}% at (${row.minPatch.left},${row.minPatch.top})`);
}
console.log(`${result.done} of ${result.images} image(s) done, ${result.failed} failed; summary: ${result.summary}`);
process.exitCode = result.failed ? 1 : 0;
