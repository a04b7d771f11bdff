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

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#15171a;color:#e8e8e8}
header{padding:14px 20px;background:#202328;border-bottom:1px solid #33373d;display:flex;flex-wrap:wrap;gap:12px 28px;align-items:center}
h1{font-size:18px;margin:0;font-weight:600}
.sub{color:#9aa0a6}
label{color:#9aa0a6}
select{background:#2b2f35;color:#e8e8e8;border:1px solid #44494f;border-radius:4px;padding:4px 6px;font:inherit}
#count{color:#9aa0a6;margin-left:auto}
main{padding:16px 20px}
.group{grid-column:1/-1;margin:8px 0 0;font-size:15px;font-weight:600}
.group small{font-weight:400;color:#9aa0a6;margin-left:8px}
#grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:14px}
body.wide #grid{grid-template-columns:repeat(auto-fill,minmax(520px,1fr))}
body.wide .card img{aspect-ratio:auto}
.card{margin:0;background:#202328;border:1px solid #33373d;border-radius:6px;overflow:hidden;cursor:pointer}
.card:hover{border-color:#6b8afd}
.card img{display:block;width:100%;aspect-ratio:16/9;object-fit:contain;background:#000}
.card figcaption{padding:8px 10px}
.name{font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.err{color:#ff8a80}
.card.flat{border-color:#8a6d00}
.flat-note{color:#ffd600}
.noimg{display:flex;align-items:center;justify-content:center;aspect-ratio:16/9;background:#2a1515;color:#ff8a80;padding:8px;text-align:center}
.cls{display:inline-block;padding:0 6px;border-radius:3px;background:#33373d}
.cls-red{background:#7a1f1f}.cls-green{background:#1f5a2a}.cls-none{background:#3d4148}
.min{color:#ffcc80}
#viewer{position:fixed;inset:0;background:rgba(12,13,15,.97);display:none;flex-direction:column;padding:16px;overflow:auto;z-index:10}
#viewer.open{display:flex}
#viewer .bar{display:flex;gap:16px;align-items:center;margin-bottom:12px}
#viewer .imgs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
#viewer figure{margin:0}
#viewer figure img{display:block;max-width:calc(50vw - 32px);height:auto;image-rendering:auto;background:#000}
#viewer figcaption{color:#9aa0a6;padding:4px 0}
button{background:#2b2f35;color:#e8e8e8;border:1px solid #44494f;border-radius:4px;padding:4px 10px;font:inherit;cursor:pointer}
`;

const SCRIPT = `
(function(){
var data=JSON.parse(document.getElementById('data').textContent);
var entries=data.entries;
var grid=document.getElementById('grid');
var sortSel=document.getElementById('sort');
var classSel=document.getElementById('filter-class');
var groupSel=document.getElementById('filter-group');
var count=document.getElementById('count');
function pct(p){if(p===null||p===undefined)return '-';return (p*100).toFixed(p>0.9999||p<0.0001?4:2)+'%';}
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!==undefined)e.textContent=text;return e;}
function cls(name){var s=el('span','cls cls-'+String(name).replace(/[^a-z0-9_-]/gi,''),name);return s;}
var classes=[];entries.forEach(function(e){[e.predicted].forEach(function(c){if(c&&classes.indexOf(c)<0)classes.push(c);});});
(data.labels||[]).forEach(function(c){if(classes.indexOf(c)<0)classes.push(c);});
classes.forEach(function(c){var o=el('option',null,c);o.value=c;classSel.appendChild(o);});
if(entries.some(function(e){return e.error;})){var o=el('option',null,'errors');o.value='__error';classSel.appendChild(o);}
var groups=(data.groups||[]);
if(groups.length)document.body.classList.add('wide');
if(groupSel){groups.forEach(function(g){var o=el('option',null,g.name);o.value=g.name;groupSel.appendChild(o);});}
function card(e,i){
  var f=el('figure','card');f.dataset.index=String(i);f.dataset.image=e.image;
  f.dataset.predicted=e.predicted||'';f.dataset.target=e.class||'';f.dataset.min=e.minProbability===null?'':String(e.minProbability);
  if(e.group)f.dataset.group=e.group;
  if(e.overlay){var img=el('img');img.loading='lazy';img.alt='overlay of '+e.image;img.src=e.overlay;f.appendChild(img);}
  else f.appendChild(el('div','noimg',e.error?'no overlay':'not done'));
  var c=el('figcaption');c.appendChild(el('div','name',e.image.split(/[\\\\/]/).pop()));c.lastChild.title=e.image;
  if(e.error){c.appendChild(el('div','err',e.error));}
  else{
    var p=el('div');p.appendChild(document.createTextNode('predicted '));p.appendChild(cls(e.predicted));p.appendChild(document.createTextNode(' '+pct(e.probability)));c.appendChild(p);
    if(e.truth){var t=el('div');t.appendChild(document.createTextNode('true '));t.appendChild(cls(e.truth));c.appendChild(t);}
    var m=el('div');m.appendChild(document.createTextNode('target '));m.appendChild(cls(e.class));m.appendChild(document.createTextNode(' '+pct(e.classProbability)+' \\u2192 '));m.appendChild(el('span','min','min '+pct(e.minProbability)));c.appendChild(m);
  }
  if(e.lowContrast){f.classList.add('flat');f.title='no contrast: '+e.lowContrast;c.appendChild(el('div','flat-note','no contrast: '+e.lowContrast));}
  if(e.note)c.appendChild(el('div','sub',e.note));
  f.appendChild(c);
  f.addEventListener('click',function(){openViewer(e);});
  return f;
}
function key(e,by){
  if(by==='name')return e.image;
  if(by==='probability')return e.probability===null?Infinity:e.probability;
  return e.minProbability===null?Infinity:e.minProbability;
}
function render(){
  var by=sortSel.value,dir=by==='min-desc'?-1:1,k=by==='min-desc'?'min':by;
  var want=classSel.value,g=groupSel?groupSel.value:'';
  var idx=entries.map(function(e,i){return i;}).filter(function(i){
    var e=entries[i];
    if(want==='__error'&&!e.error)return false;
    if(want&&want!=='__error'&&e.predicted!==want)return false;
    if(g&&e.group!==g)return false;
    return true;
  });
  idx.sort(function(a,b){var x=key(entries[a],k),y=key(entries[b],k);
    if(x===y)return entries[a].image<entries[b].image?-1:1;
    if(x===Infinity)return 1;if(y===Infinity)return -1;
    return (x<y?-1:1)*dir;});
  grid.textContent='';
  if(groups.length){
    groups.forEach(function(gr){
      var inGroup=idx.filter(function(i){return entries[i].group===gr.name;});
      if(!inGroup.length)return;
      var h=el('div','group',gr.name);h.dataset.group=gr.name;
      h.appendChild(el('small',null,inGroup.length+' frame(s)'+(gr.description?' \u2014 '+gr.description:'')));
      grid.appendChild(h);
      inGroup.forEach(function(i){grid.appendChild(card(entries[i],i));});
    });
    idx.filter(function(i){return !entries[i].group;}).forEach(function(i){grid.appendChild(card(entries[i],i));});
  } else idx.forEach(function(i){grid.appendChild(card(entries[i],i));});
  count.textContent=idx.length+' of '+entries.length+' shown';
  count.dataset.shown=String(idx.length);
}
var viewer=document.getElementById('viewer');
function openViewer(e){
  document.getElementById('viewer-title').textContent=e.image+(e.error?' \\u2014 '+e.error:e.predicted?' \\u2014 predicted '+e.predicted+' '+pct(e.probability)+(e.truth?', true '+e.truth:'')+', target '+e.class+' min '+pct(e.minProbability):'');
  var ov=document.getElementById('viewer-overlay'),orig=document.getElementById('viewer-original');
  ov.parentNode.style.display=e.overlay?'':'none';if(e.overlay)ov.src=e.overlay;
  orig.parentNode.style.display=e.original?'':'none';if(e.original)orig.src=e.original;
  viewer.classList.add('open');
}
function closeViewer(){viewer.classList.remove('open');}
document.getElementById('close').addEventListener('click',closeViewer);
viewer.addEventListener('click',function(ev){if(ev.target===viewer)closeViewer();});
document.addEventListener('keydown',function(ev){if(ev.key==='Escape')closeViewer();});
sortSel.addEventListener('change',render);classSel.addEventListener('change',render);if(groupSel)groupSel.addEventListener('change',render);
render();
})();
`;

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
<style>${CSS}</style>
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
<script>${SCRIPT}</script>
</body>
</html>
`;
}

export async function writeReport(file: string, entries: PageEntry[], o: PageOptions): Promise<void> {
  await writeFileAtomic(file, reportHtml(entries, o));
}
