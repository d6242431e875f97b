"""How fast are our caption metrics? BLEU-1..4 and CIDEr-D against pycocoevalcap.

On a synthetic evaluation set shaped like COCO's (``--images`` images, default
5,000, with 5 references each, captions of 8 to 15 words from a Zipf-like
vocabulary of 2,000 words; each candidate is one of its references with some
words replaced, so candidates share n-grams with their references as a
trained model's do), the script times, in one run:

- ours: ``course.caption_metrics.bleu``, ``cider_d`` and ``caption_scores``
  (both metrics, counting the n-grams once), validation included;
- pycocoevalcap: ``Bleu(4).compute_score`` and ``Cider().compute_score``
  (which is CIDEr-D), the COCO caption evaluation's scorers, on the same
  pre-tokenised captions (its Java PTB tokenizer is not run).

Every time is the median of ``--repeats`` runs after one warm-up run. The
last column is the largest difference between the two scores (corpus and
per caption), a check that the two computed the same thing. Everything runs
on one thread (neither uses BLAS).

Needs ``pip install pycocoevalcap``.

Usage::

    python benchmarks/caption_metrics.py              # 5,000 images, 3 repeats (about a minute)
    python benchmarks/caption_metrics.py --quick      # 1 repeat
    python benchmarks/caption_metrics.py --images 40504 --repeats 1   # COCO val2014's size
"""

from __future__ import annotations

import argparse
import sys

from timing import median_ms, set_threads

REFERENCES_PER_IMAGE = 5
VOCABULARY_SIZE = 2000
MIN_WORDS, MAX_WORDS = 8, 15


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000, help="images (default 5000)")
    parser.add_argument("--quick", action="store_true", help="1 repeat (a smoke test)")
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed repeats per measurement (default 3)"
    )
    args = parser.parse_args()
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    if args.images < 2:
        parser.error(f"--images must be at least 2 (CIDEr-D of one image is 0), got {args.images}")
    return args


def caption_set(num_images: int, seed: int = 0) -> tuple[dict, dict]:
    """(references, candidates): image id -> 5 reference captions, image id -> one candidate."""
    import numpy as np

    rng = np.random.default_rng(seed)
    words = np.array([f"w{k}" for k in range(VOCABULARY_SIZE)])
    p = 1 / np.arange(1, VOCABULARY_SIZE + 1)  # Zipf: "a", "on", "the" ... then rare words
    p /= p.sum()

    def caption() -> list[str]:
        return list(rng.choice(words, size=rng.integers(MIN_WORDS, MAX_WORDS + 1), p=p))

    references, candidates = {}, {}
    for image in range(num_images):
        refs = [caption() for _ in range(REFERENCES_PER_IMAGE)]
        candidate = list(refs[0])
        for k in rng.choice(len(candidate), size=len(candidate) // 3, replace=False):
            candidate[k] = rng.choice(words, p=p)  # a third of the words replaced
        references[image] = [" ".join(r) for r in refs]
        candidates[image] = " ".join(candidate)
    return references, candidates


def main() -> None:
    args = parse_args()
    set_threads(1)  # before numpy loads; also puts the checkout first on sys.path

    import numpy as np

    try:
        from pycocoevalcap.bleu.bleu import Bleu
        from pycocoevalcap.cider.cider import Cider
    except ImportError:
        sys.exit("pycocoevalcap is not installed: pip install pycocoevalcap")

    from course.caption_metrics import bleu, caption_scores, cider_d

    references, candidates = caption_set(args.images)
    res = {i: [c] for i, c in candidates.items()}  # pycocoevalcap's input form

    def coco_bleu():
        return Bleu(4).compute_score(references, res, verbose=0)

    def coco_cider():
        return Cider().compute_score(references, res)

    # The differences between the scores, corpus and per caption.
    ours_bleu, ours_per_bleu = bleu(references, candidates, return_per_caption=True)
    ours_cider, ours_per_cider = cider_d(references, candidates)
    (coco_b, coco_per_b), (coco_c, coco_per_c) = coco_bleu(), coco_cider()
    bleu_diff = max(
        np.abs(np.subtract(ours_bleu, coco_b)).max(),
        np.abs(ours_per_bleu - np.array(coco_per_b).T).max(),
    )
    cider_diff = max(abs(ours_cider - coco_c), np.abs(ours_per_cider - coco_per_c).max())

    print(
        f"{args.images} images x {REFERENCES_PER_IMAGE} references, median of "
        f"{args.repeats} repeats; BLEU-4 = {ours_bleu[3]:.4f}, CIDEr-D = {ours_cider:.4f}\n"
    )
    header = (
        f"{'metric':<18}{'ours ms':>10}{'pycocoevalcap ms':>18}{'pycocoevalcap/ours':>20}"
        f"{'max |diff|':>12}"
    )
    print(header)
    print("-" * len(header))
    rows = [
        ("BLEU-1..4", lambda: bleu(references, candidates), coco_bleu, bleu_diff),
        ("CIDEr-D", lambda: cider_d(references, candidates), coco_cider, cider_diff),
        (
            "both",
            lambda: caption_scores(references, candidates),
            lambda: (coco_bleu(), coco_cider()),
            max(bleu_diff, cider_diff),
        ),
    ]
    for name, ours, reference, diff in rows:
        ours_ms = median_ms(ours, args.repeats)
        reference_ms = median_ms(reference, args.repeats)
        print(
            f"{name:<18}{ours_ms:>10.0f}{reference_ms:>18.0f}{reference_ms / ours_ms:>20.1f}"
            f"{diff:>12.1e}",
            flush=True,
        )


if __name__ == "__main__":
    main()
