// One image to an overlay: the heat-map of the class the model predicts, as a PNG beside a line of numbers.
//   node examples/overlay.mjs [IMAGE] [OVERLAY.png]
// (default: the fixture red-single.jpg and red-single.occlusion.png in the current folder)
import { fileURLToPath } from 'node:url';
import { Session, saveOverlay } from 'occlude';

const image = process.argv[2] ?? fileURLToPath(new URL('../fixtures/red-single.jpg', import.meta.url));
const output = process.argv[3] ?? 'red-single.occlusion.png';

// the embedded traffic-light model; pass { model: 'path/to/model' }, an IOHandler or a loaded LayersModel for another
const session = await Session.open({ workers: 1 });
try {
  const pixels = await session.decode(image); // decode once: for the sweep and for the overlay
  const r = await session.occlude(pixels, { name: image, patch: 64, stride: 16 });
  await saveOverlay(output, r, pixels, { colormap: 'viridis' });
  const { left, top, width, height } = r.minPatch;
  console.log(`${r.image}: ${r.class} ${(r.probability * 100).toFixed(1)}%, lowest ${(r.minProbability * 100).toFixed(1)}% with the ${width}x${height} patch at (${left},${top}) covered -> ${output}`);
} finally {
  await session.close(); // stops the worker threads
}
