#!/usr/bin/env python3
"""Combiners of several models, measured on every #18 target at once and offline (issue #18, fifteenth session).

  python3 training/combine.py lists --shared ../shared [--generated DATA_DIR] --out DIR
  python3 training/combine.py measure --preds DIR --real VARIANTS_DIR [--generated VARIANTS_DIR] [--shared ../shared] \
      [--fit val,val-looks] [--report test,test-looks,mir] [--shift-none-on SET] COMBINER ...

`lists` writes training/variants.mjs's lists: DIR/real.json, the 18 realval frames and the 6 dash-cam frames with
their classes and boxes (patch 64, stride 32, as training/real_frames.mjs runs them), and DIR/generated.json, the
frames of a generated set with a light and its boxes, in order (patch 32, stride 16, as training/pointing.mjs).

COMBINER: NAME (one branch alone) or NAME+NAME[+NAME...] (a combiner fitted on those branches' probabilities exactly
as training/stack.py fit fits one: p = softmax(W [p_1, ..., p_k] + b), multinomial logistic regression, float64
L-BFGS, L2 1e-3 on W, on the union of the --fit sets, nothing tuned after); log:NAME+NAME... fits it on the
log-probabilities instead (clipped at 1e-6; a product of the models' probabilities, each class with its own power).
NAMEs are the branches of a training/branches.py graph. --shift-none-on SET then takes d off each fitted combiner's
`none` logit, d chosen on SET alone as training/prior.py curve --choose chooses it (seventeenth session).

--preds DIR holds `occlude predict --json` of each branch's own model on each set, as NAME-SET.jsonl (true classes
as training/prior.py reads them); the --fit sets are fitted, the --report sets only reported.
--real and --generated are training/variants.mjs outputs of the branches graph: --real on the 18 realval frames and
the 6 dash-cam frames (patch 64, stride 32, realval's manifest with paths), --generated on light frames of a generated
set (patch 32, stride 16). Each may be DIR,DIR,...: outputs of the same list by graphs of other branches, joined frame
by frame (the same frame and grid in each), so that a new model needs a run of its own graph only. From them, each
combiner's maps are computed as occlude computes them (the mean of the combined probability of the true class over the
patches that cover a pixel), and:
- real: the frames the combiner gets right (its class on the unoccluded frame), of 24;
- realval pointing, as training/real_frames.mjs counts it: over the right realval frames with boxes, the centre of
  the minimum region (`occlude check`'s point) within 15 px of a lit lamp's box;
- generated pointing, as training/pointing.mjs counts it (`hit_any`): a pixel attaining the minimum inside a light's
  box, over all the frames given (--frames FILE: each frame's, as JSON lines).
The results match those tools frame by frame (the fifteenth-session log: S's realval table and 34 generated frames
of S and of the default model). It prints one line of numbers per combiner, and its misses."""
import argparse, glob, json, os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import prior  # noqa: E402  (read_sets: predictions and true classes; the none shift's choice)
from stack import features, regress  # noqa: E402  (stack.py fit's inputs and regression)

LABELS = ['none', 'red', 'green']
RADIUS = 15  # training/real_frames.mjs


