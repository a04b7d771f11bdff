"""Rewrite the traffic-light-coco GraphModel (graph.py's output, via head.py) as a TF.js LayersModel with the
same weights, so that occlude's incremental engine can read it layer by layer; the last step of train.sh.

    /usr/bin/python3 training/pretrained/layers.py GRAPH_MODEL_DIR OUT_DIR

OUT_DIR gets model.json, weights.bin and the graph's occlude.json with "incremental": {"gates": "frame"}:
occlude holds the five squeeze-and-excitation gates at the unoccluded frame's values for its variants
(an approximation, measured in the model card; --engine full gives the exact map).

Op by op (the graph is MobileNetV3 up to its stride-16 block, then the heads graph.py writes):
- _FusedConv2D / FusedDepthwiseConv2dNative (BiasAdd, optionally Relu) -> Conv2D / DepthwiseConv2D;
- hard-swish, x * relu6(x + 3) / 6 -> Multiply([x, hardSigmoid(Rescaling(5/6)(x))]): TF.js' hardSigmoid
  is clip(0.2 z + 0.5, 0, 1), so z = 5x/6 gives clip(x/6 + 1/2, 0, 1) = relu6(x + 3) / 6;
- squeeze-and-excitation, x * relu6(W2 relu(W1 mean(x) + b1) + b2 + 3) / 6 -> GlobalAveragePooling2D,
  Dense(relu), Dense(hardSigmoid) with W2 and b2 scaled by 5/6 (the same identity), Reshape [1, 1, C],
  Multiply([x, gate]);
- Add, ConcatV2, Max / Mean over the map, _FusedMatMul, Softmax -> Add, Concatenate, GlobalMax- /
  GlobalAveragePooling2D, Dense, Activation(softmax); AddN then Mul by 1/n -> Average.
Weights keep their storage: float16 where the graph stores float16 (the backbone), float32 otherwise
(the heads, and the two scaled SE tensors). Every matched pattern checks its constants; anything else
stops the rewrite with the op's name.
"""
import base64, json, os, sys
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from tlnet import _layer, INIT  # noqa: E402
from graph import read_backbone  # noqa: E402

HS = 5 / 6  # TF.js hardSigmoid(HS * x) == relu6(x + 3) / 6


def read_graph(model_dir):
    """model.json and its weights (graph.py's reader), each weight as (array, stored as float16)."""
    j, specs = read_backbone(model_dir, 'model')
    values = {}
    for name, (w, raw) in specs.items():
        half = w.get('quantization', {}).get('dtype') == 'float16'
        values[name] = (np.frombuffer(raw, dtype='<f2' if half else ('<i4' if w['dtype'] == 'int32' else '<f4')).reshape(w['shape']), half)
    return j, values


def _attr_ints(node, key):
    return [int(x) for x in node['attr'][key]['list']['i']]


def _fused(node):
    return [base64.b64decode(s).decode() for s in node['attr'].get('fused_ops', {}).get('list', {}).get('s', [])]


def _padding(node):
    return base64.b64decode(node['attr']['padding']['s']).decode().lower()


