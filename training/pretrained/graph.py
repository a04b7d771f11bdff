"""Assemble the shipped TF.js GraphModel: the pretrained backbone's nodes up to the two feature maps the
head reads (taken unchanged, with their float16 weights, from the detector's model.json and .bin), then
the head trained here, as plain TF ops. Input [N, H, W, 3] in 0-255 (occlude.json says so with
"range": [0, 255]); output [N, 3] class probabilities."""
import base64, json, os
import numpy as np

FEATURES = ('tower_0/MobilenetV3/expanded_conv_5/add', 'tower_0/MobilenetV3/expanded_conv_11/add')
INPUT = 'tower_0/images'
OUTPUT = 'occlude/probabilities'


def b64(s):
    return base64.b64encode(s.encode()).decode()


def read_backbone(src_dir, name='centernet'):
    j = json.load(open(os.path.join(src_dir, f'{name}.json')))
    data = b''.join(open(os.path.join(src_dir, p), 'rb').read() for m in j['weightsManifest'] for p in m['paths'])
    specs, off = {}, 0
    for w in (w for m in j['weightsManifest'] for w in m['weights']):
        n = int(np.prod(w['shape'])) if w['shape'] else 1
        size = 2 if w.get('quantization', {}).get('dtype') == 'float16' else 4
        specs[w['name']] = (w, data[off:off + n * size])
        off += n * size
    assert off == len(data), (off, len(data))
    return j, specs


def _attr_list(v):
    return {'list': {'i': [str(x) for x in v]}}


