#!/usr/bin/env python3
"""Evaluate an exported models/traffic-light (reads the TF.js weights, not the PyTorch checkpoint).

  /usr/bin/python3 training/evaluate.py --model models/traffic-light --data /tmp/occ-data/test [--patch 32 --stride 16]
                                        [--pg-limit N] [--real /work/shared/dashcam] [--json OUT.json]

- accuracy on every frame of DATA (manifest.json + JPEGs from `npm run synth`);
- pointing game on frames with a light: occlusion heat-map of the true class exactly as
  /work/shared/baseline/torch_occlusion.py does it (patch origins -patch+1 .. < H/W in steps of stride,
  clipped, grey 0.5 on the full-resolution frame, then the model's preprocessing; per-pixel mean of the
  target probability over the patches covering the pixel). A hit when the minimum of that map falls in
  an evidence box: `hit_any` = some pixel attaining the minimum lies in a box; `hit_centre` = the centre
  of the minimum region's bounding box lies in a box (stricter);
- the model's predictions on real dash-cam frames (--real), true class from reference/reference.json.
"""
import argparse, json, os, sys, time
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlnet
from data import load_frame


def classify(net, batch_nhwc):
    return net(tlnet.preprocess(batch_nhwc))


def occlusion_map(net, img, cls, patch, stride, batch=96):
    h, w, _ = img.shape
    coords = [(i, j) for i in range(-patch + 1, h, stride) for j in range(-patch + 1, w, stride)]
    probs = []
    with torch.no_grad():
        for k in range(0, len(coords), batch):
            chunk = coords[k:k + batch]
            b = img.repeat(len(chunk), 1, 1, 1)
            for n, (i, j) in enumerate(chunk):
                b[n, max(i, 0):i + patch, max(j, 0):j + patch] = 0.5
            probs.append(classify(net, b)[:, cls])
    probs = torch.cat(probs).double().numpy()
    heat, count = np.zeros((h, w)), np.zeros((h, w))
    for p, (i, j) in zip(probs, coords):
        heat[max(i, 0):i + patch, max(j, 0):j + patch] += p
        count[max(i, 0):i + patch, max(j, 0):j + patch] += 1
    return heat / count


def inside(r, c, boxes):
    return any(b['left'] <= c < b['left'] + b['width'] and b['top'] <= r < b['top'] + b['height'] for b in boxes)


