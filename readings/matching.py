"""Which passage of a new revision continues which passage of the old one.

Passages keep their rows and anchors across revisions, so everything that
points at a passage (notes, questions, assignments) stays valid. Matching is
in two steps:

1. Unchanged passages: the longest common subsequence of identical bodies
   (difflib on the lists of bodies), which also fixes the order.
2. Edited passages: inside each run the first step could not align, pair old
   and new passages by word similarity, keeping reading order, and only when
   they are similar enough to be "the same passage, edited". A paragraph
   split in two keeps its anchor on the half most like it; the other half is
   new. Everything unpaired is inserted (new) or retired (old).
"""

from collections.abc import Sequence
from difflib import SequenceMatcher

# Below this, an old and a new passage are different passages, not an edit.
SIMILARITY_THRESHOLD = 0.5
# A run of edits larger than this (old × new) is aligned greedily instead of
# by dynamic programming, to keep a rewrite of a huge text near-linear.
MAX_ALIGNMENT_CELLS = 40_000


def similarity(old: str, new: str) -> float:
    """Word-level similarity in [0, 1]: 1 for the same words in the same order."""
    old_words, new_words = old.split(), new.split()
    if not old_words and not new_words:
        return 1.0
    matcher = SequenceMatcher(None, old_words, new_words, autojunk=False)
    if matcher.real_quick_ratio() < SIMILARITY_THRESHOLD or matcher.quick_ratio() < SIMILARITY_THRESHOLD:
        return 0.0
    return matcher.ratio()


def _align_edits(old: Sequence[str], new: Sequence[str]) -> list[tuple[int, int]]:
    """Order-keeping pairs (i, j) of similar passages maximising total similarity."""
    if not old or not new:
        return []
    if len(old) * len(new) > MAX_ALIGNMENT_CELLS:
        return _align_greedily(old, new)
    rows, cols = len(old), len(new)
    score = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    weight: dict[tuple[int, int], float] = {}
    for i in range(1, rows + 1):
        for j in range(1, cols + 1):
            best = max(score[i - 1][j], score[i][j - 1])
            w = similarity(old[i - 1], new[j - 1])
            if w >= SIMILARITY_THRESHOLD:
                weight[(i - 1, j - 1)] = w
                best = max(best, score[i - 1][j - 1] + w)
            score[i][j] = best
    pairs = []
    i, j = rows, cols
    while i > 0 and j > 0:
        w = weight.get((i - 1, j - 1))
        if w is not None and score[i][j] == score[i - 1][j - 1] + w:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif score[i - 1][j] >= score[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return pairs[::-1]


def _align_greedily(old: Sequence[str], new: Sequence[str]) -> list[tuple[int, int]]:
    pairs, start = [], 0
    for j, body in enumerate(new):
        for i in range(start, min(len(old), start + 8)):
            if similarity(old[i], body) >= SIMILARITY_THRESHOLD:
                pairs.append((i, j))
                start = i + 1
                break
    return pairs


def match_revision(old: Sequence[str], new: Sequence[str]) -> dict[int, int]:
    """Map the index of each new passage that continues an old one to that old index.

    Both sequences are passage bodies in reading order. The mapping is
    one-to-one and keeps order (if new a < new b then old(a) < old(b)).
    """
    mapping: dict[int, int] = {}
    matcher = SequenceMatcher(None, list(old), list(new), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            mapping.update({j1 + k: i1 + k for k in range(i2 - i1)})
        elif tag == "replace":
            for i, j in _align_edits(old[i1:i2], new[j1:j2]):
                mapping[j1 + j] = i1 + i
    return mapping
