#!/usr/bin/env python3
"""Two models as one: a learned combiner on top of both (issue #18). The default model is right on generated frames
(97.9% held-out) and weak on real ones; traffic-light-coco the other way round (95.3%, 22 of 24 real). `prior.py mix`
averages them with one weight; this fits a 6 -> 3 softmax layer on both models' probabilities,
p = softmax(W [pA, pB] + b), and writes the two models and that layer as one LayersModel that occlude loads and
occludes like any other (the image goes to both branches; the second is scaled to its own input range first).

  python3 training/stack.py fit --shared ../shared --out S.json --fit val=A.jsonl,B.jsonl --fit looks=A.jsonl,B.jsonl \
      [NAME=A.jsonl,B.jsonl ...]
  python3 training/stack.py write A_DIR B_DIR S.json DST

`fit`: each X.jsonl is `occlude predict --json` of a folder of frames by model A and by model B (true classes as
`prior.py` reads them). W and b are fitted by multinomial logistic regression (float64 L-BFGS to convergence, L2
--l2 on W) on the union of the --fit sets, each frame weighing the same; the other sets are only reported. It prints
W, b and every set's accuracy, with the frames of the small sets (the real ones) it gets wrong, and writes S.json.

`write`: A_DIR and B_DIR are LayersModel folders with the same labels and the same input size and fit; their input
ranges may differ ([0, 1] and [0, 255]: a Rescaling layer takes the image to B's range). A's layers are renamed
`a_NAME` (B's keep their names), and the weights of both are copied byte for byte (B's float16 ones stay float16).
occlude.json is A's, with B's `incremental` settings (traffic-light-coco's frame gates)."""
import argparse, json, os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'pretrained'))
import graph  # noqa: E402  (read_backbone: a TF.js model's weights, split by its manifest)
import prior  # noqa: E402  (read_sets: predictions and true classes)

LABELS = ['none', 'red', 'green']


def features(sets):
    """{NAME: [rows of each model]} (prior.read_sets) -> [(NAME, x [n, 3k]: the models' probabilities side by side,
    y, files)]"""
    out = []
    for name, models in sets.items():
        x = np.array([[p[k] for _, _, p in frame for k in LABELS] for frame in zip(*models)])
        out.append((name, x, np.array([LABELS.index(t) for _, t, _ in models[0]]), [f for f, _, _ in models[0]]))
    return out


