#!/usr/bin/env python3
"""A lower prior of `none`: p'(c) proportional to p(c) * exp(-d [c = none]), the same as lowering the final
layer's `none` bias by d (exactly so for one softmax head). Issue #18: on real frames the models call lit lamps
`none` more often than on generated ones; this measures how far a shifted prior moves that, and what it costs.

  python3 training/prior.py curve --shared ../shared --choose val NAME=PRED.jsonl ...
  python3 training/prior.py write SRC DST D
  python3 training/prior.py mix --shared ../shared --choose val NAME=A.jsonl,B.jsonl ...

`curve`: each PRED.jsonl is `occlude predict --json` of a folder of frames. A frame's true class comes from the
manifest.json beside it (generated sets, ../shared/realval) or, by file name, from ../shared/realval's manifest and
../shared/dashcam/reference/reference.json (the dash-cam frames, and copies of the real frames such as mirrored ones).
It prints the accuracy of every set for d = 0, 0.1, ..., 4.0, and the d chosen on the set named by --choose alone: the
largest d whose accuracy there is at least the unshifted accuracy minus --tolerance points (default 0.3). Then the
frames each set gets wrong at d = 0 and at the chosen d.

`mix`: two models' predictions of the same sets, averaged: p = w * A + (1 - w) * B. It prints every set's accuracy
for w = 0, 0.1, ..., 1, takes the w with the most right answers on the --choose set alone (ties to the larger w), and
then gives `curve` of that mixture.

`write`: copies the LayersModel folder SRC to DST with D taken off the `none` bias of every 3-unit Dense layer that a
softmax follows (its own activation, or an Activation layer after it): the default model has one, traffic-light-coco
two (one per head, before their probabilities are averaged, so there the shift is not exactly the `curve` one)."""
import argparse, json, math, os, shutil, sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'pretrained'))
import graph  # noqa: E402  (read_backbone: a TF.js model's weights, split by its manifest)


def truths(shared):
    t = {c['image']: c['class'] for c in json.load(open(os.path.join(shared, 'realval', 'manifest.json')))['cases']}
    ref = json.load(open(os.path.join(shared, 'dashcam', 'reference', 'reference.json')))
    for k, v in ref['frames'].items():
        t[os.path.basename(v.get('image', k))] = v.get('true_class', v.get('class'))  # as real_frames.mjs reads it
    return t


def load(path, shared_truth):
    rows, images, manifests = [], [], {}
    for line in open(path):
        r = json.loads(line)
        if 'probabilities' not in r:
            sys.exit(f'{path}: a line without probabilities (a failed frame?): {line.strip()[:200]}')
        folder, name = os.path.split(r['image'])
        if folder not in manifests:
            m = os.path.join(folder, 'manifest.json')
            manifests[folder] = {c['image']: c['class'] for c in json.load(open(m))['cases']} if os.path.exists(m) else {}
        truth = manifests[folder].get(name, shared_truth.get(name))
        if truth is None:
            sys.exit(f'{path}: no true class for {r["image"]}')
        rows.append((name, truth, r['probabilities']))
        images.append(r['image'])
    if not rows:
        sys.exit(f'{path}: no predictions')
    return rows, images


def shifted(p, d):
    q = dict(p)
    q['none'] *= math.exp(-d)
    s = sum(q.values())
    c = max(q, key=q.get)
    return c, q[c] / s


def right(rows, d):
    return sum(shifted(p, d)[0] == t for _, t, p in rows)


def read_sets(shared, specs, paths_per_set):
    """NAME=PATH[,PATH...] arguments -> {NAME: [rows of each PATH]}; the files of one set must list the same frames."""
    shared_truth = truths(shared)
    sets = {}
    for s in specs:
        name, paths = s.split('=', 1)
        loaded = [load(p, shared_truth) for p in paths.split(',')]
        if len(loaded) != paths_per_set:
            sys.exit(f'{s}: expected {paths_per_set} prediction file(s)')
        if any(images != loaded[0][1] for _, images in loaded[1:]):  # full paths: generated sets share file names
            sys.exit(f'{s}: the prediction files are not of the same frames in the same order')
        sets[name] = [rows for rows, _ in loaded]
    return sets


def named(a, paths_per_set):
    """read_sets of the NAME=PATH[,PATH...] arguments, with --choose among the names."""
    sets = read_sets(a.shared, a.sets, paths_per_set)
    if a.choose not in sets:
        sys.exit(f'--choose {a.choose}: no set of that name')
    return sets


def mixed(a, b, w):
    """p = w * a + (1 - w) * b, frame by frame (`named` checked that they list the same frames in the same order)."""
    return [(f, t, {k: w * pa[k] + (1 - w) * pb[k] for k in pa}) for (f, t, pa), (_, _, pb) in zip(a, b)]


