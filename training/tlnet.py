"""TLNet: the small fully-convolutional traffic-light classifier shipped in models/traffic-light.

Shared by train.py (training + TF.js export) and evaluate.py (loads the exported TF.js weights).
Layout mirrors the TF.js LayersModel exactly:
  input [N,256,455,3] RGB in [0,1] (NHWC in TF.js, NCHW here): the full 455x256 frame
         (other sizes are resized bilinear, half-pixel centres, no antialias)
  conv1  Conv2D 4x4 stride 4 valid, relu      (every BatchNorm is folded into its conv)
  pool1  MaxPooling2D 2x2
  conv2  Conv2D 3x3 same, relu
  pool2  MaxPooling2D 2x2
  conv3  Conv2D 3x3 same, relu
  conv4  Conv2D 3x3 same, relu
  gmp / gap  GlobalMaxPooling2D / GlobalAveragePooling2D of conv4, concatenated
  fc     Dense 3, softmax  -> [none, red, green]
"""
import json, os
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

LABELS = ['none', 'red', 'green']
INPUT_H, INPUT_W = 256, 455
C1, C2, C3, C4 = 24, 32, 64, 64


class TLNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, C1, 4, stride=4, bias=True)
        self.bn1 = nn.BatchNorm2d(C1)
        self.conv2 = nn.Conv2d(C1, C2, 3, padding=1, bias=True)
        self.bn2 = nn.BatchNorm2d(C2)
        self.conv3 = nn.Conv2d(C2, C3, 3, padding=1, bias=True)
        self.bn3 = nn.BatchNorm2d(C3)
        self.conv4 = nn.Conv2d(C3, C4, 3, padding=1, bias=True)
        self.bn4 = nn.BatchNorm2d(C4)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(2 * C4, 3)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        return F.relu(self.bn4(self.conv4(x)))

    def forward(self, x):  # logits
        x = self.features(x)
        x = torch.cat([x.amax((2, 3)), x.mean((2, 3))], 1)
        return self.fc(self.drop(x))


def _fold(w, b, bn):
    s = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    w = w.detach() * s.reshape(-1, *([1] * (w.dim() - 1)))
    b0 = b.detach() if b is not None else torch.zeros_like(bn.running_mean)
    return w, (b0 - bn.running_mean) * s + bn.bias.detach()


def folded_params(net):
    """Ordered list of (name, np.array in TF.js layout) with BatchNorm folded."""
    out = []
    for n in ['conv1', 'conv2', 'conv3', 'conv4']:
        w, b = _fold(getattr(net, n).weight, getattr(net, n).bias, getattr(net, 'bn' + n[-1]))
        out += [(n + '/kernel', w.permute(2, 3, 1, 0)), (n + '/bias', b)]
    out += [('fc/kernel', net.fc.weight.detach().t()), ('fc/bias', net.fc.bias.detach())]
    return [(k, v.contiguous().numpy().astype('<f4')) for k, v in out]


def _layer(name, cls, config, inbound):
    config = dict(config, name=name, trainable=True)
    return {'name': name, 'class_name': cls, 'config': config,
            'inbound_nodes': [[[i, 0, 0, {}] for i in inbound]] if inbound else []}