def axis(size, patch, stride):
    """src/plan/grid.ts planAxis: each patch's clipped [start, end) along one axis."""
    n = -(-(size + patch - 1) // stride)
    o = -patch + 1 + np.arange(n) * stride
    return np.maximum(o, 0), np.minimum(o + patch, size)


class Frame:
    """One frame's per-variant outputs (training/variants.mjs) and the cells of its patch grid: the map is constant
    on each cell (the pixels covered by the same patches), so maps are computed per cell."""

    def __init__(self, meta_paths):
        """meta_paths: one frame's NNNN.json in one or more variants.mjs outputs of the same list (graphs with other
        branches); their rows are joined side by side, the branches in the order of the outputs."""
        metas = [json.load(open(p)) for p in meta_paths]
        same = ('image', 'width', 'height', 'patch', 'stride', 'count')
        for p, m in zip(meta_paths[1:], metas[1:]):
            if any(m[k] != metas[0][k] for k in same):
                sys.exit(f'{p}: not the frame and grid of {meta_paths[0]}')
        self.meta = m = dict(metas[0], labels=sum((m['labels'] for m in metas), []))
        if len(set(m['labels'])) != len(m['labels']):
            sys.exit(f'{", ".join(meta_paths)}: the same branch twice')
        rows = [np.fromfile(p[:-len('.json')] + '.f32', dtype='<f4').reshape(q['count'] + 1, len(q['labels']))
                for p, q in zip(meta_paths, metas)]
        self.rows = np.concatenate(rows, 1).astype(np.float64)
        cs, ce = axis(m['width'], m['patch'], m['stride'])
        rs, re = axis(m['height'], m['patch'], m['stride'])
        self.xb = np.unique(np.concatenate([cs, ce]))
        self.yb = np.unique(np.concatenate([rs, re]))
        # cover[c, k]: patch column c covers cell column k
        self.cx = ((cs[:, None] <= self.xb[None, :-1]) & (self.xb[None, 1:] <= ce[:, None])).astype(np.float64)
        self.cy = ((rs[:, None] <= self.yb[None, :-1]) & (self.yb[None, 1:] <= re[:, None])).astype(np.float64)
        assert self.cx.sum(0).min() > 0 and self.cy.sum(0).min() > 0 and self.xb[0] == 0 and self.yb[0] == 0
        assert self.xb[-1] == m['width'] and self.yb[-1] == m['height']
        self.coverage = self.cy.sum(0)[:, None] * self.cx.sum(0)[None, :]  # patches covering each cell

    def cell_map(self, scores):
        """Per-variant scores (grid order, row-major) -> the mean over covering patches, per cell, in float32 as occlude keeps it."""
        v = scores.reshape(self.cy.shape[0], self.cx.shape[0])
        return ((self.cy.T @ v @ self.cx) / self.coverage).astype(np.float32)

    def minimum_point(self, cmap):
        """src/report/check.ts minimumPoint: the rounded centroid of the 4-connected region of pixels equal to the
        minimum that holds the first minimum pixel in row-major order (that pixel is in the first minimum cell)."""
        v = cmap.min()
        start = tuple(np.argwhere(cmap == v)[0])
        seen, todo, sx, sy, n = {start}, [start], 0.0, 0.0, 0.0
        while todo:
            a, b = todo.pop()
            w, h = self.xb[b + 1] - self.xb[b], self.yb[a + 1] - self.yb[a]
            sx += h * w * (self.xb[b] + self.xb[b + 1] - 1) / 2
            sy += w * h * (self.yb[a] + self.yb[a + 1] - 1) / 2
            n += w * h
            for q in ((a - 1, b), (a + 1, b), (a, b - 1), (a, b + 1)):
                if 0 <= q[0] < cmap.shape[0] and 0 <= q[1] < cmap.shape[1] and q not in seen and cmap[q] == v:
                    seen.add(q)
                    todo.append(q)
        return int(np.floor(sx / n + 0.5)), int(np.floor(sy / n + 0.5))

    def min_in_box(self, cmap, boxes):
        """training/pointing.mjs: a pixel attaining the minimum (to 1e-12) inside one of the boxes."""
        for iy, ix in np.argwhere(cmap <= cmap.min() + 1e-12):
            for b in boxes:
                if self.xb[ix] < b['left'] + b['width'] and b['left'] < self.xb[ix + 1] and \
                        self.yb[iy] < b['top'] + b['height'] and b['top'] < self.yb[iy + 1]:
                    return True
        return False


def distance(x, y, b):
    """training/real_frames.mjs: from a point to a box, 0 inside."""
    return float(np.hypot(max(b['left'] - x, 0, x - (b['left'] + b['width'] - 1)), max(b['top'] - y, 0, y - (b['top'] + b['height'] - 1))))


def load_frames(dirs):
    """DIR[,DIR...]: variants.mjs outputs of one list, each from a graph with other branches, joined per frame."""
    dirs = dirs.split(',')
    names = [sorted(os.path.basename(p) for p in glob.glob(os.path.join(d, '*.json'))) for d in dirs]
    if not names[0]:
        sys.exit(f'{dirs[0]}: no training/variants.mjs output')
    for d, n in zip(dirs[1:], names[1:]):
        if n != names[0]:
            sys.exit(f'{d}: not the frames of {dirs[0]}')
    frames = [Frame([os.path.join(d, n) for d in dirs]) for n in names[0]]
    if len({tuple(f.meta['labels']) for f in frames}) != 1:
        sys.exit(f'{",".join(dirs)}: frames of different graphs')
    return frames


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def shift_none(score, xy, tolerance):
    """The twelfth session's lower prior of `none` (training/prior.py curve), for a fitted combiner: the largest d in
    0, 0.1, ..., 4 whose accuracy on the set xy, with d taken off the `none` logit, is at least the unshifted accuracy
    minus `tolerance` points. Returns the shift of b: d on `none`, 0 on the lights."""
    x, y = xy
    z = score(x)
    pct = lambda i: 100 * float(((z - [prior.GRID[i], 0, 0]).argmax(1) == y).mean())  # noqa: E731
    i = prior.choose(pct, tolerance)
    d = prior.GRID[i]
    print(f'  none shift chosen on its set alone: d = {d:.1f} ({pct(0):.1f}% at 0, {pct(i):.1f}% at d)')
    return np.array([d, 0.0, 0.0])


def prediction_sets(a, names, sets):
    """{SET: (x [n, 3k] the branches' probabilities side by side, y)} from DIR/NAME-SET.jsonl."""
    specs = [f'{s}=' + ','.join(os.path.join(a.preds, f'{n}-{s}.jsonl') for n in names) for s in sets]
    return {s: (x, y) for s, x, y, _ in features(prior.read_sets(a.shared, specs, len(names)))}


def lists(a):
    os.makedirs(a.out, exist_ok=True)
    realval = os.path.join(a.shared, 'realval')
    cases = [dict(c, image=os.path.abspath(os.path.join(realval, c['image'])))
             for c in json.load(open(os.path.join(realval, 'manifest.json')))['cases']]
    ref = json.load(open(os.path.join(a.shared, 'dashcam', 'reference', 'reference.json')))
    for k, v in ref['frames'].items():  # as real_frames.mjs reads them
        cases.append({'image': os.path.abspath(os.path.join(a.shared, 'dashcam', v.get('image', k))),
                      'class': v.get('true_class', v.get('class'))})
    json.dump({'patch': 64, 'stride': 32, 'cases': cases}, open(os.path.join(a.out, 'real.json'), 'w'))
    print(f'{a.out}/real.json: {len(cases)} frames')
    if a.generated:
        light = [dict(c, image=os.path.abspath(os.path.join(a.generated, c['image'])))
                 for c in json.load(open(os.path.join(a.generated, 'manifest.json')))['cases']
                 if c['class'] != 'none' and c.get('evidence')]
        json.dump({'patch': 32, 'stride': 16, 'cases': light}, open(os.path.join(a.out, 'generated.json'), 'w'))
        print(f'{a.out}/generated.json: {len(light)} frames with a light')


def measure(a):
    real = load_frames(a.real)
    generated = load_frames(a.generated) if a.generated else []
    labels = real[0].meta['labels']
    if generated and generated[0].meta['labels'] != labels:
        sys.exit('--real and --generated come from different graphs')
    branch = {}
    for i in range(0, len(labels), 3):
        name = labels[i][:-len('_none')]
        if [f'{name}_{c}' for c in LABELS] != labels[i:i + 3]:
            sys.exit(f'unexpected labels {labels}: not a training/branches.py graph')
        branch[name] = list(range(i, i + 3))
    fit_sets, report_sets = a.fit.split(','), [s for s in a.report.split(',') if s]
    frames = open(a.frames, 'w') if a.frames else None
    for spec in a.combiners:
        log = spec.startswith('log:')
        names = spec[len('log:'):].split('+') if log else spec.split('+')
        inputs = (lambda x: np.log(np.clip(x, 1e-6, 1))) if log else (lambda x: x)
        if any(n not in branch for n in names):
            sys.exit(f'{spec}: the branches are {", ".join(branch)}')
        cols = sum((branch[n] for n in names), [])
        sets = prediction_sets(a, names, fit_sets + report_sets)
        if a.shift_none_on and (a.shift_none_on not in sets or len(names) == 1):
            sys.exit(f'{spec}: --shift-none-on needs a combiner of several branches and one of the --fit or --report sets')
        if len(names) == 1:
            if log:
                sys.exit(f'{spec}: log: is for combiners of several branches')
            combine = lambda v, c=cols: v[:, c]  # noqa: E731
            score = lambda x: x  # noqa: E731
        else:
            x = np.concatenate([inputs(sets[s][0]) for s in fit_sets])
            y = np.concatenate([sets[s][1] for s in fit_sets])
            W, b, _ = regress(x, y, a.l2)
            if a.shift_none_on:
                b = b - shift_none(lambda x, W=W, b=b, f=inputs: f(x) @ W + b, sets[a.shift_none_on], a.tolerance)
            if a.save and not log:
                os.makedirs(a.save, exist_ok=True)
                json.dump({'labels': LABELS, 'branches': names, 'inputs': ', '.join(f'{n} none red green' for n in names),
                           'W': W.tolist(), 'b': b.tolist(), 'fit': fit_sets, 'l2': a.l2, 'none_shift_chosen_on': a.shift_none_on},
                          open(os.path.join(a.save, spec.replace('+', '_') + '.json'), 'w'), indent=1)
            combine = lambda v, c=cols, W=W, b=b, f=inputs: softmax(f(v[:, c]) @ W + b)  # noqa: E731
            score = lambda x, W=W, b=b, f=inputs: f(x) @ W + b  # noqa: E731
        acc = {s: float((score(sets[s][0]).argmax(1) == sets[s][1]).mean()) for s in fit_sets + report_sets}
        right, rv_hits, rv_n, rv_miss, wrong = 0, 0, 0, [], []
        for f in real:
            p = combine(f.rows)
            t = f.meta['class']
            pred = LABELS[int(p[0].argmax())]
            name = os.path.basename(f.meta['image'])
            if pred != t:
                wrong.append(f'{name} {t}->{pred} {p[0].max():.2f}')
                continue
            right += 1
            if t != 'none' and f.meta.get('evidence'):
                x0, y0 = f.minimum_point(f.cell_map(p[1:, LABELS.index(t)]))
                d = min(distance(x0, y0, bx) for bx in f.meta['evidence'])
                rv_n += 1
                rv_hits += d <= RADIUS
                if d > RADIUS:
                    rv_miss.append(f'{name} {d:.0f} px')
        g_hits = 0
        for f in generated:
            p = combine(f.rows)
            hit = f.min_in_box(f.cell_map(p[1:, LABELS.index(f.meta['class'])]), f.meta['evidence'])
            g_hits += hit
            if frames:
                frames.write(json.dumps({'combiner': spec, 'image': os.path.basename(f.meta['image']), 'class': f.meta['class'],
                                         'predicted': LABELS[int(p[0].argmax())], 'hit': bool(hit)}) + '\n')
        line = {'combiner': spec, **{s: round(100 * v, 1) for s, v in acc.items()}, 'real': f'{right}/{len(real)}',
                'realval_pointing': f'{rv_hits}/{rv_n}'}
        if generated:
            line['generated_pointing'] = f'{g_hits}/{len(generated)} ({100 * g_hits / len(generated):.1f}%)'
        print(json.dumps(line))
        print(f'  wrong: {", ".join(wrong) or "none"}; pointing misses: {", ".join(rv_miss) or "none"}')
        if len(names) > 1:
            print('  W ' + ' | '.join(' '.join(f'{v:+.3f}' for v in row) for row in W) + '; b ' + ' '.join(f'{v:+.3f}' for v in b))
    if frames:
        frames.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    li = sub.add_parser('lists')
    li.add_argument('--shared', default='../shared')
    li.add_argument('--generated')
    li.add_argument('--out', required=True)
    me = sub.add_parser('measure')
    me.add_argument('--preds', required=True)
    me.add_argument('--real', required=True)
    me.add_argument('--generated')
    me.add_argument('--shared', default='../shared')
    me.add_argument('--fit', default='val,val-looks')
    me.add_argument('--report', default='test,test-looks,mir')
    me.add_argument('--l2', type=float, default=1e-3)
    me.add_argument('--frames', help="write each generated frame's class and hit, per combiner, as JSON lines (as pointing.mjs --frames)")
    me.add_argument('--save', metavar='DIR', help='write each combiner of several branches (not log:) as DIR/NAME_NAME.json, '
                    "for training/branches.py --stack: the combined model as one LayersModel")
    me.add_argument('--shift-none-on', metavar='SET', help='lower the prior of none on each fitted combiner by the d chosen '
                    'on SET alone (one of the --fit or --report sets), as training/prior.py curve --choose chooses it')
    me.add_argument('--tolerance', type=float, default=0.3, help='for --shift-none-on (default 0.3 points)')
    me.add_argument('combiners', nargs='+')
    a = ap.parse_args()
    {'lists': lists, 'measure': measure}[a.cmd](a)


if __name__ == '__main__':
    main()
