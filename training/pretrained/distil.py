#!/usr/bin/env python3
"""Distil the frozen backbone of traffic-light-coco into a small local network (an experiment for #18).

The student sees the generated frames (features.mjs' uint8 caches, 455x256) and learns to give the
backbone's two maps: stride 8 (32 channels) and stride 16 (88 channels), each channel standardised by its
mean and spread over the training features. A small cross-entropy term runs the student's maps through the
shipped head (frozen, read from models/traffic-light-coco), so that the parts of the maps the head reads are
the ones kept best. The student has no squeeze-and-excitation and no global operation before the head, so
the incremental engine runs it: 1.63 times the default model's cost on the README example. Measured
(training/README.md, 2026-11-30, third session): 17 of 24 real frames, no better than the default; not shipped.

  python3 training/pretrained/distil.py --set T.npy,F/train,DIR,N [--set ...] --val-npy V.npy --val-features F/val \
      --val DIR --head ONE_HEAD_MODEL --out OUT [--real ../shared]

ONE_HEAD_MODEL: the one-head traffic-light-coco these experiments used (`head.py --seed 1 --out DIR`, the
seed-1 head of the shipped model).

--real logs the class the student and the frozen head give each of the 24 real frames (validation only: the
frames are read, never trained on; resized by PIL, so occlude's own count, training/real_frames.mjs, is the one
to report)."""
import argparse, csv, json, os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
from head import Head, load_features, labels, one_cycle, same, C8, C16, LABELS  # noqa: E402
from runlog import open_log  # noqa: E402

# (name, filters, kernel, stride, padding); 'pool' is a 2x2 max pool; 'f8' / 'f16' are 1x1 linear projections
STUDENT = [
    ('conv1', 24, 3, 2, 'same'),
    ('conv2', 48, 2, 2, 'valid'),
    'pool',
    ('conv3', 64, 3, 1, 'same'),
    ('conv4', 64, 3, 1, 'same'),
    'f8',
    ('conv5', 96, 3, 2, 'same'),
    ('conv6', 96, 3, 1, 'same'),
    ('conv7', 96, 3, 1, 'same'),
    'f16',
]


class Student(nn.Module):
    def __init__(self):
        super().__init__()
        cin = 3
        for s in STUDENT:
            if isinstance(s, tuple):
                name, f, k, st, _ = s
                setattr(self, name, nn.Conv2d(cin, f, k, st, bias=False))
                setattr(self, name + '_bn', nn.BatchNorm2d(f))
                cin = f
        self.f8 = nn.Conv2d(64, C8, 1)
        self.f16 = nn.Conv2d(96, C16, 1)

    def forward(self, x):  # NCHW in [0,1] -> (f8, f16) standardised
        out = {}
        for s in STUDENT:
            if s == 'pool':
                x = F.max_pool2d(x, 2)
            elif s in ('f8', 'f16'):
                out[s] = getattr(self, s)(x)
            else:
                name, _, k, st, pad = s
                if pad == 'same':
                    x = same(x, k, st)
                x = F.relu(getattr(self, name + '_bn')(getattr(self, name)(x)))
        return out['f8'], out['f16']