def regress(x, y, l2):
    """Multinomial logistic regression: W [k, 3] and b [3] minimising the mean cross-entropy of softmax(x W + b)
    against y, plus l2 |W|^2 (float64 L-BFGS to convergence). Returns W, b and the final loss."""
    import torch
    torch.set_default_dtype(torch.float64)
    x, y = torch.tensor(x), torch.tensor(y)
    w = torch.zeros(x.shape[1], 3, requires_grad=True)
    b = torch.zeros(3, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=5000, tolerance_grad=1e-10, tolerance_change=1e-14,
                            history_size=50, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(x @ w + b, y) + l2 * (w ** 2).sum()
        loss.backward()
        return loss
    for _ in range(5):
        loss = opt.step(closure)
    return w.detach().numpy(), b.detach().numpy(), float(loss)


def fit(a):
    fitted = features(prior.read_sets(a.shared, a.fit, 2))
    reported = features(prior.read_sets(a.shared, a.sets, 2))
    y = np.concatenate([f[2] for f in fitted])
    W, B, loss = regress(np.concatenate([f[1] for f in fitted]), y, a.l2)
    print(f'loss {loss:.6f} on {len(y)} frames ({", ".join(f[0] for f in fitted)})')
    print('W (rows: A none red green, B none red green; columns: none red green)')
    for row in W:
        print('  ' + '  '.join(f'{v:+.4f}' for v in row))
    print('b ' + '  '.join(f'{v:+.4f}' for v in B))
    for name, xs, ys, files in fitted + reported:
        z = xs @ W + B
        c = z.argmax(1)
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        print(f'{name}: {int((c == ys).sum())}/{len(ys)} ({100 * (c == ys).mean():.1f}%)'
              + (' (fitted)' if any(name == f[0] for f in fitted) else ''))
        if len(ys) <= 100:
            for f, t, cc, pp in zip(files, ys, c, p):
                if t != cc:
                    print(f'    {f} {LABELS[t]} -> {LABELS[cc]} {pp[cc]:.2f}')
    json.dump({'labels': LABELS, 'inputs': 'A none red green, B none red green', 'W': W.tolist(), 'b': B.tolist(),
               'fit': a.fit, 'l2': a.l2}, open(a.out, 'w'), indent=1)


def combiner_layer(inbound):
    """The combiner as a layer: `stack`, Dense(3, softmax) on the layer `inbound` (the models' probabilities side by
    side); its weights are stack/kernel and stack/bias."""
    return {'name': 'stack', 'class_name': 'Dense', 'config': {
        'units': 3, 'activation': 'softmax', 'use_bias': True, 'name': 'stack', 'trainable': True,
        'kernel_initializer': {'class_name': 'Zeros', 'config': {}}, 'bias_initializer': {'class_name': 'Zeros', 'config': {}},
        'kernel_regularizer': None, 'bias_regularizer': None, 'activity_regularizer': None, 'kernel_constraint': None,
        'bias_constraint': None}, 'inbound_nodes': [[[inbound, 0, 0, {}]]]}


def combiner_weights(W, b):
    """combiner_layer's weights, in float32: (their manifest entries, their bytes)."""
    kernel, bias = np.asarray(W, dtype='<f4'), np.asarray(b, dtype='<f4')
    return ([{'name': 'stack/kernel', 'shape': list(kernel.shape), 'dtype': 'float32'},
             {'name': 'stack/bias', 'shape': list(bias.shape), 'dtype': 'float32'}], [kernel.tobytes(), bias.tobytes()])


def write(a):
    ma, sa = graph.read_backbone(a.a, 'model')
    mb, sb = graph.read_backbone(a.b, 'model')
    oa = json.load(open(os.path.join(a.a, 'occlude.json')))
    ob = json.load(open(os.path.join(a.b, 'occlude.json')))
    s = json.load(open(a.stack))
    for o, d in ((oa, a.a), (ob, a.b)):
        if o['labels'] != LABELS:
            sys.exit(f'{d}: labels {o["labels"]}, expected {LABELS}')
    for k in ('size', 'fit', 'channels'):
        if oa['input'].get(k) != ob['input'].get(k):
            sys.exit(f'input {k}: {oa["input"].get(k)} in {a.a}, {ob["input"].get(k)} in {a.b}')
    (alo, ahi), (blo, bhi) = oa['input']['range'], ob['input']['range']
    if alo != 0 or blo != 0:
        sys.exit('input ranges must start at 0')
    la = ma['modelTopology']['config']
    lb = mb['modelTopology']['config']
    if la['layers'][0]['class_name'] != 'InputLayer' or lb['layers'][0]['class_name'] != 'InputLayer':
        sys.exit('each model must start with its InputLayer')
    if la['layers'][0]['config']['batch_input_shape'] != lb['layers'][0]['config']['batch_input_shape']:
        sys.exit('the two input shapes differ')
    inp = la['layers'][0]['name']
    rename = {l['name']: 'a_' + l['name'] for l in la['layers'][1:]}
    layers = [la['layers'][0]]
    for l in la['layers'][1:]:
        l = json.loads(json.dumps(l))
        l['name'] = l['config']['name'] = rename[l['name']]
        for node in l['inbound_nodes']:
            for inbound in node:
                inbound[0] = rename.get(inbound[0], inbound[0])
        layers.append(l)
    scale = bhi / ahi
    b_in = lb['layers'][0]['name']
    layers.append({'name': 'b_range', 'class_name': 'Rescaling',
                   'config': {'name': 'b_range', 'trainable': True, 'dtype': 'float32', 'scale': scale, 'offset': 0},
                   'inbound_nodes': [[[inp, 0, 0, {}]]]})
    names = {l['name'] for l in layers} | {'both', 'stack'}  # A's renamed layers, b_range, and the two added below
    for l in lb['layers'][1:]:
        l = json.loads(json.dumps(l))
        if l['name'] in names:
            sys.exit(f'{a.b}: layer {l["name"]} clashes with a layer of the combined model')
        for node in l['inbound_nodes']:
            for inbound in node:
                if inbound[0] == b_in:
                    inbound[0] = 'b_range'
        layers.append(l)
    (out_a,), (out_b,) = la['output_layers'], lb['output_layers']
    layers.append({'name': 'both', 'class_name': 'Concatenate', 'config': {'name': 'both', 'trainable': True, 'axis': -1},
                   'inbound_nodes': [[[rename[out_a[0]], 0, 0, {}], [out_b[0], 0, 0, {}]]]})
    layers.append(combiner_layer('both'))
    topo = dict(ma['modelTopology'])
    topo['config'] = {'name': 'stacked', 'layers': layers, 'input_layers': [[inp, 0, 0]], 'output_layers': [['stack', 0, 0]]}
    weights, data = [], []
    for specs, ren in ((sa, lambda n: 'a_' + n), (sb, lambda n: n)):
        for name, (spec, raw) in specs.items():
            spec = dict(spec, name=ren(name))
            weights.append(spec)
            data.append(raw)
    if np.shape(s['W']) != (6, 3) or np.shape(s['b']) != (3,):
        sys.exit(f'{a.stack}: expected W of 6 rows of 3 and b of 3')
    stack_specs, stack_data = combiner_weights(s['W'], s['b'])
    weights += stack_specs
    data += stack_data
    os.makedirs(a.dst, exist_ok=True)
    model = {'format': 'layers-model', 'generatedBy': 'occlude training/stack.py', 'convertedBy': None,
             'modelTopology': topo, 'weightsManifest': [{'paths': ['weights.bin'], 'weights': weights}]}
    json.dump(model, open(os.path.join(a.dst, 'model.json'), 'w'))
    open(os.path.join(a.dst, 'weights.bin'), 'wb').write(b''.join(data))
    o = dict(oa)
    if 'incremental' in ob:
        o['incremental'] = ob['incremental']
    json.dump(o, open(os.path.join(a.dst, 'occlude.json'), 'w'), indent=2)
    print(f'{a.dst}: {len(layers)} layers, {sum(len(d) for d in data)} bytes of weights')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    f = sub.add_parser('fit')
    f.add_argument('--shared', default='../shared')
    f.add_argument('--fit', action='append', required=True, metavar='NAME=A.jsonl,B.jsonl')
    f.add_argument('--l2', type=float, default=1e-3)
    f.add_argument('--out', required=True)
    f.add_argument('sets', nargs='*', metavar='NAME=A.jsonl,B.jsonl')
    w = sub.add_parser('write')
    w.add_argument('a')
    w.add_argument('b')
    w.add_argument('stack')
    w.add_argument('dst')
    a = ap.parse_args()
    {'fit': fit, 'write': write}[a.cmd](a)


if __name__ == '__main__':
    main()
