"""Image-sentence ranking: images and captions in one embedding space, for retrieval.

The talk's last model (Karpathy & Fei-Fei 2015; Kiros et al. 2014): an image
and a sentence that describe each other should land close together.

- Image side: projected CNN features, ``u = normalize(features @ W_img + b_img)``
  (optionally through a hidden ReLU layer first, ``image_hidden_dim``).
- Sentence side: word embedding -> RNN or LSTM over the caption's words ->
  the hidden state after its last real (non-``<NULL>``) word ->
  ``v = normalize(h_last @ W_sent + b_sent)``.
- Score: the cosine similarity ``s(image, caption) = u . v``; with
  ``caption_bias`` plus a scalar of the caption alone, ``beta = h_last @ w_bias``:
  ``s = u . v + beta``, how likely the caption is whatever the image.

Training uses N matched pairs (row i of ``features`` and of ``captions``
belong together): with ``S = u v^T (+ beta)`` (N, N), the positives on its
diagonal, either
- ``objective='hinge'``: the bidirectional max-margin ranking loss
  (:func:`bidirectional_ranking_loss`) pushes every matched pair above every
  mismatched one by ``margin``, for image -> caption and for caption -> image
  queries; or
- ``objective='contrastive'``: a softmax over the batch both ways
  (:func:`bidirectional_contrastive_loss`, InfoNCE with a ``temperature``),
  corrected for how often each sentence is drawn (``sentence_frequencies``),
  so that ``S`` learns log P(caption | image): an image's likely captions
  ("a red circle") above its merely possible ones.

Evaluation ranks whole test splits (:func:`ranking_metrics`: Recall@K and
median rank) by ``embed_images(f) @ embed_captions(c).T``, which holds the
caption bias too (weighted by ``bias_weight``: see
:meth:`ImageSentenceRanker.embed_captions`); :func:`retrieve` answers one
query caption (``course.plots.show_retrieval`` draws the answer).

Training with the Solver: X = image features of the pairs, y = their
captions (``course.recipes.ranker.caption_pairs`` builds them from an
image-level split);
``loss(X, y)`` is all the Solver calls. A ranking model has no class scores,
so the Solver measures it with ``metric='loss'`` (the mean validation loss
picks the best epoch); ``course.recipes.ranker.train_ranker`` does all this
and also records the validation Recall@K after every epoch::

    model = ImageSentenceRanker(len(vocab), feature_dim=1024)
    solver, history = train_ranker(model, (f_train, c_train, idx_train),
                                   (f_val, c_val, idx_val), num_epochs=10)
    ranking_metrics(model.embed_images(f_test), model.embed_captions(c_test), idx_test)

Dimension letters: N images (or pairs), M captions, F feature size, E joint
embedding size, T time steps, D word-vector size, Hd hidden size, Hi image
hidden size, V vocabulary size; G = 1 for 'rnn' and 4 for 'lstm'.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course import layers
from course.models._ranking_validation import (
    require_pairs,
    validate_caption_texts,
    validate_captions,
    validate_metric_inputs,
    validate_objective_options,
    validate_query,
    validate_ranker_options,
)
from course.models._recurrent import init_recurrent_params
from course.models._validation import validate_features, validate_recurrent_model
from course.models.ranking_losses import (
    SentenceFrequencies,
    bidirectional_contrastive_loss,
    bidirectional_ranking_loss,
)
from course.validation import require_positive_int

__all__ = [
    "ImageSentenceRanker",
    "SentenceFrequencies",
    "bidirectional_contrastive_loss",
    "bidirectional_ranking_loss",
    "ranking_metrics",
    "retrieve",
]

# The fast sequence layers; the LSTM's forward also returns its last cell state, unused here.
_FORWARD = {"rnn": layers.rnn_forward_fused, "lstm": layers.lstm_forward_fused}
_BACKWARD = {"rnn": layers.rnn_backward_fused, "lstm": layers.lstm_backward_fused}
_EPS = 1e-12  # inside the norm's square root: a zero vector normalises to 0, not NaN


class ImageSentenceRanker:
    """Images and captions embedded in one space, scored by cosine similarity.

    Parameters: ``W_img`` (F, E), ``b_img`` (E,) project the image features
    (with ``image_hidden_dim`` Hi: ``W_img_hidden`` (F, Hi), ``b_img_hidden``
    (Hi,) and ReLU first, and ``W_img`` is (Hi, E));
    ``W_embed`` (V, D), ``Wx`` (D, G*Hd), ``Wh`` (Hd, G*Hd), ``b`` (G*Hd,)
    are the sentence encoder (zero initial state); ``W_sent`` (Hd, E),
    ``b_sent`` (E,) project its last hidden state; with ``caption_bias``,
    ``w_bias`` (Hd,) reads the caption's bias from it.

    ``margin``, ``hardest_negative``, ``temperature`` and ``bias_weight`` are
    plain attributes and may be changed between trainings: VSE++ (Faghri et
    al. 2018) trains with the sum over negatives first and switches to the
    hardest negative later. ``sentence_frequencies`` (None, or a
    :class:`SentenceFrequencies` of the training captions, which
    ``train_ranker`` sets) is what the contrastive loss corrects for.
    """

    def __init__(
        self,
        vocab_size: int,
        feature_dim: int,
        embed_dim: int = 256,
        wordvec_dim: int = 64,
        hidden_dim: int = 256,
        cell: str = "lstm",
        margin: float = 0.2,
        hardest_negative: bool = False,
        objective: str = "hinge",
        temperature: float = 0.05,
        caption_bias: bool = False,
        bias_weight: float = 1.0,
        reg: float = 0.0,
        image_hidden_dim: int = 0,
        null_index: int = 0,
        dtype: type | np.dtype = np.float32,
        seed: int = 0,
    ) -> None:
        """Build the model.

        Inputs:
        - vocab_size: V; feature_dim: F; embed_dim: E; wordvec_dim: D; hidden_dim: Hd
        - cell: 'lstm' or 'rnn', the sentence encoder
        - margin: > 0, how far a matched pair must score above a mismatched one
        - hardest_negative: False sums the hinge over all negatives of a query
          (Kiros et al. 2014); True keeps only the hardest one (VSE++)
        - objective: 'hinge' (margin, hardest_negative) or 'contrastive'
          (temperature > 0; 0.05 for CLIP-like unit vectors)
        - caption_bias: add ``beta = h_last @ w_bias`` to every score of the caption
        - bias_weight: >= 0, gamma: ranking adds ``gamma * beta`` (``embed_captions``),
          training always all of it. Below 1 it trades how often the top
          captions are true for Recall@K under the standard protocol (see
          ``course.recipes.ranker``)
        - reg: >= 0, L2 weight decay of the weight matrices (``W*``): the loss
          gains ``reg / 2 * sum W^2``
        - image_hidden_dim: 0 (a linear image projection) or Hi, the size of a
          hidden ReLU layer before it
        - null_index: the padding word; captions are encoded without it
        - dtype: np.float32 or np.float64, of the parameters and all outputs
        - seed: int seed of the initial weights
        """
        sizes = {
            "vocab_size": vocab_size,
            "feature_dim": feature_dim,
            "embed_dim": embed_dim,
            "wordvec_dim": wordvec_dim,
            "hidden_dim": hidden_dim,
        }
        self.cell, self.dtype = validate_recurrent_model("ImageSentenceRanker", sizes, cell, dtype)
        Hi = require_positive_int(
            "ImageSentenceRanker", "image_hidden_dim", image_hidden_dim, True
        )
        validate_ranker_options(margin, hardest_negative, null_index, vocab_size)
        validate_objective_options(objective, temperature, caption_bias, bias_weight, reg)
        self.vocab_size, self.feature_dim, self.embed_dim = vocab_size, feature_dim, embed_dim
        self.wordvec_dim, self.hidden_dim = wordvec_dim, hidden_dim
        self.margin, self.hardest_negative = float(margin), bool(hardest_negative)
        self.objective, self.temperature = objective, float(temperature)
        self.caption_bias, self.bias_weight = bool(caption_bias), float(bias_weight)
        self.reg = float(reg)
        self.image_hidden_dim = Hi
        self.null_index = int(null_index)
        self.sentence_frequencies: SentenceFrequencies | None = None

        rng = np.random.default_rng(seed)
        V, F, E, D, Hd = vocab_size, feature_dim, embed_dim, wordvec_dim, hidden_dim
        Wx, Wh, b = init_recurrent_params(rng, D, Hd, self.cell, self.dtype)
        params = {
            "W_img": rng.standard_normal((Hi or F, E)) / np.sqrt(Hi or F),
            "b_img": np.zeros(E),
            "W_embed": rng.standard_normal((V, D)) / 10,
            "Wx": Wx,
            "Wh": Wh,
            "b": b,
            "W_sent": rng.standard_normal((Hd, E)) / np.sqrt(Hd),
            "b_sent": np.zeros(E),
        }
        if self.caption_bias:
            params["w_bias"] = np.zeros(Hd)
        if Hi:  # He initialisation before the ReLU
            params["W_img_hidden"] = rng.standard_normal((F, Hi)) * np.sqrt(2 / F)
            params["b_img_hidden"] = np.zeros(Hi)
        self.params: dict[str, np.ndarray] = {k: v.astype(self.dtype) for k, v in params.items()}

    # ------------------------------------------------------------------ training

    def loss(
        self, features: np.ndarray, captions: np.ndarray | None = None
    ) -> tuple[float, dict[str, np.ndarray]]:
        """The ranking loss of N matched (image, caption) pairs, and its gradients.

        The pairs' scores ``S = u v^T + beta`` (beta = 0 without the caption
        bias) go to the ``objective``'s loss; a contrastive loss subtracts
        ``log q`` of the captions when ``sentence_frequencies`` is set; with
        ``reg`` the loss gains ``reg / 2`` times the weight matrices' squares.

        Pairs whose feature rows are identical (one image captioned twice in
        the batch), or whose captions are the same sentence, are not
        negatives of each other. A ranking model scores
        pairs, so it has no scores without captions: ``loss(features)``
        raises TypeError (train with ``Solver(..., metric='loss')``; embed
        with :meth:`embed_images` and :meth:`embed_captions`).

        Inputs:
        - features: (N, F) image features, row i the image of caption i
        - captions: (N, T) integer word indices in [0, V), ``null_index``
          padding (anywhere); each row needs at least one other word

        Returns:
        - loss: float, :func:`bidirectional_ranking_loss` (hinge) or
          :func:`bidirectional_contrastive_loss` of S, plus the L2 term
        - grads: dict keyed like ``params``, each of its parameter's dtype
        """
        func = "ImageSentenceRanker.loss"
        features = validate_features(func, features, self.feature_dim, self.dtype, "feature_dim")
        captions = validate_captions(func, captions, self.vocab_size, self.null_index)
        require_pairs(func, features, captions)
        u, image_cache = self._embed_images(features)  # (N, E), unit rows
        v, beta, caption_cache = self._embed_captions(captions)  # (N, E) unit rows, (N,)
        S = u @ v.T + beta  # (N, E) @ (E, N) -> (N, N): S[i, j] = s(image i, caption j)
        negatives = _negatives(features, captions)
        if self.objective == "hinge":
            loss, dS = bidirectional_ranking_loss(S, self.margin, negatives, self.hardest_negative)
        else:
            log_q = None
            if self.sentence_frequencies is not None:
                log_q = self.sentence_frequencies.log_q(captions)
            loss, dS = bidirectional_contrastive_loss(S, self.temperature, negatives, log_q)
        grads = self._backward_images(dS @ v, image_cache)  # du = dS v
        # dv = dS^T u; dbeta_j = sum_i dS_ij
        grads.update(self._backward_captions(dS.T @ u, dS.sum(axis=0), caption_cache))
        for name in self._regularised():  # L2: loss += reg/2 |W|^2, dW += reg W
            loss += 0.5 * self.reg * float(np.sum(self.params[name] ** 2))
            grads[name] = grads[name] + self.reg * self.params[name]
        return loss, {k: grads[k].astype(p.dtype, copy=False) for k, p in self.params.items()}

    def _regularised(self) -> list[str]:
        """The weight matrices that the L2 term ``reg`` shrinks (not the biases)."""
        return [name for name in self.params if name.startswith("W")] if self.reg else []

    # The two towers, forward and backward side by side.

    def _embed_images(self, features: np.ndarray) -> tuple[np.ndarray, tuple]:
        """u = normalize(x @ W_img + b_img): (N, E), and the cache.

        x is ``features`` (N, F), or with ``image_hidden_dim`` the hidden layer
        ``x = max(0, features @ W_img_hidden + b_img_hidden)`` (N, Hi).
        """
        p = self.params
        x, hidden_cache = features, None
        if self.image_hidden_dim:
            x, hidden_cache = layers.affine_relu_forward(
                features, p["W_img_hidden"], p["b_img_hidden"]
            )  # (N, Hi)
        r, affine_cache = layers.affine_forward(x, p["W_img"], p["b_img"])  # (N, E)
        u, norm_cache = _normalize_forward(r)
        return u, (hidden_cache, affine_cache, norm_cache)

    def _backward_images(self, du: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
        hidden_cache, affine_cache, norm_cache = cache
        grads: dict[str, np.ndarray] = {}
        dr = _normalize_backward(du, norm_cache)
        dx, grads["W_img"], grads["b_img"] = layers.affine_backward(dr, affine_cache)
        if hidden_cache is not None:
            _, grads["W_img_hidden"], grads["b_img_hidden"] = layers.affine_relu_backward(
                dx, hidden_cache
            )
        return grads

    def _embed_captions(self, captions: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
        """v = normalize(h_last @ W_sent + b_sent): (M, E), beta (M,), and the cache.

        1. Move every caption's words to its front (``_pack_words``), so that
           caption m's last word sits at column ``last[m]``.
        2. Embed and run the recurrent layer over them; the states after
           ``last[m]`` read padding and are never used.
        3. Project the state after the last word and normalise.
        4. The caption bias ``beta = h_last @ w_bias`` (zeros without the head).
        """
        p = self.params
        words, last = _pack_words(captions, self.null_index)  # (M, L), (M,)
        x, embed_cache = layers.word_embedding_forward(words, p["W_embed"])  # (M, L, D)
        h0 = np.zeros((len(words), self.hidden_dim), dtype=self.dtype)
        h, *_, rnn_cache = _FORWARD[self.cell](x, h0, p["Wx"], p["Wh"], p["b"])  # (M, L, Hd)
        h_last = h[np.arange(len(words)), last]  # (M, Hd)
        r, affine_cache = layers.affine_forward(h_last, p["W_sent"], p["b_sent"])  # (M, E)
        v, norm_cache = _normalize_forward(r)
        beta = h_last @ p["w_bias"] if self.caption_bias else np.zeros(len(v), v.dtype)  # (M,)
        return v, beta, (embed_cache, rnn_cache, h.shape, h_last, last, affine_cache, norm_cache)

    def _backward_captions(
        self, dv: np.ndarray, dbeta: np.ndarray, cache: tuple
    ) -> dict[str, np.ndarray]:
        embed_cache, rnn_cache, h_shape, h_last, last, affine_cache, norm_cache = cache
        grads: dict[str, np.ndarray] = {}
        dr = _normalize_backward(dv, norm_cache)
        dh_last, grads["W_sent"], grads["b_sent"] = layers.affine_backward(dr, affine_cache)
        if self.caption_bias:
            grads["w_bias"] = h_last.T @ dbeta  # (Hd, M) @ (M,) -> (Hd,)
            dh_last = dh_last + dbeta[:, None] * self.params["w_bias"]  # (M, Hd)
        dh = np.zeros(h_shape, dtype=dh_last.dtype)  # (M, L, Hd): only the last word's state
        dh[np.arange(h_shape[0]), last] = dh_last
        dx, _, grads["Wx"], grads["Wh"], grads["b"] = _BACKWARD[self.cell](dh, rnn_cache)
        grads["W_embed"] = layers.word_embedding_backward(dx, embed_cache)
        return grads

    # ----------------------------------------------------------------- inference

    def embed_images(self, features: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Image embeddings of ``features`` (N, F), in batches: u (N, E), unit rows.

        With ``caption_bias`` each row gets a last entry 1: ``[u, 1]`` (N, E + 1),
        so that its dot product with ``embed_captions``' ``[v, gamma * beta]``
        is the whole ranking score ``u . v + gamma * beta``.
        """
        func = "ImageSentenceRanker.embed_images"
        features = validate_features(func, features, self.feature_dim, self.dtype, "feature_dim")
        batch_size = require_positive_int(func, "batch_size", batch_size)
        u = np.concatenate(
            [
                self._embed_images(features[start : start + batch_size])[0]
                for start in range(0, len(features), batch_size)
            ]
        )  # (N, E)
        return np.hstack([u, np.ones((len(u), 1), u.dtype)]) if self.caption_bias else u

    def embed_captions(self, captions: np.ndarray, batch_size: int = 1000) -> np.ndarray:
        """Caption embeddings of ``captions`` (M, T), in batches: v (M, E), unit rows.

        With ``caption_bias`` each row gets the caption's weighted bias as a
        last entry: ``[v, gamma * beta]`` (M, E + 1), gamma = ``bias_weight``.
        Any score computed as ``embed_images(f) @ embed_captions(c).T``
        (``ranking_metrics``, ``retrieve``, ``truth_metrics``) is then the
        model's ranking score ``u . v + gamma * beta``. The bias is one number
        per caption, so it reorders the captions of an image, never the
        images of a caption.

        Each batch keeps only its own forward cache, so 50,000 captions embed
        in the memory of ``batch_size`` of them (the default LSTM, T = 12,
        float32: a peak of about 120 MB at ``batch_size=1000``).
        """
        func = "ImageSentenceRanker.embed_captions"
        captions = validate_captions(func, captions, self.vocab_size, self.null_index)
        batch_size = require_positive_int(func, "batch_size", batch_size)
        parts = []
        for start in range(0, len(captions), batch_size):
            v, beta, _ = self._embed_captions(captions[start : start + batch_size])
            bias = self.bias_weight * beta[:, None]  # (M, 1)
            parts.append(np.hstack([v, bias]) if self.caption_bias else v)
        return np.concatenate(parts)  # (M, E) or (M, E + 1)