def export_tfjs(net, head, norm, out_dir):
    """The student and the head as one TF.js LayersModel (BatchNorm and the maps' standardisation folded
    into the convolutions), input [N, H, 455, 3] in [0, 1], any height (fit width)."""
    from tlnet import _layer, _fold, INIT as init
    layers = [_layer('image', 'InputLayer', {'batch_input_shape': [None, None, 455, 3], 'dtype': 'float32', 'sparse': False}, [])]
    params = []

    def conv(name, w, b, k, st, pad, act, src):
        layers.append(_layer(name, 'Conv2D', dict({'filters': int(w.shape[0]), 'kernel_size': [k, k], 'strides': [st, st],
                                                   'padding': pad, 'data_format': 'channels_last', 'dilation_rate': [1, 1],
                                                   'activation': act, 'use_bias': True}, **init), [src]))
        params.extend([(name + '/kernel', w.detach().permute(2, 3, 1, 0)), (name + '/bias', b.detach())])
        return name

    prev = 'image'
    for s in STUDENT:
        if s == 'pool':
            layers.append(_layer('pool', 'MaxPooling2D', {'pool_size': [2, 2], 'strides': [2, 2], 'padding': 'valid', 'data_format': 'channels_last'}, [prev]))
            prev = 'pool'
        elif s in ('f8', 'f16'):
            m, sd = (norm['m8'], norm['s8']) if s == 'f8' else (norm['m16'], norm['s16'])
            c = getattr(net, s)
            conv(s, c.weight * sd.view(-1, 1, 1, 1), c.bias * sd + m, 1, 1, 'valid', 'linear', prev)
        else:
            name, _, k, st, pad = s
            w, b = _fold(getattr(net, name).weight, None, getattr(net, name + '_bn'))
            prev = conv(name, w, b, k, st, pad, 'relu', prev)
    conv('head_a', head.a.weight, head.a.bias, 3, 2, 'same', 'relu', 'f8')
    layers.append(_layer('head_concat', 'Concatenate', {'axis': -1}, ['head_a', 'f16']))
    conv('head_b', head.b.weight, head.b.bias, 3, 1, 'same', 'relu', 'head_concat')
    conv('head_c', head.c.weight, head.c.bias, 1, 1, 'valid', 'relu', 'head_b')
    layers += [_layer('gmp', 'GlobalMaxPooling2D', {'data_format': 'channels_last'}, ['head_c']),
               _layer('gap', 'GlobalAveragePooling2D', {'data_format': 'channels_last'}, ['head_c']),
               _layer('pooled', 'Concatenate', {'axis': -1}, ['gmp', 'gap']),
               _layer('fc', 'Dense', dict({'units': 3, 'activation': 'softmax', 'use_bias': True}, **init), ['pooled'])]
    params += [('fc/kernel', head.fc.weight.detach().t()), ('fc/bias', head.fc.bias.detach())]
    params = [(k, v.contiguous().numpy().astype('<f4')) for k, v in params]
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'weights.bin'), 'wb') as fh:
        for _, v in params:
            fh.write(v.tobytes())
    topology = {'class_name': 'Model', 'config': {'name': 'tl_distil', 'layers': layers, 'input_layers': [['image', 0, 0]],
                                                   'output_layers': [['fc', 0, 0]]},
                'keras_version': 'tfjs-layers 4.22.0', 'backend': 'tensor_flow.js'}
    with open(os.path.join(out_dir, 'model.json'), 'w') as fh:
        json.dump({'format': 'layers-model', 'generatedBy': 'occlude training/pretrained/distil.py', 'convertedBy': None,
                   'modelTopology': topology, 'weightsManifest': [{'paths': ['weights.bin'], 'weights': [
                       {'name': k, 'shape': list(v.shape), 'dtype': 'float32'} for k, v in params]}]}, fh, separators=(',', ':'))
    with open(os.path.join(out_dir, 'occlude.json'), 'w') as fh:
        json.dump({'labels': LABELS, 'input': {'size': [256, 455], 'fit': 'width', 'range': [0, 1], 'channels': 'rgb'}}, fh, indent=2)
        fh.write('\n')
    return sum(v.nbytes for _, v in params)


def head_from_graph(model_dir, width=128):
    """The head's weights, read back from a one-head GraphModel graph.py wrote (`head.py --seed S`). The
    shipped traffic-light-coco has two heads (`occlude/head1/`, `occlude/head2/`) since these experiments:
    rebuild the one-head model they used with `head.py --seed 1` and pass that folder."""
    m = json.load(open(os.path.join(model_dir, 'model.json')))
    data = open(os.path.join(model_dir, m['weightsManifest'][0]['paths'][0]), 'rb').read()
    arrays, off = {}, 0
    for w in (w for g in m['weightsManifest'] for w in g['weights']):
        size = {'float32': 4, 'int32': 4, 'float16': 2}[(w.get('quantization') or w)['dtype']]
        n = int(np.prod(w['shape'])) if w['shape'] else 1
        if w['name'].startswith('occlude/head/') and size == 4 and w['dtype'] == 'float32':
            arrays[w['name'][len('occlude/head/'):]] = np.frombuffer(data, '<f4', n, off).reshape(w['shape'])
        off += n * size
    if not arrays:
        raise SystemExit(f'{model_dir}: no one-head graph (no occlude/head/ weights); build one with head.py --seed 1')
    h = Head(width)
    oihw = lambda a: torch.from_numpy(a.copy()).permute(3, 2, 0, 1).contiguous()  # noqa: E731
    with torch.no_grad():
        for k in 'abc':
            getattr(h, k).weight.copy_(oihw(arrays[f'{k}/weights']))
            getattr(h, k).bias.copy_(torch.from_numpy(arrays[f'{k}/bias'].copy()))
        h.fc.weight.copy_(torch.from_numpy(arrays['fc/weights'].copy()).t())
        h.fc.bias.copy_(torch.from_numpy(arrays['fc/bias'].copy()))
    return h.eval()