def convert(src_dir, out_dir, width=455):
    j, values = read_graph(src_dir)
    graph = [n for n in j['modelTopology']['node'] if n['op'] != 'Const']
    nodes = {n['name']: n for n in j['modelTopology']['node']}
    consumers = {}
    for n in graph:
        for i in n.get('input', []):
            consumers.setdefault(i.split(':')[0], []).append(n['name'])

    def const(name):
        assert nodes[name]['op'] == 'Const', name
        return values[name][0].astype(np.float32)

    def scalar(name, want):
        v = float(const(name))
        assert abs(v - want) < 1e-3, (name, v, want)

    layers, weights, blobs = [], [], []
    names = {}  # graph node -> Keras layer that gives its value
    used = set()

    def lname(graph_name):
        s = graph_name.replace('tower_0/MobilenetV3/', '').replace('occlude/', '').replace('/', '_')
        k, base = 1, s
        while s in used:
            k += 1
            s = f'{base}_{k}'
        used.add(s)
        return s

    def add(name, cls, config, inbound, params=()):
        layers.append(_layer(name, cls, config, inbound))
        for suffix, arr, half in params:
            arr = np.ascontiguousarray(arr, dtype=np.float32)
            if half:
                raw = arr.astype('<f2')
                assert np.array_equal(raw.astype(np.float32), arr), name  # stored as it was read
                weights.append({'name': f'{name}/{suffix}', 'shape': list(arr.shape), 'dtype': 'float32',
                                'quantization': {'dtype': 'float16', 'original_dtype': 'float32'}})
                blobs.append(raw.tobytes())
            else:
                weights.append({'name': f'{name}/{suffix}', 'shape': list(arr.shape), 'dtype': 'float32'})
                blobs.append(arr.astype('<f4').tobytes())
        return name

    def inputs(n):
        return [i.split(':')[0] for i in n.get('input', [])]

    def source(n):  # the non-constant inputs
        return [i for i in inputs(n) if nodes[i]['op'] != 'Const']

    # hard-swish's first op (x * 1/6) comes before the Add its pattern is matched at
    skip = {n['name'][:-len('add')] + 'mul' for n in graph if n['op'] == 'Add' and n['name'].endswith('hard_swish/add')}
    for n in graph:
        name, op = n['name'], n['op']
        if name in skip:
            continue
        ins = source(n)
        if op == 'Placeholder':
            names[name] = add('image', 'InputLayer', {'batch_input_shape': [None, None, width, 3], 'dtype': 'float32', 'sparse': False}, [])
        elif op in ('_FusedConv2D', 'FusedDepthwiseConv2dNative'):  # (the SE block's convolutions are skipped above)
            fused = _fused(n)
            assert fused in (['BiasAdd'], ['BiasAdd', 'Relu']), (name, fused)
            (w, wh), (b, bh) = values[inputs(n)[1]], values[inputs(n)[2]]
            s = _attr_ints(n, 'strides')
            assert s[0] == s[3] == 1 and s[1] == s[2] and _attr_ints(n, 'dilations') == [1, 1, 1, 1], name
            config = {'kernel_size': list(w.shape[:2]), 'strides': [s[1], s[2]], 'padding': _padding(n),
                      'data_format': 'channels_last', 'dilation_rate': [1, 1],
                      'activation': 'relu' if 'Relu' in fused else 'linear', 'use_bias': True}
            if op == '_FusedConv2D':
                config = dict(config, filters=int(w.shape[3]), **INIT)
                names[name] = add(lname(name), 'Conv2D', config, [names[ins[0]]], [('kernel', w, wh), ('bias', b, bh)])
            else:
                assert w.shape[3] == 1, name
                config = dict(config, depth_multiplier=1, depthwise_initializer=INIT['kernel_initializer'],
                              bias_initializer=INIT['bias_initializer'], depthwise_regularizer=None, bias_regularizer=None,
                              activity_regularizer=None, depthwise_constraint=None, bias_constraint=None)
                names[name] = add(lname(name), 'DepthwiseConv2D', config, [names[ins[0]]], [('depthwise_kernel', w, wh), ('bias', b, bh)])
        elif op == 'Add' and name.endswith('hard_swish/add'):
            # x*(1/6) -> mul; x+3 -> add; relu6(add) -> Relu6; mul*Relu6 -> mul_1
            p = name[:-len('add')]
            x = ins[0]
            scalar(p + 'add/y', 3.0)
            scalar(p + 'mul_1/y', 1 / 6)
            assert source(nodes[p + 'mul']) == [x] and source(nodes[p + 'Relu6']) == [name], p
            assert sorted(source(nodes[p + 'mul_1'])) == sorted([p + 'mul', p + 'Relu6']), p
            base = lname(p + 'hard_swish')
            r = add(base + '_scale', 'Rescaling', {'scale': HS, 'offset': 0.0}, [names[x]])
            g = add(base + '_gate', 'Activation', {'activation': 'hard_sigmoid'}, [r])
            names[p + 'mul_1'] = add(base, 'Multiply', {}, [names[x], g])
            skip.update([p + 'Relu6', p + 'mul_1'])
        elif op == 'Mean' and n['attr']['keep_dims']['b']:
            # squeeze-and-excitation: Mean -> Conv/Relu -> Conv_1/BiasAdd -> Conv_1/add -> Conv_1/Relu6 -> Conv_1/mul -> mul
            p = name[:-len('Mean')]
            assert list(const(p + 'Mean/reduction_indices')) == [1, 2], name
            x = ins[0]
            c1, c2 = nodes[p + 'Conv/Relu'], nodes[p + 'Conv_1/BiasAdd']
            assert _fused(c1) == ['BiasAdd', 'Relu'] and _fused(c2) == ['BiasAdd'], p
            scalar(p + 'Conv_1/add/y', 3.0)
            scalar(p + 'Conv_1/mul/y', 1 / 6)
            assert sorted(source(nodes[p + 'mul'])) == sorted([p + 'Conv_1/mul', x]), p
            (w1, h1), (b1, bh1) = values[inputs(c1)[1]], values[inputs(c1)[2]]
            (w2, _), (b2, _) = values[inputs(c2)[1]], values[inputs(c2)[2]]
            base = lname(p + 'se')
            dense = dict(INIT)
            m = add(base + '_mean', 'GlobalAveragePooling2D', {'data_format': 'channels_last'}, [names[x]])
            d1 = add(base + '_fc1', 'Dense', dict(dense, units=int(w1.shape[3]), activation='relu', use_bias=True), [m],
                     [('kernel', w1.reshape(w1.shape[2:]), h1), ('bias', b1, bh1)])
            d2 = add(base + '_fc2', 'Dense', dict(dense, units=int(w2.shape[3]), activation='hard_sigmoid', use_bias=True), [d1],
                     [('kernel', w2.astype(np.float32).reshape(w2.shape[2:]) * np.float32(HS), False),
                      ('bias', b2.astype(np.float32) * np.float32(HS), False)])
            g = add(base + '_gate', 'Reshape', {'target_shape': [1, 1, int(w2.shape[3])]}, [d2])
            names[p + 'mul'] = add(base, 'Multiply', {}, [names[x], g])
            skip.update([p + 'Conv/Relu', p + 'Conv_1/BiasAdd', p + 'Conv_1/add', p + 'Conv_1/Relu6', p + 'Conv_1/mul', p + 'mul'])
        elif op == 'Add':
            assert len(ins) == 2, name
            names[name] = add(lname(name), 'Add', {}, [names[i] for i in ins])
        elif op == 'ConcatV2':
            axis = int(const(inputs(n)[-1]))
            assert axis in (1, 3) and len(ins) == int(n['attr']['N']['i']), name
            names[name] = add(lname(name), 'Concatenate', {'axis': -1}, [names[i] for i in ins])
        elif op in ('Max', 'Mean'):
            assert list(const(inputs(n)[1])) == [1, 2] and not n['attr']['keep_dims']['b'], name
            cls = 'GlobalMaxPooling2D' if op == 'Max' else 'GlobalAveragePooling2D'
            names[name] = add(lname(name), cls, {'data_format': 'channels_last'}, [names[ins[0]]])
        elif op == '_FusedMatMul':
            assert _fused(n) == ['BiasAdd'] and not n['attr']['transpose_a']['b'] and not n['attr']['transpose_b']['b'], name
            (w, wh), (b, bh) = values[inputs(n)[1]], values[inputs(n)[2]]
            names[name] = add(lname(name), 'Dense', dict(INIT, units=int(w.shape[1]), activation='linear', use_bias=True),
                              [names[ins[0]]], [('kernel', w, wh), ('bias', b, bh)])
        elif op == 'Softmax':
            names[name] = add(lname(name), 'Activation', {'activation': 'softmax'}, [names[ins[0]]])
        elif op == 'AddN':
            (mul,) = consumers[name]
            assert nodes[mul]['op'] == 'Mul', name
            share = [i for i in inputs(nodes[mul]) if nodes[i]['op'] == 'Const'][0]
            scalar(share, 1 / len(ins))
            names[mul] = add('probabilities', 'Average', {}, [names[i] for i in ins])
            skip.add(mul)
        else:
            raise SystemExit(f'layers.py: no Keras layer for {op} ({name})')
    out = names[graph[-1]['name']]
    topology = {'class_name': 'Model', 'config': {'name': 'traffic_light_coco', 'layers': layers,
                                                  'input_layers': [['image', 0, 0]], 'output_layers': [[out, 0, 0]]},
                'keras_version': 'tfjs-layers 4.22.0', 'backend': 'tensor_flow.js'}
    os.makedirs(out_dir, exist_ok=True)
    model = {'format': 'layers-model', 'generatedBy': j.get('generatedBy'),
             'convertedBy': 'occlude training/pretrained/layers.py', 'modelTopology': topology,
             'weightsManifest': [{'paths': ['weights.bin'], 'weights': weights}]}
    with open(os.path.join(out_dir, 'weights.bin'), 'wb') as f:
        f.write(b''.join(blobs))
    with open(os.path.join(out_dir, 'model.json'), 'w') as f:
        json.dump(model, f, separators=(',', ':'))
    # the graph's occlude.json, plus the engine setting this model is measured and shipped with
    meta = json.load(open(os.path.join(src_dir, 'occlude.json')))
    meta['incremental'] = {'gates': 'frame'}
    with open(os.path.join(out_dir, 'occlude.json'), 'w') as f:
        json.dump(meta, f, indent=2)
        f.write('\n')
    return len(layers), sum(len(b) for b in blobs)


if __name__ == '__main__':
    if len(sys.argv) != 3:
        raise SystemExit('usage: layers.py GRAPH_MODEL_DIR OUT_DIR')
    print('layers %d, weights %d bytes' % convert(sys.argv[1], sys.argv[2]))