# ---------------------------------------------------------------------------
# The pieces of the forward pass, as pure functions
# ---------------------------------------------------------------------------


def _normalize_forward(r: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Rows scaled to unit length: ``u = r / s`` with ``s = sqrt(|r|^2 + eps)``, (N, E)."""
    s = np.sqrt(np.sum(r * r, axis=1, keepdims=True) + _EPS)  # (N, 1)
    u = r / s
    return u, (u, s)


def _normalize_backward(du: np.ndarray, cache: tuple) -> np.ndarray:
    """dr = (du - u (u . du)) / s: only the part of du across u changes the direction.

    Exact for the eps in s too: du_k/dr_l = (delta_kl - u_k u_l) / s.
    """
    u, s = cache
    return (du - u * np.sum(u * du, axis=1, keepdims=True)) / s


def _pack_words(captions: np.ndarray, null_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Each caption's non-null words moved to its front, in order, and its last column.

    Inputs:
    - captions: (M, T) word indices, ``null_index`` padding anywhere

    Returns:
    - words: (M, L) with L the most words in a caption; words[m, :n_m] are
      caption m's n_m words and the rest is ``null_index``
    - last: (M,) n_m - 1, the column of caption m's last word
    """
    real = captions != null_index  # (M, T)
    lengths = real.sum(axis=1)  # (M,)
    front = np.argsort(~real, axis=1, kind="stable")  # real words first, in order
    words = np.take_along_axis(captions, front, axis=1)[:, : lengths.max()]  # (M, L)
    return words, lengths - 1


def _negatives(features: np.ndarray, captions: np.ndarray) -> np.ndarray:
    """(N, N) True where pair i's image and pair j's caption may be a negative.

    They may not when the feature rows are equal (one image captioned twice
    in the batch) or when the captions are the same sentence (drawn for two
    images, it is true of both).
    """
    negatives = np.ones((len(features), len(features)), dtype=bool)
    for rows in (features, captions):
        _, ids = np.unique(rows, axis=0, return_inverse=True)
        ids = ids.reshape(-1)  # (N,): equal rows share an id
        negatives &= ids[:, None] != ids[None, :]
    return negatives


# ---------------------------------------------------------------------------
# Evaluation and retrieval
# ---------------------------------------------------------------------------


def ranking_metrics(
    image_emb: np.ndarray,
    caption_emb: np.ndarray,
    caption_image_idxs: np.ndarray,
    ks: Sequence[int] = (1, 5, 10),
    caption_texts: Sequence[str] | None = None,
) -> dict[str, float]:
    """Recall@K and median rank of image -> caption and caption -> image retrieval.

    The protocol of Karpathy & Fei-Fei (2015), ranks counted from 1 over
    ``S = image_emb @ caption_emb.T`` (N, M):
    - image -> caption: an image's rank is the best rank among its captions;
    - caption -> image: a caption's rank is the rank of its image.
    Ties count against the query (every item scoring at least as high as
    the answer ranks above it), so a model that scores everything the same
    ranks last, not first. S is held whole: N * M floats.

    With ``caption_texts``, identical sentences are one caption (the
    distinct-caption protocol): a procedural dataset draws the same sentence
    ("a large square") for many images, and those copies are the same item,
    which the plain protocol would count as wrong answers tied with the right
    one. An image's captions are then its distinct sentences, and a sentence
    answers to every image it was drawn for (its rank: the best of theirs).

    Inputs:
    - image_emb: (N, E) image embeddings (``model.embed_images``)
    - caption_emb: (M, E) caption embeddings (``model.embed_captions``)
    - caption_image_idxs: (M,) ints, the image of each caption; every
      image needs at least one caption
    - ks: the K of Recall@K
    - caption_texts: None, or the (M,) sentences of the captions

    Returns:
    - dict with 'i2t_R@K' (for each K), 'i2t_median_rank', 't2i_R@K',
      't2i_median_rank'; R@K is a fraction in [0, 1] (the papers print it
      as a percentage), the median rank a float >= 1
    """
    ks = validate_metric_inputs(image_emb, caption_emb, caption_image_idxs, ks)
    N, M = len(image_emb), len(caption_emb)
    if caption_texts is None:
        own = caption_image_idxs[None, :] == np.arange(N)[:, None]  # (N, M): j is image i's
    else:
        texts = validate_caption_texts(caption_texts, M)
        _, first, distinct = np.unique(texts, return_index=True, return_inverse=True)
        caption_emb = caption_emb[first]  # (U, E): one row per distinct sentence
        own = np.zeros((N, len(first)), dtype=bool)  # (N, U)
        own[caption_image_idxs, distinct.ravel()] = True
    S = image_emb @ caption_emb.T  # (N, E) @ (E, M) -> (N, M)
    # 1. Image -> caption: how many other captions score at least its best own caption.
    best_own = np.where(own, S, -np.inf).max(axis=1)  # (N,)
    i2t_rank = 1 + np.count_nonzero((S >= best_own[:, None]) & ~own, axis=1)  # (N,)
    # 2. Caption -> image: how many other images score at least its best own image.
    answer = np.where(own, S, -np.inf).max(axis=0)  # (M,)
    t2i_rank = 1 + np.count_nonzero((S >= answer[None, :]) & ~own, axis=0)  # (M,)
    metrics: dict[str, float] = {}
    for name, rank in (("i2t", i2t_rank), ("t2i", t2i_rank)):
        for k in ks:
            metrics[f"{name}_R@{k}"] = float(np.mean(rank <= k))
        metrics[f"{name}_median_rank"] = float(np.median(rank))
    return metrics


def retrieve(
    model: ImageSentenceRanker, caption: np.ndarray, image_features: np.ndarray, k: int = 5
) -> np.ndarray:
    """The k images that score highest for one query caption, best first.

    A caption bias is one number for the query, so it never changes the order.

    Inputs:
    - model: a trained ImageSentenceRanker
    - caption: (T,) or (1, T) word indices of the query
    - image_features: (N, F) features of the images to search
    - k: how many to return, 1 <= k <= N

    Returns:
    - indices: (k,) int rows of ``image_features``, by decreasing score
    """
    func = "retrieve"
    caption = validate_query(func, caption)
    k = require_positive_int(func, "k", k)
    u = model.embed_images(image_features)  # (N, E)
    if k > len(u):
        raise ValueError(f"{func}: k = {k} but there are only {len(u)} images to search")
    v = model.embed_captions(caption)[0]  # (E,)
    return np.argsort(-(u @ v), kind="stable")[:k]  # (N, E) @ (E,) -> (N,) scores
