"""TLNet: the small fully-convolutional traffic-light classifier shipped in models/traffic-light.

Shared by train.py (training + TF.js export) and evaluate.py (loads the exported TF.js weights).
One layer list (LAYERS) drives the PyTorch network, the TF.js topology and the weight export;
the inference-only FoldedNet reads the layer list back from an exported model.json. Layout (NHWC in TF.js, NCHW here):
  input  [N,256,455,3] RGB in [0,1]: the full 455x256 frame
         (other sizes are resized bilinear, half-pixel centres, no antialias)
  conv1  Conv2D 3x3 stride 2 same, 16, relu    (128x228; every BatchNorm is folded into its conv;
                                                TF pads 'same' with stride 2 asymmetrically: _same)
  conv2  Conv2D 2x2 stride 2 valid, 32, relu   (64x114)
  pool2  MaxPooling2D 2x2                      (32x57)
  conv3  Conv2D 3x3 same, 32, relu
  pool3  MaxPooling2D 2x2                      (16x28)
  conv4  Conv2D 3x3 same, 64, relu
  pool4  MaxPooling2D 2x2                      (8x14; conv5 then sees about 160 px of the frame,
                                                and the net runs 10-20% faster on wasm than without it)
  conv5  Conv2D 3x3 same, 64, relu
  gmp / gap  GlobalMaxPooling2D / GlobalAveragePooling2D of conv5, concatenated
  fc     Dense 3, softmax  -> [none, red, green]
Training only (not exported): `cells`, a 1x1 conv on conv5's map that classifies each CELL x CELL
cell of the input, for the per-cell loss of train.py.
"""
import json, os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LABELS = ['none', 'red', 'green']
INPUT_H, INPUT_W = 256, 455
# (name, filters, kernel, stride, padding, max-pool 2x2 after)
LAYERS = [
    ('conv1', 16, 3, 2, 'same', False),
    ('conv2', 32, 2, 2, 'valid', True),
    ('conv3', 32, 3, 1, 'same', True),
    ('conv4', 64, 3, 1, 'same', True),
    ('conv5', 64, 3, 1, 'same', False),
]
# trunk variants (train.py --trunk): 's3' replaces pool2 + conv3 by conv3 with stride 2, which sees a
# 3x3 neighbourhood of conv2's map with its positions instead of max-pooling them away first
TRUNKS = {
    'pool': LAYERS,
    's3': [LAYERS[0], LAYERS[1][:5] + (False,), ('conv3', 32, 3, 2, 'same', True)] + LAYERS[3:],
}


def set_trunk(name, width=1.0):
    """Select the convolution layers, every layer's filters scaled by width (the shipped model: 1.5)."""
    global LAYERS, CONVS, CELL, FEATURES
    LAYERS = [(n, int(round(f * width)), k, st, pad, pool) for n, f, k, st, pad, pool in TRUNKS[name]]
    CONVS = [l[0] for l in LAYERS]
    # one cell of conv5's map covers CELL x CELL input pixels (32: two stride-2 convs, three pools)
    CELL = int(np.prod([st * (2 if pool else 1) for _, _, _, st, _, pool in LAYERS]))
    FEATURES = LAYERS[-1][1]


set_trunk('pool')


def _pad(k, st, padding):
    """PyTorch padding of a conv; None where TF's 'same' pads asymmetrically (see _same)."""
    if padding != 'same':
        return 0
    return k // 2 if st == 1 and k % 2 == 1 else None


