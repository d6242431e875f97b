"""The training losses of the image-sentence ranking model (:mod:`course.models.ranking`).

Both take the (N, N) scores ``S[i, j] = s(image i, caption j)`` of a batch of
N matched pairs (the positives on the diagonal) and return the loss and its
gradient with respect to S:

- :func:`bidirectional_ranking_loss`: the max-margin (hinge) loss, summed
  over the negatives or on the hardest one;
- :func:`bidirectional_contrastive_loss`: a softmax over the batch both ways
  (InfoNCE), optionally corrected by :class:`SentenceFrequencies` for how
  often each sentence is drawn.
"""

from __future__ import annotations

import numpy as np

from course.models._ranking_validation import (
    validate_contrastive_loss_inputs,
    validate_ranking_loss_inputs,
)
from course.models._recurrent import log_softmax

__all__ = ["SentenceFrequencies", "bidirectional_contrastive_loss", "bidirectional_ranking_loss"]


def bidirectional_ranking_loss(
    scores: np.ndarray,
    margin: float,
    negatives: np.ndarray | None = None,
    hardest_negative: bool = False,
) -> tuple[float, np.ndarray]:
    """Bidirectional max-margin ranking loss of N matched pairs, and its gradient.

    With ``S = scores`` and the positives ``S[i, i]`` on the diagonal,
    1. image i against caption j: ``c_ij = max(0, margin - S[i, i] + S[i, j])``
    2. caption i against image j: ``d_ij = max(0, margin - S[i, i] + S[j, i])``
    3. ``loss = sum_{j negative} (c_ij + d_ij) / N`` (Kiros et al. 2014,
       Karpathy & Fei-Fei 2015); with ``hardest_negative`` only the largest
       c_ij and the largest d_ij of every i count (VSE++, Faghri et al. 2018).

    Inputs:
    - scores: (N, N) S[i, j] = s(image i, caption j); pair i is (image i, caption i)
    - margin: > 0
    - negatives: (N, N) bool, True where image i and caption j do not belong
      together (symmetric); None: every j != i. The diagonal must be False.
    - hardest_negative: sum over negatives (False) or the hardest one (True)

    Returns:
    - loss: float
    - dscores: (N, N), the gradient in the dtype of scores
    """
    negatives = validate_ranking_loss_inputs(scores, margin, negatives)
    N = scores.shape[0]
    positive = np.diag(scores)[:, None]  # (N, 1)
    cost_c = np.maximum(0, margin - positive + scores) * negatives  # (N, N): image i, caption j
    cost_d = np.maximum(0, margin - positive + scores.T) * negatives.T  # caption i, image j
    if hardest_negative:  # keep each row's largest hinge only
        cost_c, cost_d = _row_maximum_only(cost_c), _row_maximum_only(cost_d)
    loss = float((cost_c.sum() + cost_d.sum()) / N)
    active_c, active_d = cost_c > 0, cost_d > 0  # where the hinges have slope 1
    dscores = active_c.astype(scores.dtype) + active_d.T  # +1 on each negative's score
    dscores[np.diag_indices(N)] -= active_c.sum(axis=1) + active_d.sum(axis=1)  # -1 per hinge
    return loss, dscores / N


def bidirectional_contrastive_loss(
    scores: np.ndarray,
    temperature: float,
    negatives: np.ndarray | None = None,
    log_q: np.ndarray | None = None,
) -> tuple[float, np.ndarray]:
    """Bidirectional softmax contrastive loss (InfoNCE) of N matched pairs, and its gradient.

    Each image picks its caption out of the batch's captions, and each
    caption its image out of the batch's images, by a softmax over the
    logits ``A = S / temperature - log_q`` (CLIP, Radford et al. 2021):
    1. ``A[i, j] = S[i, j] / temperature - log_q[j]``, -inf where j is neither i
       nor a negative of i
    2. image i -> caption: ``l_i = logsumexp_j A[i, j] - A[i, i]`` (a softmax along row i)
    3. caption j -> image: ``m_j = logsumexp_i A[i, j] - A[j, j]`` (along column j,
       where ``log_q[j]`` is one constant and cancels)
    4. ``loss = sum_i (l_i + m_i) / N``

    The batch's captions are drawn with probabilities q (a frequent
    sentence is a negative more often), so without the correction the
    softmax learns ``S / temperature = log P(t | i) - log q(t) + c(i)``;
    subtracting ``log q`` (the "logQ" correction of sampled softmax; Bengio &
    Senecal 2008, Yi et al. 2019) makes it learn ``log P(t | i) + c(i)``, which
    ranks an image's captions as the data draws them.

    Inputs:
    - scores: (N, N) S[i, j] = s(image i, caption j); pair i is (image i, caption i)
    - temperature: > 0; the logits are S / temperature
    - negatives: (N, N) bool as in :func:`bidirectional_ranking_loss`; None: every j != i
    - log_q: None or (N,) the log-probability with which caption j was drawn

    Returns:
    - loss: float
    - dscores: (N, N), the gradient in the dtype of scores
    """
    negatives, log_q = validate_contrastive_loss_inputs(scores, temperature, negatives, log_q)
    N = scores.shape[0]
    eye = np.eye(N, dtype=bool)
    logits = scores / temperature - (0 if log_q is None else log_q[None, :])  # (N, N)
    logits = np.where(negatives | eye, logits, -np.inf)
    log_p_rows = log_softmax(logits)  # (N, N): image i over the captions
    log_p_cols = log_softmax(logits.T).T  # (N, N): caption j over the images
    loss = -float(np.trace(log_p_rows) + np.trace(log_p_cols)) / N
    # d(logsumexp - A_ii)/dA = softmax - one-hot, for each row and each column
    dlogits = np.exp(log_p_rows) + np.exp(log_p_cols) - 2 * eye  # (N, N)
    return loss, (dlogits / (N * temperature)).astype(scores.dtype, copy=False)


class SentenceFrequencies:
    """How often each sentence occurs among a split's captions: ``q(t) = count(t) / M``.

    A batch of training pairs holds each sentence with probability q(t);
    :func:`bidirectional_contrastive_loss` takes ``log q`` of a batch's
    captions to correct for it. A sentence with no count (a validation
    caption never seen in training) counts once.
    """

    def __init__(self, captions: np.ndarray, null_index: int = 0) -> None:
        """Count the sentences of ``captions`` (M, T); padding anywhere is not a word."""
        self.null_index = int(null_index)
        keys = self._keys(captions)
        self.total = len(keys)
        self.counts: dict[bytes, int] = {}
        for key in keys:
            self.counts[key] = self.counts.get(key, 0) + 1

    def _keys(self, captions: np.ndarray) -> list[bytes]:
        """One key per caption: the bytes of its words, without padding."""
        return [row[row != self.null_index].astype(np.int64).tobytes() for row in captions]

    def log_q(self, captions: np.ndarray) -> np.ndarray:
        """(N,) float64: ``log q`` of each of ``captions`` (N, T)."""
        counts = np.array([self.counts.get(key, 1) for key in self._keys(captions)], float)
        return np.log(counts / self.total)


def _row_maximum_only(cost: np.ndarray) -> np.ndarray:
    """``cost`` with all but the first largest entry of every row set to 0."""
    keep = np.zeros(cost.shape, dtype=bool)
    keep[np.arange(len(cost)), cost.argmax(axis=1)] = True
    return np.where(keep, cost, 0)
