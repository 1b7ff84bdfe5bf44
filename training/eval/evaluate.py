# Evaluation entry point: runs the recipe's eval step (slipstream_train/evaluate.py: validation and
# test loss, FIM exact-match / first-line on held-out files, drafter tokens per step over a grid)
# for a config and prints the results JSON. Usage (from the repository root):
#   training/run.sh --config training/configs/full.json --steps eval        (same thing)
#   /usr/bin/python3 training/eval/evaluate.py --config training/configs/full.json [--force]
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from slipstream_train.run import Recipe, set_threads  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--force", action="store_true", help="recompute even if results exist")
    args = ap.parse_args()
    cfg = json.load(open(args.config))
    set_threads(cfg)
    r = Recipe(cfg)
    if args.force and os.path.exists(r.path("eval", "results.json")):
        os.remove(r.path("eval", "results.json"))
    r.step_eval()
    res = json.load(open(r.path("eval", "results.json")))
    res.pop("examples", None)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