def real_frames(shared):
    """(path, true class) of the 24 real frames: realval (labels.csv), then dash-cam (reference.json)."""
    rows = [(os.path.join(shared, 'realval', r['image']), r['class']) for r in csv.DictReader(open(os.path.join(shared, 'realval', 'labels.csv')))]
    ref = json.load(open(os.path.join(shared, 'dashcam', 'reference', 'reference.json')))
    return rows + [(os.path.join(shared, 'dashcam', k), v['class']) for k, v in ref.get('frames', ref).items()]


def load_real(path, width=455):
    from PIL import Image
    im = Image.open(path).convert('RGB')
    h = max(1, round(im.height * width / im.width))
    im = im.resize((width, h), Image.BILINEAR, reducing_gap=None)
    return torch.from_numpy(np.asarray(im, dtype=np.float32) / 255).permute(2, 0, 1)[None]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--set', action='append', required=True, metavar='NPY,FEATURES,DIR,N',
                    help='a training set: the uint8 frame cache, the prefix of its backbone maps (features.mjs), '
                         'the frames folder (labels), how many frames; repeat for several sets')
    ap.add_argument('--val-features', required=True, help='prefix of the validation frames\' backbone maps')
    ap.add_argument('--val-npy', required=True)
    ap.add_argument('--val', required=True)
    ap.add_argument('--head', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--epochs', type=int, default=6)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--ce', type=float, default=0.1, help='weight of the cross-entropy through the frozen head')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--bf16', action='store_true')
    ap.add_argument('--real', help='the shared folder: score the real frames (validation only)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--init', help='start from this student.pt (the first set must be the one it was standardised on)')
    ap.add_argument('--export-only', action='store_true', help='export OUT/student.pt and OUT/norm.pt to OUT/model (no training)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    if a.export_only:
        net = Student()
        net.load_state_dict(torch.load(os.path.join(a.out, 'student.pt')))
        net.eval()
        size = export_tfjs(net, head_from_graph(a.head), torch.load(os.path.join(a.out, 'norm.pt')), os.path.join(a.out, 'model'))
        print(f'exported {a.out}/model ({size} bytes of weights)')
        return
    log = open_log(a.out)
    log('command: ' + ' '.join(sys.argv))
    t0 = time.time()
    sets = []
    for spec in a.set:
        npy, prefix, d, n = spec.split(',')
        x = np.load(npy, mmap_mode='r')
        f8, f16 = load_features(prefix, len(x))  # features.mjs maps every frame of the cache
        sets.append((x, f8[:int(n)], f16[:int(n)], labels(d, int(n))))
    # one index over all sets: (set, row)
    where = [(k, i) for k, s in enumerate(sets) for i in range(len(s[3]))]
    n_train = len(where)
    tr8 = torch.cat([s[1] for s in sets])
    tr16 = torch.cat([s[2] for s in sets])
    ytr = torch.cat([s[3] for s in sets])
    xva = np.load(a.val_npy, mmap_mode='r')
    va8, va16 = load_features(a.val_features, 1000)
    yva = labels(a.val, 1000)
    # per-channel mean and spread of the backbone's maps, from 1000 training frames
    m8, s8 = [v.view(1, -1, 1, 1) for v in (tr8[:1000].float().mean((0, 2, 3)), tr8[:1000].float().std((0, 2, 3)) + 1e-3)]
    m16, s16 = [v.view(1, -1, 1, 1) for v in (tr16[:1000].float().mean((0, 2, 3)), tr16[:1000].float().std((0, 2, 3)) + 1e-3)]
    standard = lambda t8, t16: ((t8.float() - m8) / s8, (t16.float() - m16) / s16)  # noqa: E731  backbone units -> loss units
    units = lambda f8, f16: (f8 * s8 + m8, f16 * s16 + m16)  # noqa: E731  and back, for the head
    log(f'data loaded in {time.time() - t0:.0f}s: {n_train} frames in {len(sets)} sets, maps {tuple(tr8.shape)} {tuple(tr16.shape)}')
    head = head_from_graph(a.head)
    for p in head.parameters():
        p.requires_grad_(False)
    net = Student()
    if a.init:
        net.load_state_dict(torch.load(a.init))
    log(f'student parameters: {sum(p.numel() for p in net.parameters())}')

    def frames(rows):  # uint8 NHWC rows -> NCHW in [0, 1]
        return torch.from_numpy(np.stack(rows)).permute(0, 3, 1, 2).float().div_(255)

    def evaluate(bs=100):  # validation: the maps' error (loss units) and the frozen head's accuracy on the student's maps
        net.eval()
        err8 = err16 = 0.0
        pred = []
        with torch.no_grad():
            for s in range(0, len(yva), bs):
                idx = list(range(s, min(len(yva), s + bs)))
                f8, f16 = net(frames([xva[i] for i in idx]))
                t8, t16 = standard(va8[idx], va16[idx])
                err8 += float(((t8 - f8) ** 2).mean()) * len(idx)
                err16 += float(((t16 - f16) ** 2).mean()) * len(idx)
                pred.append(head(*units(f8, f16)).argmax(1))
        return err8 / len(yva), err16 / len(yva), float((torch.cat(pred) == yva).float().mean())

    opt, sched = one_cycle(net, a.lr, 1e-4, a.epochs, n_train, a.batch, 0.1)
    for ep in range(a.epochs):
        net.train()
        te = time.time()
        perm = torch.randperm(n_train)
        tot = totce = 0.0
        for s in range(0, n_train, a.batch):
            idx = perm[s:s + a.batch].sort().values.tolist()
            x = frames([sets[where[i][0]][0][where[i][1]] for i in idx])
            t8, t16 = standard(tr8[idx], tr16[idx])
            if torch.rand(1) < 0.5:  # mirrored frames against mirrored maps (roughly: the backbone is not exactly symmetric)
                x, t8, t16 = x.flip(3), t8.flip(3), t16.flip(3)
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16):
                f8, f16 = net(x)
            f8, f16 = f8.float(), f16.float()
            loss = F.mse_loss(f8, t8) + F.mse_loss(f16, t16)
            ce = F.cross_entropy(head(*units(f8, f16)), ytr[idx])
            opt.zero_grad()
            (loss + a.ce * ce).backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(idx)
            totce += float(ce) * len(idx)
        e8, e16, acc = evaluate()
        log(f'epoch {ep + 1}/{a.epochs}  train mse {tot / n_train:.4f} ce {totce / n_train:.4f}  '
            f'val mse f8 {e8:.4f} f16 {e16:.4f}  val acc (frozen head) {acc:.4f}  ({time.time() - te:.0f}s)')
        torch.save(net.state_dict(), os.path.join(a.out, 'student.pt'))
    torch.save({'m8': m8.flatten(), 's8': s8.flatten(), 'm16': m16.flatten(), 's16': s16.flatten()}, os.path.join(a.out, 'norm.pt'))
    if a.real:
        net.eval()
        rows = real_frames(a.real)
        right = 0
        with torch.no_grad():
            for path, true in rows:
                p = F.softmax(head(*units(*net(load_real(path)))), 1)[0]
                k = int(p.argmax())
                right += LABELS[k] == true
                log(f'real {os.path.basename(path)}: true {true}, student {LABELS[k]} {float(p[k]):.3f}')
        log(f'real frames right (student + frozen head, PIL bilinear resize): {right}/{len(rows)}')
    size = export_tfjs(net, head, torch.load(os.path.join(a.out, 'norm.pt')), os.path.join(a.out, 'model'))
    log(f'exported the TF.js LayersModel to {a.out}/model ({size} bytes of weights); total time {time.time() - t0:.0f}s')


if __name__ == '__main__':
    main()
