#!/usr/bin/env python3
"""Several models as the branches of one measurement graph (issue #18, fifteenth session): one input, each model's
probabilities side by side in one output (NAME_none, NAME_red, NAME_green for each model, in the order given).
training/variants.mjs runs it over occlude's patch grid once, and training/combine.py then gives the map of any
combiner of these models offline, without another occlusion run.

  python3 training/branches.py DST NAME=DIR [NAME=DIR ...] [--stack COMBINER.json]

Each DIR is a LayersModel folder with occlude's traffic-light labels and the same input size and fit. The first one's
input range is the graph's; a model with another range ([0, 255]) gets a Rescaling layer in front. Every layer is
renamed NAME_LAYER, except that a model whose layers outside its heads (`head*` and the `probabilities` average of
traffic-light-coco's layout) are an earlier model's, with the same weights byte for byte, adds only its heads on that
model's backbone: traffic-light-coco and other heads trained on its frozen backbone cost one backbone. Weights are
copied byte for byte. occlude.json is the first model's, with the labels above and the `incremental` settings of any
model that has them (traffic-light-coco's frame gates), so that occlude scores the graph as it scores each model.
Without --stack it is not a model to ship: its output is not one probability vector. --stack COMBINER.json (a
combiner that training/combine.py measure --save fitted on these branches, in this order) adds that combiner as a
softmax Dense layer `stack` on the branches' probabilities: then the graph is the combined model, labels none, red,
green, one probability vector as occlude expects, with what the shared backbones save."""
import json, os, sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), 'pretrained'))
import graph  # noqa: E402  (read_backbone: a TF.js model's weights, split by its manifest)
from stack import combiner_layer, combiner_weights  # noqa: E402  (the combiner's Dense layer, as stack.py write writes it)

LABELS = ['none', 'red', 'green']


def is_head(layer_name):
    return layer_name.startswith('head') or layer_name == 'probabilities'


def copy(x):
    return json.loads(json.dumps(x))