def pointing(heat, boxes):
    m = heat.min()
    rr, cc = np.nonzero(heat <= m + 1e-12)
    hit_any = False
    for b in boxes:
        sel = (rr >= b['top']) & (rr < b['top'] + b['height']) & (cc >= b['left']) & (cc < b['left'] + b['width'])
        if sel.any():
            hit_any = True
            break
    rc = (int(rr.min()) + int(rr.max())) // 2
    ccn = (int(cc.min()) + int(cc.max())) // 2
    return hit_any, inside(rc, ccn, boxes), (rc, ccn), float(m)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default='models/traffic-light')
    ap.add_argument('--data')
    ap.add_argument('--patch', type=int, default=32)
    ap.add_argument('--stride', type=int, default=16)
    ap.add_argument('--pg-limit', type=int, help='pointing game on the first N light frames only')
    ap.add_argument('--no-pg', action='store_true')
    ap.add_argument('--shard', default='0/1', help='K/N: pointing game on every N-th light frame starting at K (run N in parallel, then --merge)')
    ap.add_argument('--merge', nargs='+', help='merge the --json outputs of pointing-game shards')
    ap.add_argument('--real')
    ap.add_argument('--json')
    ap.add_argument('--dump-io', help='write DIR/in.f32 + DIR/out.f32 (real frames, preprocessed) for check_tfjs.mjs')
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.merge:
        parts = [json.load(open(f)) for f in a.merge]
        pg = [p['pointing_game'] for p in parts]
        n = sum(p['frames'] for p in pg)
        out = dict(parts[0])
        out['pointing_game'] = {'patch': pg[0]['patch'], 'stride': pg[0]['stride'], 'frames': n,
                                'hit_any': sum(p['hit_any'] * p['frames'] for p in pg) / n,
                                'hit_centre': sum(p['hit_centre'] * p['frames'] for p in pg) / n,
                                'misses': [m for p in pg for m in p['misses']]}
        print(json.dumps({k: v for k, v in out['pointing_game'].items() if k != 'misses'}))
        if a.json:
            json.dump(out, open(a.json, 'w'), indent=1)
        return
    net = tlnet.FoldedNet(a.model).eval()
    res = {'model': a.model}
    if a.data:
        m = json.load(open(os.path.join(a.data, 'manifest.json')))
        cases = m['cases']
        preds, probs = [], []
        t0 = time.time()
        with torch.no_grad():
            for s in range(0, len(cases), 64):
                # frames may differ in size: bring each to the model's input size first
                imgs = torch.cat([tlnet.preprocess(load_frame(os.path.join(a.data, c['image']))[None]) for c in cases[s:s + 64]])
                p = net(imgs)
                probs.append(p)
        probs = torch.cat(probs).numpy()
        y = np.array([tlnet.LABELS.index(c['class']) for c in cases])
        pred = probs.argmax(1)
        conf = np.zeros((3, 3), dtype=int)
        for t, q in zip(y, pred):
            conf[t, q] += 1
        res['data'] = a.data
        res['generator'] = m.get('generator')
        res['frames'] = len(cases)
        res['accuracy'] = float((pred == y).mean())
        res['confusion'] = conf.tolist()
        bytime = {}
        for c, t, q in zip(cases, y, pred):
            d = bytime.setdefault(c.get('time', '?'), [0, 0])
            d[0] += int(t == q)
            d[1] += 1
        res['accuracy_by_time'] = {k: round(v[0] / v[1], 4) for k, v in bytime.items()}
        bysize = {}
        for c, t, q in zip(cases, y, pred):
            if c['class'] == 'none':
                key = 'none'
            else:
                big = max(max(e['width'], e['height']) for e in c['evidence'])
                key = '<10px' if big < 10 else '10-19px' if big < 20 else '20-39px' if big < 40 else '>=40px'
            d = bysize.setdefault(key, [0, 0])
            d[0] += int(t == q)
            d[1] += 1
        res['accuracy_by_largest_light'] = {k: [round(v[0] / v[1], 4), v[1]] for k, v in sorted(bysize.items())}
        # how strongly the most visible lit lamp shows (manifest 'visibility', 0-255; see render.ts)
        byvis = {}
        for c, t, q in zip(cases, y, pred):
            if c['class'] != 'none' and c.get('visibility'):
                v = max(c['visibility'])
                key = '<60' if v < 60 else '60-99' if v < 100 else '>=100'
                d = byvis.setdefault(key, [0, 0])
                d[0] += int(t == q)
                d[1] += 1
        res['accuracy_by_lamp_visibility'] = {k: [round(v[0] / v[1], 4), v[1]] for k, v in sorted(byvis.items())}
        print(json.dumps({k: res[k] for k in ['frames', 'accuracy', 'confusion', 'accuracy_by_time', 'accuracy_by_largest_light',
                                              'accuracy_by_lamp_visibility']}), flush=True)
        if not a.no_pg:
            light = [k for k, c in enumerate(cases) if c['class'] != 'none' and c['evidence']]
            if a.pg_limit:
                light = light[:a.pg_limit]
            sk, sn = (int(v) for v in a.shard.split('/'))
            light = light[sk::sn]
            hits_any = hits_c = 0
            misses = []
            for n, k in enumerate(light):
                c = cases[k]
                img = load_frame(os.path.join(a.data, c['image']))
                heat = occlusion_map(net, img, tlnet.LABELS.index(c['class']), a.patch, a.stride)
                ha, hc, pt, mv = pointing(heat, c['evidence'])
                hits_any += ha
                hits_c += hc
                if not ha:
                    misses.append({'image': c['image'], 'class': c['class'], 'min_at': pt, 'min': mv,
                                   'predicted': tlnet.LABELS[int(pred[k])], 'evidence': c['evidence']})
                if (n + 1) % 25 == 0:
                    print(f'  pointing game {n + 1}/{len(light)}: hit_any {hits_any / (n + 1):.4f} '
                          f'hit_centre {hits_c / (n + 1):.4f} ({time.time() - t0:.0f}s)', flush=True)
            res['pointing_game'] = {'patch': a.patch, 'stride': a.stride, 'frames': len(light),
                                    'hit_any': hits_any / max(len(light), 1), 'hit_centre': hits_c / max(len(light), 1),
                                    'misses': misses}
            print(json.dumps({k: v for k, v in res['pointing_game'].items() if k != 'misses'}), flush=True)
        res['seconds'] = round(time.time() - t0, 1)
    if a.real:
        ref = json.load(open(os.path.join(a.real, 'reference', 'reference.json')))['frames']
        rows = []
        ins = []
        outs = []
        with torch.no_grad():
            for name in sorted(ref):
                img = load_frame(os.path.join(a.real, name))
                x = tlnet.preprocess(img[None])
                p = net(x)[0]
                ins.append(x.permute(0, 2, 3, 1).numpy())
                outs.append(p.numpy())
                q = int(p.argmax())
                rows.append({'frame': name, 'true': ref[name]['class'], 'predicted': tlnet.LABELS[q],
                             'probability': float(p[q]), 'probabilities': [float(v) for v in p]})
        res['real'] = rows
        print('| frame | true class | predicted | probability | p(none) p(red) p(green) |')
        print('|---|---|---|---|---|')
        for r in rows:
            print(f"| {r['frame']} | {r['true']} | {r['predicted']} | {r['probability']:.4f} | "
                  + ' '.join(f'{v:.4f}' for v in r['probabilities']) + ' |')
        if a.dump_io:
            os.makedirs(a.dump_io, exist_ok=True)
            np.concatenate(ins).astype('<f4').tofile(os.path.join(a.dump_io, 'in.f32'))
            np.stack(outs).astype('<f4').tofile(os.path.join(a.dump_io, 'out.f32'))
    if a.json:
        with open(a.json, 'w') as fh:
            json.dump(res, fh, indent=1)


if __name__ == '__main__':
    main()
