import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../files.js';
import type { SummaryRow } from './summary.js';
import { contrastNote } from '../render/legend.js';

/** One tile of the report page. Links are relative to the page, so it works from disk (file://). */
export interface PageEntry
  extends Pick<SummaryRow, 'image' | 'predicted' | 'probability' | 'class' | 'classProbability' | 'minProbability' | 'minPatch' | 'error'> {
  /** the overlay PNG (the tile's thumbnail and the viewer's main image) */
  overlay: string | null;
  /** the original frame */
  original: string | null;
  /** e.g. a confusion pair "none→red" (review) */
  group?: string;
  /** the true class (review) */
  truth?: string;
  note?: string;
  /** set when the map has no contrast: `no region changes P(green) by more than 0.01%` */
  lowContrast?: string | null;
}

export interface PageOptions {
  title: string;
  subtitle?: string;
  /** groups in display order, with a description each (review: the confusion pairs) */
  groups?: { name: string; description?: string }[];
  /** the model's classes, in order (for the class filter) */
  labels?: string[];
}

/** A link from the page's folder to a file, as a relative URL (each segment percent-encoded). */
export function relativeHref(pageFile: string, target: string): string {
  const rel = path.relative(path.dirname(path.resolve(pageFile)), path.resolve(target));
  return rel.split(path.sep).map(encodeURIComponent).join('/');
}

/** Page entries for the rows of a folder run; `outDir` is where the rows' outputs are. */
export function entriesFromSummary(rows: SummaryRow[], pageFile: string, outDir: string): PageEntry[] {
  return rows.map((r) => ({
    image: r.image,
    overlay: r.output ? relativeHref(pageFile, path.join(outDir, r.output)) : null,
    original: relativeHref(pageFile, r.image),
    predicted: r.predicted,
    probability: r.probability,
    class: r.class,
    classProbability: r.classProbability,
    minProbability: r.minProbability,
    minPatch: r.minPatch,
    error: r.error,
    lowContrast: contrastNote(r.contrast ?? null, r.class),
  }));
}

/** JSON that is safe inside a <script> element. */
function inlineJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The page's look and behaviour: real files (src/report/assets/page.css and page.js, linted as CSS and
 * browser JavaScript, copied into dist by the build and shipped in the package), inlined into every page.
 */
let assets: { css: string; script: string } | null = null;
function pageAssets(): { css: string; script: string } {
  assets ??= {
    css: readFileSync(new URL('./assets/page.css', import.meta.url), 'utf8'),
    script: readFileSync(new URL('./assets/page.js', import.meta.url), 'utf8'),
  };
  return assets;
}

/** The self-contained report page: inline CSS, script and data; images by relative links. */
export function reportHtml(entries: PageEntry[], o: PageOptions): string {
  const labels = o.labels ?? [...new Set(entries.flatMap((e) => [e.predicted, e.class, e.truth]).filter((c): c is string => !!c))];
  const groupSelect = o.groups?.length
    ? `<label>Group <select id="filter-group"><option value="">all</option></select></label>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${escapeHtml(o.title)}</title>
<style>\n${pageAssets().css}</style>
</head>
<body>
<header>
<h1>${escapeHtml(o.title)}</h1>
${o.subtitle ? `<span class="sub">${escapeHtml(o.subtitle)}</span>` : ''}
<label>Sort <select id="sort">
<option value="min">minimum probability, lowest first</option>
<option value="min-desc">minimum probability, highest first</option>
<option value="probability">predicted probability</option>
<option value="name">name</option>
</select></label>
<label>Predicted class <select id="filter-class"><option value="">all</option></select></label>
${groupSelect}
<span id="count"></span>
</header>
<main>
<div id="grid"></div>
</main>
<div id="viewer" role="dialog" aria-modal="true">
<div class="bar"><button id="close" type="button">Close (Esc)</button><span id="viewer-title"></span></div>
<div class="imgs">
<figure><img id="viewer-overlay" alt="overlay"><figcaption>heat-map overlay</figcaption></figure>
<figure><img id="viewer-original" alt="original"><figcaption>original</figcaption></figure>
</div>
</div>
<script type="application/json" id="data">${inlineJson({ labels, groups: o.groups ?? [], entries })}</script>
<script>\n${pageAssets().script}</script>
</body>
</html>
`;
}

export async function writeReport(file: string, entries: PageEntry[], o: PageOptions): Promise<void> {
  await writeFileAtomic(file, reportHtml(entries, o));
}
