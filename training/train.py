#!/usr/bin/env python3
"""Train TLNet on synth frames and export models/traffic-light (TF.js LayersModel + occlude.json).

  /usr/bin/python3 training/train.py --train /tmp/occ-data/train --val /tmp/occ-data/val --out models/traffic-light

Deterministic for a given data set, seed and thread count (torch.set_num_threads(2)).
Writes OUT/training-log.txt with per-epoch accuracy and the final held-out numbers.
"""
import argparse, math, os, sys, time
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tlnet
from data import load_set
from runlog import open_log


# NHWC ("channels last") activations throughout: the batches come from NHWC uint8 arrays, and
# PyTorch's CPU convolutions with few channels are fastest in that layout.
CL = torch.channels_last
# in the per-cell loss, cells with a light are rare (a few of conv5's 8x14 cells): weigh them up
CELL_CLASS_WEIGHT = torch.tensor([1.0, 3.0, 3.0])


def soft_kl(weight, logits, target, T):
    """weight * T^2 * KL(target || softmax(logits / T)): the distillation term (Hinton et al. 2015),
    for --teachers and --peers alike; the T^2 keeps its gradients on the scale of the hard loss."""
    return weight * T * T * F.kl_div(F.log_softmax(logits / T, 1), target, reduction='batchmean')