def main():
    args = sys.argv[1:]
    stack = None
    if '--stack' in args:
        i = args.index('--stack')
        if i + 1 >= len(args):
            sys.exit('--stack: expected a COMBINER.json')
        stack = json.load(open(args[i + 1]))
        del args[i:i + 2]
    if len(args) < 2 or any('=' not in a for a in args[1:]):
        sys.exit(__doc__.split('\n\n')[1])
    dst, specs = args[0], [a.split('=', 1) for a in args[1:]]
    names = [n for n, _ in specs]
    if len(set(names)) != len(names) or any(not n.isidentifier() for n in names):
        sys.exit(f'model names must be distinct identifiers: {names}')
    if stack is not None and (stack.get('branches') != names or stack.get('labels') != LABELS
                              or len(stack['W']) != 3 * len(names) or any(len(r) != 3 for r in stack['W'])):
        sys.exit(f'--stack: a combiner of the branches {names} in this order, with W of {3 * len(names)} rows of 3 (combine.py measure --save)')
    models = []
    for name, d in specs:
        m, weights = graph.read_backbone(d, 'model')
        o = json.load(open(os.path.join(d, 'occlude.json')))
        if o['labels'] != LABELS:
            sys.exit(f'{d}: labels {o["labels"]}, expected {LABELS}')
        cfg = m['modelTopology']['config']
        if cfg['layers'][0]['class_name'] != 'InputLayer':
            sys.exit(f'{d}: the model must start with its InputLayer')
        models.append({'name': name, 'dir': d, 'model': m, 'weights': weights, 'occlude': o, 'config': cfg})
    first = models[0]
    for m in models[1:]:
        for k in ('size', 'fit', 'channels'):
            if m['occlude']['input'].get(k) != first['occlude']['input'].get(k):
                sys.exit(f'input {k}: {m["occlude"]["input"].get(k)} in {m["dir"]}, {first["occlude"]["input"].get(k)} in {first["dir"]}')
        if m['config']['layers'][0]['config']['batch_input_shape'] != first['config']['layers'][0]['config']['batch_input_shape']:
            sys.exit(f'{m["dir"]}: another input shape than {first["dir"]}')
    inp = first['config']['layers'][0]['name']
    lo, hi = first['occlude']['input']['range']
    layers, weights, data, outputs = [first['config']['layers'][0]], [], [], []
    added = []  # (model, its renaming) of the models added whole, whose backbones later heads may share
    for m in models:
        name, cfg = m['name'], m['config']
        m_in = cfg['layers'][0]['name']
        shared = None
        body = [l['name'] for l in cfg['layers'][1:] if not is_head(l['name'])]
        for earlier, ren in added:
            same_layers = all(n in ren for n in body)
            same_weights = all(w in earlier['weights'] and earlier['weights'][w][1] == raw
                               for w, (_, raw) in m['weights'].items() if not is_head(w.split('/')[0]))
            if same_layers and same_weights:
                shared = ren
                break
        if shared is not None:
            keep = [l for l in cfg['layers'][1:] if is_head(l['name'])]
            ren = dict(shared)
            ren.update({l['name']: f'{name}_{l["name"]}' for l in keep})
            source = 'shared'
        else:
            keep = cfg['layers'][1:]
            ren = {l['name']: f'{name}_{l["name"]}' for l in keep}
            (mlo, mhi) = m['occlude']['input']['range']
            if mlo != lo:
                sys.exit(f'{m["dir"]}: input ranges must start at the same value')
            if mhi != hi:
                ren[m_in] = f'{name}_range'
                layers.append({'name': f'{name}_range', 'class_name': 'Rescaling',
                               'config': {'name': f'{name}_range', 'trainable': True, 'dtype': 'float32', 'scale': mhi / hi, 'offset': 0},
                               'inbound_nodes': [[[inp, 0, 0, {}]]]})
            else:
                ren[m_in] = inp
            added.append((m, ren))
            source = 'whole'
        for l in keep:
            l = copy(l)
            l['name'] = l['config']['name'] = ren[l['name']]
            for node in l['inbound_nodes']:
                for inbound in node:
                    inbound[0] = ren[inbound[0]]
            layers.append(l)
        for w, (spec, raw) in m['weights'].items():
            if source == 'shared' and not is_head(w.split('/')[0]):
                continue
            weights.append(dict(spec, name=f'{name}_{w}'))
            data.append(raw)
        (out,) = cfg['output_layers']
        outputs.append([ren[out[0]], 0, 0, {}])
        print(f'{name}: {m["dir"]}, {"heads on an earlier backbone" if source == "shared" else "whole"}')
    if len({l['name'] for l in layers}) != len(layers):
        sys.exit('two layers of the graph have the same name')
    if len(outputs) > 1:  # TF.js' Concatenate takes two inputs or more; one model's output is its probabilities
        layers.append({'name': 'branches', 'class_name': 'Concatenate', 'config': {'name': 'branches', 'trainable': True, 'axis': -1},
                       'inbound_nodes': [outputs]})
    out = 'branches' if len(outputs) > 1 else outputs[0][0]
    if stack is not None:
        layers.append(combiner_layer(out))
        stack_specs, stack_data = combiner_weights(stack['W'], stack['b'])
        weights += stack_specs
        data += stack_data
        out = 'stack'
    topo = dict(first['model']['modelTopology'])
    topo['config'] = {'name': out, 'layers': layers, 'input_layers': [[inp, 0, 0]], 'output_layers': [[out, 0, 0]]}
    os.makedirs(dst, exist_ok=True)
    json.dump({'format': 'layers-model', 'generatedBy': 'occlude training/branches.py', 'convertedBy': None, 'modelTopology': topo,
               'weightsManifest': [{'paths': ['weights.bin'], 'weights': weights}]}, open(os.path.join(dst, 'model.json'), 'w'))
    open(os.path.join(dst, 'weights.bin'), 'wb').write(b''.join(data))
    o = copy(first['occlude'])
    o['labels'] = LABELS if stack is not None else [f'{n}_{c}' for n in names for c in LABELS]
    for m in models:
        if 'incremental' in m['occlude']:
            o['incremental'] = m['occlude']['incremental']
    json.dump(o, open(os.path.join(dst, 'occlude.json'), 'w'), indent=2)
    print(f'{dst}: {len(layers)} layers, {sum(len(d) for d in data)} bytes of weights, outputs {", ".join(o["labels"])}')


if __name__ == '__main__':
    main()