def _same(x, k, st):
    """Pad x as TF's 'same' padding does: total max((ceil(n/st)-1)*st + k - n, 0) per axis,
    the odd pixel at the end (with stride 2 on an even size, TF pads only the bottom/right)."""
    pads = []
    for n in (x.shape[3], x.shape[2]):
        t = max((-(-n // st) - 1) * st + k - n, 0)
        pads += [t // 2, t - t // 2]
    return F.pad(x, pads)


HEADS = ('pool', 'mil')


class TLNet(nn.Module):
    """head 'pool': [max, mean] of conv5 -> Dense 3. head 'mil': a 1x1 conv gives every cell of conv5's
    map a red and a green score against 'none'; the frame's red/green logit is the largest cell's
    (GlobalMaxPooling2D), the none logit a learned constant (Dense with a fixed kernel), so that
    only evidence *for* a light moves the frame, and the per-cell loss trains the exported head itself."""

    def __init__(self, head='pool'):
        super().__init__()
        assert head in HEADS
        self.head = head
        cin = 3
        for name, f, k, st, pad, _ in LAYERS:
            setattr(self, name, nn.Conv2d(cin, f, k, stride=st, padding=_pad(k, st, pad) or 0, bias=True))
            setattr(self, 'bn' + name[4:], nn.BatchNorm2d(f))
            cin = f
        if head == 'mil':
            self.margin = nn.Conv2d(FEATURES, 2, 1)
            self.none_bias = nn.Parameter(torch.zeros(1))
            return
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(2 * FEATURES, 3)
        # training only (not exported): classifies each cell of conv5's map on its own, so that the
        # boxes of the lights, not just the frame's label, teach conv5 where a light is (see train.py)
        self.cells = nn.Conv2d(FEATURES, 3, 1)

    def training_only(self):
        return list(self.cells.parameters()) if self.head == 'pool' else []

    def features(self, x):
        for name, _, k, st, pad, pool in LAYERS:
            if _pad(k, st, pad) is None:
                x = _same(x, k, st)
            x = F.relu(getattr(self, 'bn' + name[4:])(getattr(self, name)(x)))
            if pool:
                x = F.max_pool2d(x, 2)
        return x

    def forward(self, x, cells=False):  # logits (and per-cell logits of conv5's map)
        f = self.features(x)
        if self.head == 'mil':
            m = self.margin(f)
            nb = self.none_bias.reshape(1, 1, 1, 1)
            cell = torch.cat([nb.expand(m.shape[0], 1, m.shape[2], m.shape[3]), m], 1)
            x = torch.cat([nb.reshape(1, 1).expand(m.shape[0], 1), m.amax((2, 3))], 1)
            return (x, cell) if cells else x
        x = torch.cat([f.amax((2, 3)), f.mean((2, 3))], 1)
        x = self.fc(self.drop(x))
        return (x, self.cells(f)) if cells else x


def _fold(w, b, bn):
    s = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    w = w.detach() * s.reshape(-1, *([1] * (w.dim() - 1)))
    b0 = b.detach() if b is not None else torch.zeros_like(bn.running_mean)
    return w, (b0 - bn.running_mean) * s + bn.bias.detach()


def folded_params(net):
    """Ordered list of (name, np.array in TF.js layout) with BatchNorm folded."""
    out = []
    for n in CONVS:
        w, b = _fold(getattr(net, n).weight, getattr(net, n).bias, getattr(net, 'bn' + n[4:]))
        out += [(n + '/kernel', w.permute(2, 3, 1, 0)), (n + '/bias', b)]
    if net.head == 'mil':
        # fc only places the none constant beside the two max-pooled margins: fixed kernel
        kernel = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        bias = torch.cat([net.none_bias.detach(), torch.zeros(2)])
        out += [('margin/kernel', net.margin.weight.detach().permute(2, 3, 1, 0)), ('margin/bias', net.margin.bias.detach()),
                ('fc/kernel', kernel), ('fc/bias', bias)]
    else:
        out += [('fc/kernel', net.fc.weight.detach().t()), ('fc/bias', net.fc.bias.detach())]
    return [(k, v.contiguous().numpy().astype('<f4')) for k, v in out]


def _layer(name, cls, config, inbound):
    config = dict(config, name=name, trainable=True)
    return {'name': name, 'class_name': cls, 'config': config,
            'inbound_nodes': [[[i, 0, 0, {}] for i in inbound]] if inbound else []}


# the initialiser and constraint fields a Keras Conv2D / Dense config carries (unused at inference)
INIT = {'kernel_initializer': {'class_name': 'GlorotUniform', 'config': {'seed': None}},
        'bias_initializer': {'class_name': 'Zeros', 'config': {}},
        'kernel_regularizer': None, 'bias_regularizer': None, 'activity_regularizer': None,
        'kernel_constraint': None, 'bias_constraint': None}


def topology(head='pool'):
    init = INIT
    layers = [_layer('image', 'InputLayer', {'batch_input_shape': [None, None, INPUT_W, 3], 'dtype': 'float32', 'sparse': False}, [])]
    prev = 'image'
    for name, f, k, st, pad, pool in LAYERS:
        layers.append(_layer(name, 'Conv2D', dict({
            'filters': f, 'kernel_size': [k, k], 'strides': [st, st], 'padding': pad,
            'data_format': 'channels_last', 'dilation_rate': [1, 1], 'activation': 'relu', 'use_bias': True}, **init), [prev]))
        prev = name
        if pool:
            pname = 'pool' + name[4:]
            layers.append(_layer(pname, 'MaxPooling2D', {'pool_size': [2, 2], 'strides': [2, 2], 'padding': 'valid',
                                                          'data_format': 'channels_last'}, [prev]))
            prev = pname
    if head == 'mil':
        layers += [
            _layer('margin', 'Conv2D', dict({
                'filters': 2, 'kernel_size': [1, 1], 'strides': [1, 1], 'padding': 'valid', 'data_format': 'channels_last',
                'dilation_rate': [1, 1], 'activation': 'linear', 'use_bias': True}, **init), [prev]),
            _layer('gmp', 'GlobalMaxPooling2D', {'data_format': 'channels_last'}, ['margin']),
            _layer('fc', 'Dense', dict({'units': 3, 'activation': 'softmax', 'use_bias': True}, **init), ['gmp']),
        ]
    else:
        layers += [
            _layer('gmp', 'GlobalMaxPooling2D', {'data_format': 'channels_last'}, [prev]),
            _layer('gap', 'GlobalAveragePooling2D', {'data_format': 'channels_last'}, [prev]),
            _layer('concat', 'Concatenate', {'axis': -1}, ['gmp', 'gap']),
            _layer('fc', 'Dense', dict({'units': 3, 'activation': 'softmax', 'use_bias': True}, **init), ['concat']),
        ]
    return {'class_name': 'Model', 'config': {'name': 'tlnet', 'layers': layers,
                                               'input_layers': [['image', 0, 0]], 'output_layers': [['fc', 0, 0]]},
            'keras_version': 'tfjs-layers 4.22.0', 'backend': 'tensor_flow.js'}


def export_tfjs(net, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    params = folded_params(net)
    with open(os.path.join(out_dir, 'weights.bin'), 'wb') as fh:
        for _, a in params:
            fh.write(a.tobytes())
    model = {'format': 'layers-model', 'generatedBy': 'occlude training/train.py', 'convertedBy': None,
             'modelTopology': topology(net.head),
             'weightsManifest': [{'paths': ['weights.bin'],
                                  'weights': [{'name': k, 'shape': list(a.shape), 'dtype': 'float32'} for k, a in params]}]}
    with open(os.path.join(out_dir, 'model.json'), 'w') as fh:
        json.dump(model, fh, separators=(',', ':'))
    # fully convolutional: any height; occlude keeps each frame's aspect ratio at width INPUT_W (fit width)
    meta = {'labels': LABELS, 'input': {'size': [INPUT_H, INPUT_W], 'fit': 'width', 'range': [0, 1], 'channels': 'rgb'}}
    with open(os.path.join(out_dir, 'occlude.json'), 'w') as fh:
        json.dump(meta, fh, indent=2)
        fh.write('\n')


class FoldedNet(nn.Module):
    """Inference-only network built from exported TF.js weights (BatchNorm folded)."""

    def __init__(self, model_dir):
        super().__init__()
        model = json.load(open(os.path.join(model_dir, 'model.json')))
        # the layer list comes from the exported topology, not from LAYERS, so that any exported
        # TLNet variant evaluates as it was saved
        self.layers = []
        names = [l['name'] for l in model['modelTopology']['config']['layers']]
        self.head = 'mil' if 'margin' in names else 'pool'
        for l in model['modelTopology']['config']['layers']:
            c = l['config']
            if l['class_name'] == 'Conv2D' and l['name'] != 'margin':
                self.layers.append([l['name'], c['filters'], c['kernel_size'][0], c['strides'][0], c['padding'], False])
            elif l['class_name'] == 'MaxPooling2D':
                self.layers[-1][5] = True
        spec = model['weightsManifest'][0]
        data = np.fromfile(os.path.join(model_dir, spec['paths'][0]), dtype='<f4')
        p, off = {}, 0
        for w in spec['weights']:
            n = int(np.prod(w['shape']))
            p[w['name']] = torch.from_numpy(data[off:off + n].reshape(w['shape']).copy())
            off += n
        self.k = [(p[l[0] + '/kernel'].permute(3, 2, 0, 1).contiguous(), p[l[0] + '/bias']) for l in self.layers]
        if self.head == 'mil':
            self.mw = p['margin/kernel'].permute(3, 2, 0, 1).contiguous()
            self.mb = p['margin/bias']
        self.fw = p['fc/kernel'].t().contiguous()
        self.fb = p['fc/bias']

    def forward(self, x):  # NCHW [0,1] at INPUT size -> probabilities
        for (k, b), (_, _, ks, st, pad, pool) in zip(self.k, self.layers):
            p = _pad(ks, st, pad)
            if p is None:
                x, p = _same(x, ks, st), 0
            x = F.relu(F.conv2d(x, k, b, stride=st, padding=p))
            if pool:
                x = F.max_pool2d(x, 2)
        if self.head == 'mil':
            x = F.conv2d(x, self.mw, self.mb).amax((2, 3))
        else:
            x = torch.cat([x.amax((2, 3)), x.mean((2, 3))], 1)
        return F.softmax(F.linear(x, self.fw, self.fb), 1)


def preprocess(batch_nhwc):
    """[N,H,W,3] float [0,1] -> NCHW at the model's input size (bilinear, half-pixel centres, no antialias)."""
    x = batch_nhwc.permute(0, 3, 1, 2)
    if x.shape[2] != INPUT_H or x.shape[3] != INPUT_W:
        x = F.interpolate(x, size=(INPUT_H, INPUT_W), mode='bilinear', align_corners=False)
    return x