def evaluate(net, x, y, bs=128):
    net.eval()
    preds = []
    with torch.no_grad():
        for s in range(0, len(x), bs):
            xb = (torch.from_numpy(x[s:s + bs]).permute(0, 3, 1, 2).float() / 255).contiguous(memory_format=CL)
            preds.append(net(xb).argmax(1))
    p = torch.cat(preds).numpy()
    conf = np.zeros((3, 3), dtype=int)
    for t, q in zip(y, p):
        conf[t, q] += 1
    return float((p == y).mean()), conf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--train', required=True)
    ap.add_argument('--val', required=True)
    ap.add_argument('--out', default='models/traffic-light')
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--limit', type=int)
    ap.add_argument('--crop-epochs', type=int, default=24, help='first train on crops around lights / without lights')
    ap.add_argument('--crop', default='128x192', help='crop HxW at the model input scale')
    ap.add_argument('--cell-weight', type=float, default=0.5,
                    help='weight of the per-cell loss on conv5 (boxes of the lights as targets); 0 turns it off')
    ap.add_argument('--small-boost', type=float, default=0,
                    help='crop phase: frames whose largest light is under 20 px are drawn 1+B times as often')
    ap.add_argument('--hard-neg', type=float, default=0,
                    help='crop phase: this share of the light-free crops is centred on a saturated red or green spot outside the lights')
    ap.add_argument('--ema', default='', help='comma-separated decays: also keep exponential moving averages of the weights '
                    '(and BatchNorm statistics) through the whole-frame phase, exported to OUT/ema-DECAY')
    ap.add_argument('--swa', type=int, default=0,
                    help='after the frame phase, N more whole-frame epochs at the constant rate --swa-lr, averaging the '
                         'weights every --swa-every steps (stochastic weight averaging); the average is exported, with its '
                         'BatchNorm statistics recomputed, and the model before it to OUT/pre-swa')
    ap.add_argument('--swa-lr', type=float, default=3e-4)
    ap.add_argument('--swa-every', type=int, default=30)
    ap.add_argument('--head', default='pool', choices=tlnet.HEADS, help="classifier head (see tlnet.TLNet)")
    ap.add_argument('--trunk', default='pool', choices=list(tlnet.TRUNKS), help='convolution layers (see tlnet.TRUNKS)')
    ap.add_argument('--width', type=float, default=1.0, help='multiply every layer\'s filters (the shipped model: 1.5)')
    ap.add_argument('--peers', type=int, default=0, choices=[0, 2],
                    help='co-distillation: train two nets side by side, one process (and --threads threads) each, on '
                         'the same batches; each also learns the other\'s softened predictions. Writes OUT/peer-0, OUT/peer-1')
    ap.add_argument('--peer-weight', type=float, default=1.0)
    ap.add_argument('--peer-temp', type=float, default=2.0)
    ap.add_argument('--bf16', action='store_true',
                    help='training forward passes in bfloat16 (torch.autocast on the CPU; weights, loss and '
                         'evaluation stay float32); on this machine (AVX512-BF16) whole-frame steps are about 3 times, '
                         'a whole training about 1.4 times as fast')
    ap.add_argument('--teachers', default='',
                    help='comma-separated exported model folders: distillation, the net also learns the mean of '
                         'their softened predictions on each augmented batch (--distill-weight, --distill-temp)')
    ap.add_argument('--distill-weight', type=float, default=0.5,
                    help='share of the distillation term; the label term keeps 1 - this')
    ap.add_argument('--distill-temp', type=float, default=2.0)
    ap.add_argument('--saturation', default='',
                    help='LO,HI: augmentation also scales each frame\'s colour saturation by a factor drawn from '
                         '[LO, HI] (cameras differ in it; real lamps often come out paler than drawn ones)')
    ap.add_argument('--stretch', type=float, default=0,
                    help='S > 1: half the samples are stretched horizontally by a factor drawn from [1, S] (a window of '
                         'the frame, narrower by that factor and holding every light of the frame\'s class, resized to '
                         'the full width), as a 4:3 camera\'s frame is when resized to the model\'s 16:9 input')
    ap.add_argument('--occlude', type=float, default=0,
                    help='P: this share of the samples gets one grey square (0.5, occlude\'s default fill) of 16-64 px, '
                         'as occlusion draws them: off every light (label kept), or, for --occlude-on of them, over '
                         'a whole light (label none once no light of the frame\'s class is left visible). Teaches the '
                         'net that a grey patch is not evidence by itself, so that its map\'s minimum sits on the lamp')
    ap.add_argument('--occlude-on', type=float, default=0.3)
    ap.add_argument('--init', default='',
                    help='start from an exported model folder (fine-tuning): its folded convolutions are loaded, and '
                         'each BatchNorm is set to pass its convolution\'s output through unchanged on the training frames')
    a = ap.parse_args()
    if not a.peers:
        return train(a)
    ctx = torch.multiprocessing.get_context('fork')
    buf = torch.zeros(2, 256, 4).share_memory_()  # per peer: 3 logits + the label, for each sample of a batch
    barrier = ctx.Barrier(2, timeout=600)  # a peer that dies breaks the barrier instead of hanging the other
    procs = [ctx.Process(target=train, args=(a, (r, buf, barrier))) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    sys.exit(max(p.exitcode for p in procs))


def init_from(net, model_dir, xt, log, n=256):
    """Load an exported (BatchNorm-folded) model into a TLNet: the folded kernels and biases go into
    the convolutions, and each BatchNorm gets the mean and variance of its convolution's output on n
    training frames as running statistics and as its shift and scale, so that it passes that output
    through unchanged (in training mode too, up to the batch's own statistics). The dense layer is
    loaded as is; the training-only per-cell head starts fresh."""
    src = tlnet.FoldedNet(model_dir)
    assert net.head == 'pool' and src.head == 'pool', '--init: pool head only'
    stats = {}
    with torch.no_grad():
        for (k, b), l in zip(src.k, tlnet.LAYERS):
            getattr(net, l[0]).weight.copy_(k)
            getattr(net, l[0]).bias.copy_(b)
        net.fc.weight.copy_(src.fw)
        net.fc.bias.copy_(src.fb)
        hooks = []
        for l in tlnet.LAYERS:
            def hook(m, i, o, name=l[0]):
                o = o.float()
                stats.setdefault(name, []).append((o.mean((0, 2, 3)), o.var((0, 2, 3), unbiased=False)))
            hooks.append(getattr(net, l[0]).register_forward_hook(hook))
        bns = [getattr(net, 'bn' + l[0][4:]) for l in tlnet.LAYERS]
        for bn in bns:  # identity while the statistics are gathered
            bn.eval()
            bn.running_mean.zero_(); bn.running_var.fill_(1 - bn.eps); bn.weight.fill_(1); bn.bias.zero_()
        for s in range(0, min(n, len(xt)), 32):
            net.features(torch.from_numpy(xt[s:s + 32]).permute(0, 3, 1, 2).float().div(255).contiguous(memory_format=CL))
        for h in hooks:
            h.remove()
        for l, bn in zip(tlnet.LAYERS, bns):
            mu = torch.stack([m for m, _ in stats[l[0]]]).mean(0)
            var = torch.stack([v for _, v in stats[l[0]]]).mean(0)
            bn.running_mean.copy_(mu); bn.running_var.copy_(var)
            bn.weight.copy_((var + bn.eps).sqrt()); bn.bias.copy_(mu)
    log(f'initialised from {model_dir} (BatchNorm statistics from {n} training frames)')


def train(a, peer=None):
    """peer: (rank, shared buffer, barrier) when co-distilling; the two peers draw the same batches
    (same data seed), start from different weights and exchange their logits at every step."""
    tlnet.set_trunk(a.trunk, a.width)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed + (1000 * peer[0] if peer else 0))
    rng = np.random.default_rng(a.seed)
    noise_gen = torch.Generator().manual_seed(a.seed)
    if peer:
        a.out = os.path.join(a.out, f'peer-{peer[0]}')
    log = open_log(a.out)

    t0 = time.time()
    log(f'command: /usr/bin/python3 training/train.py ' + ' '.join(sys.argv[1:]))
    log(f'torch {torch.__version__}, threads {a.threads}, seed {a.seed}')
    xt, yt, cases_t = load_set(a.train, a.limit, log=lambda m: print(m, flush=True))
    xv, yv, _ = load_set(a.val, log=lambda m: print(m, flush=True))
    log(f'train {len(xt)} frames {np.bincount(yt, minlength=3).tolist()} (none/red/green), '
        f'val {len(xv)} frames {np.bincount(yv, minlength=3).tolist()}; loaded in {time.time() - t0:.0f}s')

    net = tlnet.TLNet(a.head).to(memory_format=CL)
    if a.init:
        init_from(net, a.init, xt, log)
    n_cells = sum(p.numel() for p in net.training_only())
    log(f'parameters: {sum(p.numel() for p in net.parameters()) - n_cells} exported '
        f'(+{n_cells} of the training-only per-cell head), cell loss weight {a.cell_weight}')
    ch, cw = (int(v) for v in a.crop.split('x'))
    sy = tlnet.INPUT_H / 256.0
    sx = tlnet.INPUT_W / 455.0
    boxes = [[(b['top'] * sy, b['left'] * sx, (b['top'] + b['height']) * sy, (b['left'] + b['width']) * sx)
              for b in c['evidence']] for c in cases_t]

    def hot_spots(k=6, cell=8, grow=8):
        """Per frame: centres of the k most saturated red/green cell x cell spots (local maxima) away from
        the lights of the frame's class: tail lights, signs, lit signs, trees."""
        H, W = tlnet.INPUT_H, tlnet.INPUT_W
        out = []
        for s0 in range(0, len(xt), 256):
            xb = torch.from_numpy(xt[s0:s0 + 256]).permute(0, 3, 1, 2).float()
            r, g, b = xb[:, 0], xb[:, 1], xb[:, 2]
            sig = torch.maximum(r - (g + b) / 2, g - r)[:, None]
            m = F.max_pool2d(sig, cell)
            peak = (m == F.max_pool2d(m, 3, 1, 1)) & (m > 30)
            m = torch.where(peak, m, torch.full_like(m, -1))[:, 0]
            for n in range(len(xb)):
                mn = m[n].clone()
                for t, l, bt, rt in boxes[s0 + n]:
                    mn[max(0, int((t - grow) // cell)):int(math.ceil((bt + grow) / cell)),
                       max(0, int((l - grow) // cell)):int(math.ceil((rt + grow) / cell))] = -1
                v, i = mn.flatten().topk(k)
                gw = mn.shape[1]
                out.append([((int(j) // gw) * cell + cell // 2, (int(j) % gw) * cell + cell // 2)
                            for vv, j in zip(v.tolist(), i.tolist()) if vv > 0])
        return out

    spots = None
    if a.hard_neg:
        th = time.time()
        spots = hot_spots()
        log(f'hard negatives: {sum(len(v) for v in spots)} saturated spots outside the lights in '
            f'{sum(1 for v in spots if v)} frames ({time.time() - th:.0f}s)')

    def crop_batch(idx):
        """Crops at the model's input scale: around a light of the frame's class (label = class),
        or a window without any light facing the driver (label none). Also returns each crop's
        light boxes in crop coordinates."""
        H, W = tlnet.INPUT_H, tlnet.INPUT_W
        out = np.empty((len(idx), ch, cw, 3), dtype=np.uint8)
        lab = np.empty(len(idx), dtype=np.int64)
        cb = []
        for n, i in enumerate(idx):
            bx = boxes[i]
            y0 = x0 = None
            if bx and rng.random() < 0.75:
                t, l, b, r = bx[rng.integers(len(bx))]
                lo_y, hi_y = max(0, int(np.ceil(b)) - ch), min(H - ch, int(t))
                lo_x, hi_x = max(0, int(np.ceil(r)) - cw), min(W - cw, int(l))
                if lo_y <= hi_y and lo_x <= hi_x:
                    y0, x0 = rng.integers(lo_y, hi_y + 1), rng.integers(lo_x, hi_x + 1)
                    lab[n] = yt[i]
            if y0 is None and spots is not None and spots[i] and rng.random() < a.hard_neg:
                cy, cx = spots[i][rng.integers(len(spots[i]))]
                y0 = int(np.clip(cy - ch // 2 + rng.integers(-ch // 4, ch // 4 + 1), 0, H - ch))
                x0 = int(np.clip(cx - cw // 2 + rng.integers(-cw // 4, cw // 4 + 1), 0, W - cw))
                if any(t < y0 + ch and y0 < b and l < x0 + cw and x0 < r for t, l, b, r in bx):
                    y0 = None
                else:
                    lab[n] = 0
            if y0 is None:
                for _ in range(20):
                    y0, x0 = rng.integers(0, H - ch + 1), rng.integers(0, W - cw + 1)
                    if not any(t < y0 + ch and y0 < b and l < x0 + cw and x0 < r for t, l, b, r in bx):
                        break
                else:
                    y0 = None
                if y0 is None:
                    # could not find a light-free window: use the whole-frame label on a light crop
                    t, l, b, r = bx[0]
                    y0, x0 = int(min(max(0, t - ch / 2), H - ch)), int(min(max(0, l - cw / 2), W - cw))
                    lab[n] = yt[i]
                else:
                    lab[n] = 0
            out[n] = xt[i, y0:y0 + ch, x0:x0 + cw]
            cb.append([(t - y0, l - x0, b - y0, r - x0) for t, l, b, r in bx])
        return torch.from_numpy(out), torch.from_numpy(lab), cb

    def frame_batch(idx):
        t = torch.from_numpy(idx)
        return xt_t[t], yt_t[t], [boxes[i] for i in idx]

    def flip(xb, bxs):
        """Mirror half of the batch left-right, with its boxes."""
        w = xb.shape[2]
        f = rng.random(len(xb)) < 0.5
        ft = torch.from_numpy(f)
        xb[ft] = xb[ft].flip(2)
        return xb, [[(t, w - r, b, w - l) for t, l, b, r in bx] if fl else bx for bx, fl in zip(bxs, f)]

    def cell_targets(bxs, yb, h, w):
        """Targets for conv5's map [N, h/CELL, w/CELL]: the frame's class on the cells a light of
        that class overlaps, ignored (-100) on the cells around them (their receptive fields see
        the light too, and a light's bloom spills over), none everywhere else."""
        C = tlnet.CELL
        gh, gw = h // C, w // C
        t = torch.zeros((len(bxs), gh, gw), dtype=torch.long)
        for n, bx in enumerate(bxs):
            cells = [(int(tp // C), int(math.ceil(b / C)), int(l // C), int(math.ceil(r / C))) for tp, l, b, r in bx
                     if b > 0 and r > 0 and tp < h and l < w]
            for i0, i1, j0, j1 in cells:
                t[n, max(0, i0 - 1):max(0, i1 + 1), max(0, j0 - 1):max(0, j1 + 1)] = -100
            for i0, i1, j0, j1 in cells:
                t[n, max(0, i0):max(0, i1), max(0, j0):max(0, j1)] = int(yb[n])
        return t

    sat_range = [float(v) for v in a.saturation.split(',')] if a.saturation else None

    def augment(xb):
        """uint8 NHWC batch -> float NCHW (channels-last memory) in [0,1]: exposure, white
        balance and contrast as one per-sample affine map, then luminance noise."""
        n = len(xb)
        x = xb.permute(0, 3, 1, 2).float()
        gain = torch.from_numpy(rng.uniform(0.7, 1.3, (n, 1, 1, 1)).astype(np.float32))
        wb = torch.from_numpy(rng.uniform(0.92, 1.08, (n, 3, 1, 1)).astype(np.float32))
        con = torch.from_numpy(rng.uniform(0.8, 1.2, (n, 1, 1, 1)).astype(np.float32))
        mean = x.mean((1, 2, 3), keepdim=True) / 255
        # ((x/255 - mean) * con + mean) * gain * wb
        x = torch.addcmul(mean * (1 - con) * gain * wb, x, con * gain * wb / 255)
        if sat_range:
            sat = torch.from_numpy(rng.uniform(*sat_range, (n, 1, 1, 1)).astype(np.float32))
            grey = x.mean(1, keepdim=True)
            x = torch.addcmul(grey * (1 - sat), x, sat)
        x.add_(torch.randn((n, 1) + tuple(x.shape[2:]), generator=noise_gen) * 0.012)
        return x.clamp_(0, 1).contiguous(memory_format=CL)

    def stretch(x, bxs):
        """--stretch: float NCHW batch and its boxes -> half the samples stretched horizontally."""
        if a.stretch <= 1:
            return x, bxs
        n, _, h, w = x.shape
        f = rng.uniform(1, a.stretch, n)
        use = rng.random(n) < 0.5
        u = rng.random(n)
        out = x.clone()
        nb = []
        for k in range(n):
            bx = bxs[k]
            ww = int(round(w / f[k]))
            inside = [(max(l, 0), min(r, w)) for t, l, b, r in bx if r > 0 and l < w and b > 0 and t < h]
            lo = max([int(math.ceil(r)) - ww for _, r in inside], default=0)
            hi = min([int(l) for l, _ in inside], default=w - ww)
            lo, hi = max(lo, 0), min(hi, w - ww)
            if not use[k] or lo > hi:
                nb.append(bx)
                continue
            x0 = lo + int(u[k] * (hi - lo + 1))
            out[k] = F.interpolate(x[k:k + 1, :, :, x0:x0 + ww], size=(h, w), mode='bilinear', align_corners=False)[0]
            s_ = w / ww
            nb.append([(t, (l - x0) * s_, b, (r - x0) * s_) for t, l, b, r in bx])
        return out.contiguous(memory_format=CL), nb

    def occlude(x, yb, bxs):
        """--occlude: float NCHW batch, labels and boxes -> grey squares pasted in place (see --occlude)."""
        if a.occlude <= 0:
            return bxs
        n, _, h, w = x.shape
        out = []
        for k in range(n):
            bx = bxs[k]
            if rng.random() >= a.occlude:
                out.append(bx)
                continue
            s_ = int(rng.choice([16, 32, 48, 64]))
            seen = [(t, l, b, r) for t, l, b, r in bx if r > 0 and l < w and b > 0 and t < h]
            y0 = None
            if seen and rng.random() < a.occlude_on:
                t, l, b, r = seen[rng.integers(len(seen))]
                lo_y, hi_y = max(0, int(math.ceil(b)) - s_), min(h - s_, int(t))
                lo_x, hi_x = max(0, int(math.ceil(r)) - s_), min(w - s_, int(l))
                if lo_y <= hi_y and lo_x <= hi_x:
                    y0, x0 = int(rng.integers(lo_y, hi_y + 1)), int(rng.integers(lo_x, hi_x + 1))
                    left = [bb for bb in bx if not (bb[0] >= y0 and bb[1] >= x0 and bb[2] <= y0 + s_ and bb[3] <= x0 + s_)]
                    if not any(r_ > 0 and l_ < w and b_ > 0 and t_ < h for t_, l_, b_, r_ in left):
                        yb[k] = 0
                    bx = left
            else:
                for _ in range(10):
                    y0, x0 = int(rng.integers(0, h - s_ + 1)), int(rng.integers(0, w - s_ + 1))
                    if not any(t - 3 < y0 + s_ and y0 < b + 3 and l - 3 < x0 + s_ and x0 < r + 3 for t, l, b, r in bx):
                        break
                else:
                    y0 = None
            if y0 is not None:
                x[k, :, y0:y0 + s_, x0:x0 + s_] = 0.5
            out.append(bx)
        return out

    xt_t = torch.from_numpy(xt)
    yt_t = torch.from_numpy(yt)

    big = np.array([max([max(e['width'], e['height']) for e in c['evidence']], default=0) for c in cases_t])
    draw_w = 1.0 + a.small_boost * ((big > 0) & (big < 20))
    draw_p = draw_w / draw_w.sum()

    emas = {}
    teachers = [tlnet.FoldedNet(d).eval() for d in a.teachers.split(',') if d]
    if teachers:
        log(f'distillation from {len(teachers)} teachers ({a.teachers}), weight {a.distill_weight}, '
            f'temperature {a.distill_temp}')

    def net_from(state):  # a fresh net holding averaged weights (EMA, SWA)
        n = tlnet.TLNet(a.head).to(memory_format=CL)
        n.load_state_dict(state)
        return n

    def ema_update():
        with torch.no_grad():
            for d, st in emas.items():
                for k, v in net.state_dict().items():
                    if v.dtype.is_floating_point:
                        st[k].mul_(d).add_(v, alpha=1 - d)
                    else:
                        st[k].copy_(v)

    def run(phase, epochs, batch, lr, get, on_step=None):
        if phase == 'frames' and a.ema:
            emas.update({float(d): {k: v.detach().clone() for k, v in net.state_dict().items()} for d in a.ema.split(',')})
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
        steps = epochs * math.ceil(len(xt) / batch)
        # the SWA phase keeps its rate constant; the others follow one cycle
        sched = None if phase == 'swa' else torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
        step = 0
        for ep in range(epochs):
            net.train()
            te = time.time()
            if phase == 'crops' and a.small_boost:
                perm = rng.choice(len(xt), len(xt), p=draw_p)
            else:
                perm = rng.permutation(len(xt))
            tot, correct, loss_sum, cell_sum = 0, 0, 0.0, 0.0
            for s in range(0, len(xt), batch):
                xb, yb, bxs = get(perm[s:s + batch])
                xb, bxs = flip(xb, bxs)
                h, w = xb.shape[1:3]
                xb = augment(xb)
                xb, bxs = stretch(xb, bxs)
                bxs = occlude(xb, yb, bxs)
                with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16):
                    logits, cell_logits = net(xb, cells=True)
                    if teachers:
                        with torch.no_grad():
                            T = a.distill_temp
                            # FoldedNet gives probabilities; log p is the logits up to a constant
                            soft = torch.stack([F.softmax(t(xb).float().clamp_min(1e-12).log() / T, 1)
                                                for t in teachers]).mean(0)
                logits, cell_logits = logits.float(), cell_logits.float()
                loss = F.cross_entropy(logits, yb, label_smoothing=0.05)
                if teachers:
                    loss = (1 - a.distill_weight) * loss + soft_kl(a.distill_weight, logits, soft, T)
                if peer:
                    rank, buf, barrier = peer
                    n = len(yb)
                    buf[rank, :n, :3] = logits.detach()
                    buf[rank, :n, 3] = yb.float()
                    barrier.wait()
                    other = buf[1 - rank, :n].clone()
                    barrier.wait()
                    assert torch.equal(other[:, 3], yb.float()), 'co-distillation peers drew different batches'
                    T = a.peer_temp
                    loss = loss + soft_kl(a.peer_weight, logits, F.softmax(other[:, :3] / T, 1), T)
                if a.cell_weight:
                    cell_loss = F.cross_entropy(cell_logits, cell_targets(bxs, yb, h, w), weight=CELL_CLASS_WEIGHT,
                                                ignore_index=-100)
                    cell_sum += float(cell_loss) * len(yb)
                    loss = loss + a.cell_weight * cell_loss
                opt.zero_grad()
                loss.backward()
                opt.step()
                step += 1
                if sched:
                    sched.step()
                if emas:
                    ema_update()
                if on_step:
                    on_step(step)
                loss_sum += float(loss) * len(yb)
                correct += int((logits.argmax(1) == yb).sum())
                tot += len(yb)
            va, conf = evaluate(net, xv, yv)
            log(f'{phase} epoch {ep + 1:2d}/{epochs}  loss {loss_sum / tot:.4f} (cells {cell_sum / tot:.4f})  train acc {correct / tot:.4f}  '
                f'val acc (whole frames) {va:.4f}  ({time.time() - te:.0f}s, total {time.time() - t0:.0f}s)')

    if a.crop_epochs:
        run('crops', a.crop_epochs, 64, a.lr, crop_batch)
    run('frames', a.epochs, a.batch, a.lr / 3 if a.crop_epochs else a.lr, frame_batch)
    if a.swa:
        va, _ = evaluate(net, xv, yv)
        log(f'before SWA: val accuracy {va:.4f}')
        tlnet.export_tfjs(net.eval(), os.path.join(a.out, 'pre-swa'))
        avg = {k: v.detach().clone() for k, v in net.state_dict().items() if v.dtype.is_floating_point}
        n_avg = [1]

        def swa_update(k):
            if k % a.swa_every == 0:
                n_avg[0] += 1
                with torch.no_grad():
                    for name, v in net.state_dict().items():
                        if name in avg:
                            avg[name].add_(v - avg[name], alpha=1 / n_avg[0])

        run('swa', a.swa, a.batch, a.swa_lr, frame_batch, on_step=swa_update)
        tb = time.time()
        swa_net = net_from(dict(net.state_dict(), **avg))
        # the averaged weights need their own BatchNorm statistics: one pass over augmented
        # training frames with cumulative (momentum None) running averages
        bns = [m for m in swa_net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        swa_net.train()
        idx = rng.permutation(len(xt))[:3200]
        with torch.no_grad():
            for s in range(0, len(idx), a.batch):
                xb, _, bxs = frame_batch(idx[s:s + a.batch])
                swa_net(augment(flip(xb, bxs)[0]))
        for m in bns:
            m.momentum = 0.1
        log(f'SWA: {n_avg[0]} weight snapshots averaged, BatchNorm statistics recomputed on {len(idx)} frames '
            f'({time.time() - tb:.0f}s)')
        net = swa_net.eval()
    va, conf = evaluate(net, xv, yv)
    log(f'final held-out (val, {len(xv)} frames) accuracy {va:.4f}')
    log('confusion (rows true none/red/green, cols predicted):')
    for r in conf:
        log('  ' + ' '.join(f'{v:5d}' for v in r))
    net.eval()
    for d, st in emas.items():
        ema_net = net_from(st)
        ev, econf = evaluate(ema_net, xv, yv)
        log(f'EMA {d}: val accuracy {ev:.4f}, confusion {econf.tolist()}')
        tlnet.export_tfjs(ema_net.eval(), os.path.join(a.out, f'ema-{d}'))
    tlnet.export_tfjs(net, a.out)
    torch.save(net.state_dict(), os.path.join('/tmp', 'tlnet-last.pt'))
    size = sum(os.path.getsize(os.path.join(a.out, f)) for f in ['model.json', 'weights.bin', 'occlude.json'])
    log(f'exported TF.js LayersModel to {a.out} ({size} bytes); training time {time.time() - t0:.0f}s')


if __name__ == '__main__':
    main()