def mix(a):
    pairs = named(a, 2)
    grid = [i / 10 for i in range(11)]
    counts = {n: [right(mixed(ra, rb, w), 0) for w in grid] for n, (ra, rb) in pairs.items()}
    print('w    ' + '  '.join(f'{n} ({len(r[0])})' for n, r in pairs.items()))
    for i, w in enumerate(grid):
        print(f'{w:.1f}  ' + '  '.join(f'{counts[n][i]} ({100 * counts[n][i] / len(pairs[n][0]):.1f}%)' for n in pairs))
    wi = max(range(len(grid)), key=lambda i: (counts[a.choose][i], i))
    print(f'\nw chosen on {a.choose} alone (the most right; ties to the larger w): w = {grid[wi]:.1f}; '
          f'the `none` prior of the mixture:\n')
    curve(a, {n: mixed(ra, rb, grid[wi]) for n, (ra, rb) in pairs.items()})


GRID = [i / 10 for i in range(41)]  # d = 0, 0.1, ..., 4.0


def choose(pct, tolerance):
    """The index in GRID of the largest d whose accuracy pct(i), in percent, is at least pct(0) minus tolerance points."""
    return max(i for i in range(len(GRID)) if pct(i) >= pct(0) - tolerance - 1e-9)


def curve(a, sets=None):
    if sets is None:
        sets = {n: r[0] for n, r in named(a, 1).items()}
    grid = GRID
    counts = {n: [right(r, d) for d in grid] for n, r in sets.items()}
    pct = lambda n, i: 100 * counts[n][i] / len(sets[n])  # noqa: E731
    print('d    ' + '  '.join(f'{n} ({len(r)})' for n, r in sets.items()))
    for i, d in enumerate(grid):
        print(f'{d:.1f}  ' + '  '.join(f'{counts[n][i]} ({pct(n, i):.1f}%)' for n in sets))
    ci = choose(lambda i: pct(a.choose, i), a.tolerance)
    chosen = grid[ci]
    print(f'\nchosen on {a.choose} alone (the largest d within {a.tolerance} points of d = 0): d = {chosen:.1f}')
    print('  ' + ', '.join(f'{n} {counts[n][ci]}/{len(r)}' for n, r in sets.items()))
    for n, r in sets.items():
        if len(r) > 100:
            continue
        for d in (0, chosen):
            wrong = [f'{f} {t}->{c} {q:.2f}' for f, t, p in r for c, q in [shifted(p, d)] if c != t]
            print(f'{n} at d = {d:.1f}, wrong {len(wrong)}: ' + '; '.join(wrong))


def write(a):
    model, specs = graph.read_backbone(a.src, 'model')  # model.json, and each weight's bytes by its manifest
    labels = json.load(open(os.path.join(a.src, 'occlude.json')))['labels']
    if labels[0] != 'none':
        sys.exit(f'{a.src}: the first label is {labels[0]!r}, not none')
    topo = model['modelTopology']
    layers = (topo.get('model_config') or topo)['config']['layers']
    feeds = {}
    for layer in layers:
        for node in layer.get('inbound_nodes', []):
            for inbound in node:
                feeds.setdefault(inbound[0], []).append(layer)
    targets = []
    for layer in layers:
        c = layer['config']
        if layer['class_name'] != 'Dense' or c.get('units') != 3:
            continue
        if c.get('activation') == 'softmax' or any(
                n['class_name'] == 'Activation' and n['config'].get('activation') == 'softmax' for n in feeds.get(c['name'], [])):
            targets.append(c['name'] + '/bias')
    if not targets:
        sys.exit(f'{a.src}: no 3-unit Dense layer followed by a softmax')
    if len(model['weightsManifest']) != 1 or model['weightsManifest'][0]['paths'] != ['weights.bin']:
        sys.exit(f'{a.src}: expected one weights.bin')
    for name in targets:
        w, raw = specs[name]
        if w.get('quantization') or w['dtype'] != 'float32':
            sys.exit(f'{a.src}: {name} is not plain float32')
        b = np.frombuffer(raw, dtype='<f4').copy()
        print(f'{name}: {b.tolist()} -> ', end='')
        b[0] -= a.d
        print(b.tolist())
        specs[name] = (w, b.astype('<f4').tobytes())
    shutil.copytree(a.src, a.dst, dirs_exist_ok=True)
    open(os.path.join(a.dst, 'weights.bin'), 'wb').write(b''.join(raw for _, raw in specs.values()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    sets = argparse.ArgumentParser(add_help=False)  # what curve and mix both read
    sets.add_argument('--shared', default='../shared')
    sets.add_argument('--choose', required=True, help='the set d (and w) are chosen on (generated validation frames)')
    sets.add_argument('--tolerance', type=float, default=0.3)
    sub.add_parser('curve', parents=[sets]).add_argument('sets', nargs='+', metavar='NAME=PRED.jsonl')
    sub.add_parser('mix', parents=[sets]).add_argument('sets', nargs='+', metavar='NAME=A.jsonl,B.jsonl')
    w = sub.add_parser('write')
    w.add_argument('src')
    w.add_argument('dst')
    w.add_argument('d', type=float)
    a = ap.parse_args()
    {'curve': curve, 'mix': mix, 'write': write}[a.cmd](a)


if __name__ == '__main__':
    main()