def topology():
    def conv(name, filters, k, stride, padding, act, inb):
        return _layer(name, 'Conv2D', {
            'filters': filters, 'kernel_size': [k, k], 'strides': [stride, stride], 'padding': padding,
            'data_format': 'channels_last', 'dilation_rate': [1, 1], 'activation': act, 'use_bias': True,
            'kernel_initializer': {'class_name': 'GlorotUniform', 'config': {'seed': None}},
            'bias_initializer': {'class_name': 'Zeros', 'config': {}},
            'kernel_regularizer': None, 'bias_regularizer': None, 'activity_regularizer': None,
            'kernel_constraint': None, 'bias_constraint': None}, [inb])

    def pool(name, inb):
        return _layer(name, 'MaxPooling2D', {'pool_size': [2, 2], 'strides': [2, 2], 'padding': 'valid',
                                             'data_format': 'channels_last'}, [inb])

    layers = [
        _layer('image', 'InputLayer', {'batch_input_shape': [None, INPUT_H, INPUT_W, 3], 'dtype': 'float32', 'sparse': False}, []),
        conv('conv1', C1, 4, 4, 'valid', 'relu', 'image'),
        pool('pool1', 'conv1'),
        conv('conv2', C2, 3, 1, 'same', 'relu', 'pool1'), pool('pool2', 'conv2'),
        conv('conv3', C3, 3, 1, 'same', 'relu', 'pool2'),
        conv('conv4', C4, 3, 1, 'same', 'relu', 'conv3'),
        _layer('gmp', 'GlobalMaxPooling2D', {'data_format': 'channels_last'}, ['conv4']),
        _layer('gap', 'GlobalAveragePooling2D', {'data_format': 'channels_last'}, ['conv4']),
        _layer('concat', 'Concatenate', {'axis': -1}, ['gmp', 'gap']),
        _layer('fc', 'Dense', {'units': 3, 'activation': 'softmax', 'use_bias': True,
                               'kernel_initializer': {'class_name': 'GlorotUniform', 'config': {'seed': None}},
                               'bias_initializer': {'class_name': 'Zeros', 'config': {}},
                               'kernel_regularizer': None, 'bias_regularizer': None, 'activity_regularizer': None,
                               'kernel_constraint': None, 'bias_constraint': None}, ['concat']),
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
             'modelTopology': topology(),
             'weightsManifest': [{'paths': ['weights.bin'],
                                  'weights': [{'name': k, 'shape': list(a.shape), 'dtype': 'float32'} for k, a in params]}]}
    with open(os.path.join(out_dir, 'model.json'), 'w') as fh:
        json.dump(model, fh, separators=(',', ':'))
    meta = {'labels': LABELS, 'input': {'size': [INPUT_H, INPUT_W], 'range': [0, 1], 'channels': 'rgb'}}
    with open(os.path.join(out_dir, 'occlude.json'), 'w') as fh:
        json.dump(meta, fh, indent=2)
        fh.write('\n')


class FoldedNet(nn.Module):
    """Inference-only network built from exported TF.js weights (BatchNorm folded)."""

    def __init__(self, model_dir):
        super().__init__()
        spec = json.load(open(os.path.join(model_dir, 'model.json')))['weightsManifest'][0]
        data = np.fromfile(os.path.join(model_dir, spec['paths'][0]), dtype='<f4')
        p, off = {}, 0
        for w in spec['weights']:
            n = int(np.prod(w['shape']))
            p[w['name']] = torch.from_numpy(data[off:off + n].reshape(w['shape']).copy())
            off += n
        self.k = [(p[n + '/kernel'].permute(3, 2, 0, 1).contiguous(), p[n + '/bias']) for n in ['conv1', 'conv2', 'conv3', 'conv4']]
        self.fw = p['fc/kernel'].t().contiguous()
        self.fb = p['fc/bias']

    def forward(self, x):  # NCHW [0,1] at INPUT size -> probabilities
        (k1, b1), (k2, b2), (k3, b3), (k4, b4) = self.k
        x = F.max_pool2d(F.relu(F.conv2d(x, k1, b1, stride=4)), 2)
        x = F.max_pool2d(F.relu(F.conv2d(x, k2, b2, padding=1)), 2)
        x = F.relu(F.conv2d(x, k3, b3, padding=1))
        x = F.relu(F.conv2d(x, k4, b4, padding=1))
        x = torch.cat([x.amax((2, 3)), x.mean((2, 3))], 1)
        return F.softmax(F.linear(x, self.fw, self.fb), 1)


def preprocess(batch_nhwc):
    """[N,H,W,3] float [0,1] -> NCHW at the model's input size (bilinear, half-pixel centres, no antialias)."""
    x = batch_nhwc.permute(0, 3, 1, 2)
    if x.shape[2] != INPUT_H or x.shape[3] != INPUT_W:
        x = F.interpolate(x, size=(INPUT_H, INPUT_W), mode='bilinear', align_corners=False)
    return x
