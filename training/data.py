"""Read a synth data set (DIR/manifest.json + JPEGs) into memory at the model's input size."""
import hashlib, json, os
import numpy as np
import torch
from PIL import Image

import tlnet


def load_frame(path):
    """Full-resolution frame as float32 [H,W,3] in [0,1]."""
    return torch.from_numpy(np.asarray(Image.open(path).convert('RGB'), dtype=np.float32) / 255.0)


def load_set(d, limit=None, log=print):
    m = json.load(open(os.path.join(d, 'manifest.json')))
    cases = m['cases'][:limit] if limit else m['cases']
    n = len(cases)
    # preprocessed frames are cached beside the data, keyed by the manifest's content
    key = hashlib.md5(open(os.path.join(d, 'manifest.json'), 'rb').read()).hexdigest()[:12]
    cache = os.path.join(d, f'.cache-{tlnet.INPUT_H}x{tlnet.INPUT_W}-{n}-{key}.npy')
    if os.path.exists(cache):
        x = np.load(cache)
        y = np.array([tlnet.LABELS.index(c['class']) for c in cases], dtype=np.int64)
        return x, y, cases
    x = np.empty((n, tlnet.INPUT_H, tlnet.INPUT_W, 3), dtype=np.uint8)
    y = np.empty(n, dtype=np.int64)
    for s in range(0, n, 64):
        chunk = cases[s:s + 64]
        imgs = torch.stack([load_frame(os.path.join(d, c['image'])) for c in chunk])
        r = tlnet.preprocess(imgs).permute(0, 2, 3, 1)
        x[s:s + len(chunk)] = (r * 255 + 0.5).clamp(0, 255).to(torch.uint8).numpy()
        y[s:s + len(chunk)] = [tlnet.LABELS.index(c['class']) for c in chunk]
        if (s // 64) % 40 == 0:
            log(f'  loaded {s + len(chunk)}/{n} from {d}')
    try:
        np.save(cache, x)
    except OSError:
        pass
    return x, y, cases