def export(src_dir, heads, out_dir, width=455):
    """heads: one head or a list of them, each a dict of numpy arrays a_w [3,3,C8,A] a_b, b_w [3,3,A+C16,B] b_b,
    c_w [1,1,B,B] c_b, fc_w [2B,3] fc_b. Several heads read the same backbone maps; the output is the mean of
    their probabilities."""
    heads = heads if isinstance(heads, list) else [heads]
    j, specs = read_backbone(src_dir)
    nodes = {n['name']: n for n in j['modelTopology']['node']}
    keep, todo = set(), list(FEATURES)
    while todo:
        n = todo.pop()
        if n in keep:
            continue
        keep.add(n)
        todo += [i.split(':')[0].lstrip('^') for i in nodes[n].get('input', [])]
    graph = [nodes[n] for n in (x['name'] for x in j['modelTopology']['node']) if n in keep]
    for n in graph:
        if n['name'] == INPUT:
            n['attr']['shape'] = {'shape': {'dim': [{'size': '-1'}, {'size': '-1'}, {'size': str(width)}, {'size': '3'}]}}
    weights, blobs = [], []
    for n in graph:
        if n['op'] == 'Const' and n['name'] in specs:
            w, raw = specs[n['name']]
            weights.append(w)
            blobs.append(raw)

    def const(name, arr, dtype='float32'):
        arr = np.ascontiguousarray(arr, dtype=np.float32 if dtype == 'float32' else np.int32)
        graph.append({'name': name, 'op': 'Const', 'attr': {
            'value': {'tensor': {'dtype': 'DT_FLOAT' if dtype == 'float32' else 'DT_INT32',
                                 'tensorShape': {'dim': [{'size': str(d)} for d in arr.shape]} if arr.shape else {}}},
            'dtype': {'type': 'DT_FLOAT' if dtype == 'float32' else 'DT_INT32'}}})
        weights.append({'name': name, 'shape': list(arr.shape), 'dtype': dtype})
        blobs.append(arr.tobytes())
        return name

    def conv(name, x, w, b, stride):
        graph.append({'name': name, 'op': '_FusedConv2D', 'input': [x, const(name + '/weights', w), const(name + '/bias', b)],
                      'attr': {'T': {'type': 'DT_FLOAT'}, 'num_args': {'i': '1'}, 'epsilon': {'f': 0},
                               'strides': _attr_list([1, stride, stride, 1]), 'dilations': _attr_list([1, 1, 1, 1]),
                               'padding': {'s': b64('SAME')}, 'data_format': {'s': b64('NHWC')},
                               'explicit_paddings': {'list': {}},
                               'fused_ops': {'list': {'s': [b64('BiasAdd'), b64('Relu')]}}}})
        return name

    f8, f16 = FEATURES

    def add_head(p, head, probs):  # the head's ops under prefix p, ending in its probabilities (node `probs`)
        a = conv(p + 'a', f8, head['a_w'], head['a_b'], 2)
        ax3 = const(p + 'axis3', np.array(3), 'int32')
        graph.append({'name': p + 'concat', 'op': 'ConcatV2', 'input': [a, f16, ax3],
                      'attr': {'T': {'type': 'DT_FLOAT'}, 'N': {'i': '2'}, 'Tidx': {'type': 'DT_INT32'}}})
        b = conv(p + 'b', p + 'concat', head['b_w'], head['b_b'], 1)
        c = conv(p + 'c', b, head['c_w'], head['c_b'], 1)
        hw = const(p + 'hw', np.array([1, 2]), 'int32')
        for op, nm in (('Max', 'max'), ('Mean', 'mean')):
            graph.append({'name': p + nm, 'op': op, 'input': [c, hw],
                          'attr': {'T': {'type': 'DT_FLOAT'}, 'Tidx': {'type': 'DT_INT32'}, 'keep_dims': {'b': False}}})
        ax1 = const(p + 'axis1', np.array(1), 'int32')
        graph.append({'name': p + 'pooled', 'op': 'ConcatV2', 'input': [p + 'max', p + 'mean', ax1],
                      'attr': {'T': {'type': 'DT_FLOAT'}, 'N': {'i': '2'}, 'Tidx': {'type': 'DT_INT32'}}})
        graph.append({'name': p + 'logits', 'op': '_FusedMatMul',
                      'input': [p + 'pooled', const(p + 'fc/weights', head['fc_w']), const(p + 'fc/bias', head['fc_b'])],
                      'attr': {'T': {'type': 'DT_FLOAT'}, 'num_args': {'i': '1'}, 'epsilon': {'f': 0},
                               'transpose_a': {'b': False}, 'transpose_b': {'b': False},
                               'fused_ops': {'list': {'s': [b64('BiasAdd')]}}}})
        graph.append({'name': probs, 'op': 'Softmax', 'input': [p + 'logits'], 'attr': {'T': {'type': 'DT_FLOAT'}}})
        return probs

    if len(heads) == 1:
        add_head('occlude/head/', heads[0], OUTPUT)
    else:
        probs = [add_head(f'occlude/head{k + 1}/', h, f'occlude/head{k + 1}/probabilities') for k, h in enumerate(heads)]
        graph.append({'name': 'occlude/sum', 'op': 'AddN', 'input': probs, 'attr': {'T': {'type': 'DT_FLOAT'}, 'N': {'i': str(len(probs))}}})
        graph.append({'name': OUTPUT, 'op': 'Mul', 'input': ['occlude/sum', const('occlude/share', np.array(1 / len(heads)))],
                      'attr': {'T': {'type': 'DT_FLOAT'}}})
    os.makedirs(out_dir, exist_ok=True)
    model = {
        'format': 'graph-model',
        'generatedBy': 'occlude training/pretrained (backbone: ' + j.get('generatedBy', '') + ')',
        'convertedBy': 'occlude training/pretrained/graph.py',
        'signature': {
            'inputs': {INPUT: {'name': INPUT, 'dtype': 'DT_FLOAT', 'tensorShape': {'dim': [{'size': '-1'}, {'size': '-1'}, {'size': str(width)}, {'size': '3'}]}}},
            'outputs': {OUTPUT: {'name': OUTPUT, 'dtype': 'DT_FLOAT', 'tensorShape': {'dim': [{'size': '-1'}, {'size': '3'}]}}}},
        'modelTopology': {'node': graph, 'library': {}, 'versions': j['modelTopology'].get('versions', {})},
        'weightsManifest': [{'paths': ['weights.bin'], 'weights': weights}],
    }
    with open(os.path.join(out_dir, 'weights.bin'), 'wb') as f:
        f.write(b''.join(blobs))
    with open(os.path.join(out_dir, 'model.json'), 'w') as f:
        json.dump(model, f, separators=(',', ':'))
    return sum(len(x) for x in blobs)
