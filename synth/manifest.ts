/** The fixture / data-set manifest format shared by `npm run synth` and `fixtures/`. */
import type { Box, LightInfo, FrameClass, TimeOfDay } from './scene.js';

export interface ManifestCase {
  image: string;
  class: FrameClass;
  /** boxes the prediction should rest on: the lights of the target class, facing the driver */
  evidence: Box[];
  /** every traffic light in the frame, including ones not facing the driver */
  lights: LightInfo[];
  time: TimeOfDay;
  /**
   * one value per evidence box: how strongly its lit lamp shows in the finished frame, 0-255
   * (the lamp's colour signal, lit minus unlit; see lampVisibility in render.ts)
   */
  visibility?: number[];
  /** the camera look of its lit lamps, when not plain (data sets only; see CameraLook in scene.ts) */
  look?: { redHue: number; greenHue: number; blow: number; desat: number; halo: number };
  /** short story of the case (fixtures only) */
  note?: string;
  /**
   * fixtures only: "fail" where the embedded model is known to miss the case, with the reason;
   * `occlude check` then expects the case to fail, and fails when it passes (so the mark comes off)
   */
  expect?: 'fail';
  reason?: string;
}

export interface Manifest {
  model: string;
  patch: number;
  stride: number;
  generator: { seed: number; count: number; width: number; height: number; command: string };
  cases: ManifestCase[];
}

export function evidenceOf(cls: FrameClass, lights: LightInfo[]): Box[] {
  if (cls === 'none') return [];
  return lights
    .filter((l) => l.state === cls)
    .map((l) => ({ left: l.left, top: l.top, width: l.width, height: l.height }));
}
