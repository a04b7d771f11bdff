"""The training log every run writes beside its model: each line printed and appended to OUT/training-log.txt."""
import os


def open_log(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    f = open(os.path.join(out_dir, 'training-log.txt'), 'w')

    def log(msg):
        print(msg, flush=True)
        f.write(msg + '\n')
        f.flush()
    return log
