"""Image captioning: CNN features -> RNN or LSTM -> a caption, word by word.

``CaptioningRNN`` is the CS231n class (same constructor, parameters,
attributes, ``loss(features, captions)`` and ``sample(features, max_length)``),
so CS231n captioning material runs unchanged, built on this project's layers
(the fused recurrent layers for training). Beyond CS231n it has the talk's
options:

- ``image_input='bias'``: the image enters as a bias of the first step only
  (below), instead of CS231n's projected initial state ``'h0'`` (default).
- ``init_bias_from``: softmax biases set to the log word frequencies.
- decoding by greedy search, temperature sampling (``sample``) and beam
  search (``beam_search``, length-normalised, vectorised over images and
  beams), each with the log-probability of every word; ``score_captions``
  gives those of any caption.

How the image enters (Hd hidden size, G = 1 for 'rnn', 4 for 'lstm'):

- ``'h0'`` (CS231n): ``h0 = features @ W_proj + b_proj``, W_proj (D, Hd);
  c0 = 0 for the LSTM.
- ``'bias'`` (the talk, Karpathy & Fei-Fei 2015): ``b_v = features @ W_proj
  + b_proj``, W_proj (D, G*Hd), is added to the pre-activation of the first
  step only, with h0 = c0 = 0: ``h_1 = tanh(x_1 Wx + b + b_v)`` for the RNN
  and, for the LSTM, ``b_v`` shifts all four gates of the first step. The
  talk writes ``max(0, ...)`` for a ReLU RNN; here the nonlinearity is the
  cell's own (the course's RNN is tanh, CS231n's), so both cells are defined.

Training with the Solver: X = features (N, D), y = captions (N, T + 1) (the
first column ``<START>``). ``loss(X, y)`` is all the Solver calls; it has
no scores without captions, so measure with ``metric='loss'``::

    solver = Solver(model, {"X_train": f_train, "y_train": c_train,
                            "X_val": f_val, "y_val": c_val},
                    update_rule="adam",  # or "rmsprop"
                    optim_config={"learning_rate": 5e-3}, grad_clip=5.0,
                    metric="loss", batch_size=25, num_epochs=50)

Dimension letters: N images, D feature size (``input_dim``), W word-vector
size, Hd hidden size, V vocabulary size, T time steps, L ``max_length``.

This module passes 400 lines because it is one class, CS231n's API and its
decoders, mostly docstrings; the beam search itself is ``_beam_search``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from course import layers
from course.models._beam_search import State, Step, beam_search, length_penalty
from course.models._captioning_validation import (
    END_TOKEN,
    NULL_TOKEN,
    START_TOKEN,
    validate_beam_options,
    validate_captioning_model,
    validate_captions,
    validate_decoding,
    validate_log_frequencies,
    validate_scored_captions,
    validate_temperature,
)
from course.models._recurrent import log_softmax, make_rng, sample_step
from course.models._validation import validate_features

__all__ = ["CaptioningRNN", "beam_search_one_image", "log_softmax"]


class CaptioningRNN:
    """CNN features -> RNN or LSTM -> softmax over the next word (the CS231n class).

    Parameters: ``W_proj`` (D, Hd), or (D, G*Hd) with image_input='bias';
    ``b_proj`` (Hd,) or (G*Hd,); ``W_embed`` (V, W); ``Wx`` (W, G*Hd);
    ``Wh`` (Hd, G*Hd); ``b`` (G*Hd,); ``W_vocab`` (Hd, V); ``b_vocab`` (V,).
    CS231n's initialisation: normal weights scaled by 1/sqrt(fan_in)
    (W_embed by 1/100), zero biases.

    Attributes CS231n code reads: ``params``, ``word_to_idx``, ``idx_to_word``
    (dict index -> word), ``_null``, ``_start``, ``_end`` (indices; the last
    two None when word_to_idx lacks them), ``cell_type``, ``dtype``.
    V = len(word_to_idx), as in CS231n: captions must use indices below V.

    Generated captions (``sample``, ``beam_search``) are (N, L) arrays of the
    words after ``<START>``, ``<END>`` included where it was generated, then
    ``<NULL>`` (CS231n's sample leaves garbage after ``<END>``; the shape is
    the same). ``<NULL>`` and ``<START>`` are never generated.
    """

    def __init__(
        self,
        word_to_idx: Mapping[str, int],
        input_dim: int = 512,
        wordvec_dim: int = 128,
        hidden_dim: int = 128,
        cell_type: str = "rnn",
        dtype: type | np.dtype = np.float32,
        *,
        seed: int | None = None,
        image_input: str = "h0",
        init_bias_from: np.ndarray | None = None,
    ) -> None:
        """Build the model.

        Inputs:
        - word_to_idx: dict word -> index with '<NULL>' (and '<START>', '<END>'
          to generate), or a ``course.data.Vocabulary``
        - input_dim: D; wordvec_dim: W; hidden_dim: Hd
        - cell_type: 'rnn' or 'lstm'
        - dtype: np.float32 or np.float64, of the parameters and all outputs
        - seed: None draws the weights from numpy's global random state, as
          CS231n does (``np.random.seed(231)`` first gives its weights); an int
          draws the same numbers from a private ``np.random.RandomState(seed)``
        - image_input: 'h0' (CS231n) or 'bias' (see the module docstring)
        - init_bias_from: None, or (V,) log word frequencies for ``b_vocab``
        """
        sizes = {"input_dim": input_dim, "wordvec_dim": wordvec_dim, "hidden_dim": hidden_dim}
        self.word_to_idx, self.cell_type, self.dtype = validate_captioning_model(
            word_to_idx, sizes, cell_type, dtype, image_input, seed
        )
        self.idx_to_word = {i: w for w, i in self.word_to_idx.items()}
        self._null = self.word_to_idx[NULL_TOKEN]
        self._start = self.word_to_idx.get(START_TOKEN)
        self._end = self.word_to_idx.get(END_TOKEN)
        self.input_dim, self.wordvec_dim, self.hidden_dim = input_dim, wordvec_dim, hidden_dim
        self.vocab_size = len(self.word_to_idx)
        self.image_input = image_input

        rng = np.random if seed is None else np.random.RandomState(seed)
        V, D, W, Hd = self.vocab_size, input_dim, wordvec_dim, hidden_dim
        GHd = (4 if self.cell_type == "lstm" else 1) * Hd
        P = GHd if image_input == "bias" else Hd  # width of the image's projection
        params = {  # CS231n's draws, in its order
            "W_embed": rng.randn(V, W) / 100,
            "W_proj": rng.randn(D, P) / np.sqrt(D),
            "b_proj": np.zeros(P),
            "Wx": rng.randn(W, GHd) / np.sqrt(W),
            "Wh": rng.randn(Hd, GHd) / np.sqrt(Hd),
            "b": np.zeros(GHd),
            "W_vocab": rng.randn(Hd, V) / np.sqrt(Hd),
            "b_vocab": np.zeros(V),
        }
        self.params: dict[str, np.ndarray] = {k: v.astype(self.dtype) for k, v in params.items()}
        if init_bias_from is not None:
            self.init_bias_from(init_bias_from)

    def init_bias_from(self, log_frequencies: np.ndarray) -> None:
        """Set ``b_vocab`` to ``log_frequencies`` (V,), e.g. ``vocab.log_frequencies()``.

        The untrained model then predicts the unigram distribution of the
        words rather than a uniform one, which saves the first, wasted part
        of training (and keeps the early gradients from only learning it).
        """
        func = "CaptioningRNN.init_bias_from"
        bias = validate_log_frequencies(func, log_frequencies, self.vocab_size)
        self.params["b_vocab"] = bias.astype(self.dtype)

    # ------------------------------------------------------------------ training

    def loss(
        self, features: np.ndarray, captions: np.ndarray | None = None
    ) -> tuple[float, dict[str, np.ndarray]]:
        """The loss of ``captions`` given ``features``, and its gradients (CS231n's loss).

        The model reads ``captions[:, :-1]`` and predicts ``captions[:, 1:]``
        (teacher forcing); targets that are ``<NULL>`` are masked out. The loss
        is summed over the time steps and averaged over the N images.

        Inputs:
        - features: (N, D) image features
        - captions: (N, T + 1) integer word indices in [0, V), usually
          ``<START>`` first and ``<NULL>``-padded after ``<END>``

        Returns:
        - loss: float
        - grads: dict keyed like ``params``, each of its parameter's dtype
        """
        func = "CaptioningRNN.loss"
        features = validate_features(func, features, self.input_dim, self.dtype)
        captions = validate_captions(func, captions, len(features), self.vocab_size, min_length=2)
        captions_in, captions_out = captions[:, :-1], captions[:, 1:]  # (N, T) each
        scores, (embed_cache, rnn_cache, affine_cache) = self._scores(features, captions_in)
        mask = captions_out != self._null  # (N, T): padding adds nothing
        loss, dscores = layers.temporal_softmax_loss(scores, captions_out, mask)

        grads: dict[str, np.ndarray] = {}
        dh, grads["W_vocab"], grads["b_vocab"] = layers.temporal_affine_backward(
            dscores, affine_cache
        )
        dx, rnn_grads = self._recurrence_backward(dh, rnn_cache)
        grads.update(rnn_grads)
        grads["W_embed"] = layers.word_embedding_backward(dx, embed_cache)
        p = self.params
        return loss, {k: grads[k].astype(p[k].dtype, copy=False) for k in p}

    def _scores(self, features: np.ndarray, words: np.ndarray) -> tuple[np.ndarray, tuple]:
        """Scores (N, T, V) of the word after each of ``words`` (N, T), and the caches."""
        p = self.params
        x, embed_cache = layers.word_embedding_forward(words, p["W_embed"])  # (N, T, W)
        h, rnn_cache = self._recurrence_forward(x, features)  # (N, T, Hd)
        scores, affine_cache = layers.temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        return scores, (embed_cache, rnn_cache, affine_cache)

    def _recurrence_forward(self, x: np.ndarray, features: np.ndarray) -> tuple[np.ndarray, tuple]:
        """Hidden states (N, T, Hd) for word vectors x (N, T, W), the image entering as set."""
        p = self.params
        if self.image_input == "h0":
            h0, proj_cache = layers.affine_forward(features, p["W_proj"], p["b_proj"])  # (N, Hd)
            h, cache = self._sequence_forward(x, h0)
            return h, (proj_cache, cache)
        # 'bias': step 1 by itself, [x_1, features] @ [Wx; W_proj] + b + b_proj, from zeros.
        x1, Wx1, b1 = self._first_step_inputs(x[:, 0], features)
        zeros = np.zeros((len(x), self.hidden_dim), dtype=self.dtype)
        if self.cell_type == "lstm":
            h1, c1, step_cache = layers.lstm_step_forward(x1, zeros, zeros, Wx1, p["Wh"], b1)
        else:
            (h1, step_cache), c1 = layers.rnn_step_forward(x1, zeros, Wx1, p["Wh"], b1), None
        if x.shape[1] == 1:
            return h1[:, None], (step_cache, None)
        rest, cache = self._sequence_forward(x[:, 1:], h1, c1)  # (N, T - 1, Hd)
        return np.concatenate([h1[:, None], rest], axis=1), (step_cache, cache)

    def _recurrence_backward(
        self, dh: np.ndarray, cache: tuple
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Backward of ``_recurrence_forward``: dx (N, T, W) and the recurrent/projection grads."""
        if self.image_input == "h0":
            proj_cache, seq_cache = cache
            dx, dh0, _, dWx, dWh, db = self._sequence_backward(dh, seq_cache)
            _, dW_proj, db_proj = layers.affine_backward(dh0, proj_cache)
            return dx, {"W_proj": dW_proj, "b_proj": db_proj, "Wx": dWx, "Wh": dWh, "b": db}
        step_cache, seq_cache = cache
        dh1, dc1, dxs = dh[:, 0], np.zeros_like(dh[:, 0]), []
        dWx = dWh = db = 0
        if seq_cache is not None:  # steps 2..T flow back into h1 (and c1)
            dx_rest, dh1_rest, dc1_rest, dWx, dWh, db = self._sequence_backward(
                dh[:, 1:], seq_cache
            )
            dh1, dxs = dh1 + dh1_rest, [dx_rest]
            dc1 = dc1 if dc1_rest is None else dc1_rest
        if self.cell_type == "lstm":
            dx1, _, _, dWx1, dWh1, db1 = layers.lstm_step_backward(dh1, dc1, step_cache)
        else:
            dx1, _, dWx1, dWh1, db1 = layers.rnn_step_backward(dh1, step_cache)
        W = self.wordvec_dim  # dx1 (N, W + D) and dWx1 (W + D, G*Hd) split at W
        dx = np.concatenate([dx1[:, None, :W], *dxs], axis=1)  # (N, T, W)
        grads = {"W_proj": dWx1[W:], "b_proj": db1, "Wx": dWx + dWx1[:W]}
        return dx, {**grads, "Wh": dWh + dWh1, "b": db + db1}

    def _first_step_inputs(
        self, x1: np.ndarray, features: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The first step of image_input='bias' as one ordinary step: its (x, Wx, b).

        ``x1 @ Wx + features @ W_proj + b + b_proj`` is
        ``[x1, features] @ [Wx; W_proj] + (b + b_proj)``.
        """
        p = self.params
        x = np.concatenate([x1, features], axis=1)  # (N, W + D)
        Wx = np.concatenate([p["Wx"], p["W_proj"]], axis=0)  # (W + D, G*Hd)
        return x, Wx, p["b"] + p["b_proj"]

    def _sequence_forward(
        self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray | None = None
    ) -> tuple[np.ndarray, tuple]:
        """The fused RNN/LSTM layer over x (N, T, W) from h0 (and c0): h (N, T, Hd), cache."""
        p = self.params
        if self.cell_type == "lstm":
            h, _, cache = layers.lstm_forward_fused(x, h0, p["Wx"], p["Wh"], p["b"], c0=c0)
            return h, cache
        return layers.rnn_forward_fused(x, h0, p["Wx"], p["Wh"], p["b"])

    def _sequence_backward(self, dh: np.ndarray, cache: tuple) -> tuple:
        """Backward of ``_sequence_forward``: (dx, dh0, dc0 or None, dWx, dWh, db)."""
        if self.cell_type == "lstm":
            dx, dh0, dWx, dWh, db, *dc0 = layers.lstm_backward_fused(dh, cache)
            return dx, dh0, (dc0[0] if dc0 else None), dWx, dWh, db
        dx, dh0, dWx, dWh, db = layers.rnn_backward_fused(dh, cache)
        return dx, dh0, None, dWx, dWh, db

    # ------------------------------------------------------------------ decoding

    def score_captions(self, features: np.ndarray, captions: np.ndarray) -> np.ndarray:
        """Log-probability of every word of ``captions`` given its image and the words before.

        Inputs:
        - features: (N, D) image features
        - captions: (N, L) the words after ``<START>`` (as ``sample`` returns
          them; training captions c become ``c[:, 1:]``), ``<NULL>``-padded

        Returns:
        - word_logprobs: (N, L) float64, log P(captions[:, t] | captions[:, :t],
          image); 0 where the word is ``<NULL>``. ``.sum(axis=1)`` is
          log P(caption | image), the quantity beam search maximises.
        """
        func = "CaptioningRNN.score_captions"
        features = validate_features(func, features, self.input_dim, self.dtype)
        N, V = len(features), self.vocab_size
        captions = validate_scored_captions(func, captions, N, V, self._start)
        start = np.full((N, 1), self._start, dtype=captions.dtype)
        words_in = np.concatenate([start, captions[:, :-1]], axis=1)  # (N, L)
        scores, _ = self._scores(features, words_in)  # (N, L, V)
        picked = np.take_along_axis(log_softmax(scores), captions[..., None], axis=2)[..., 0]
        return np.where(captions != self._null, picked, 0.0)

    def decoder(self, features: np.ndarray) -> tuple[Step, State]:
        """The one-step decoder of ``features`` (N, D): ``step`` and its initial state.

        ``step(words, state, t) -> (log_probs, state)``: ``words`` (M,) are
        the previous words (``<START>`` at t = 0), ``state`` is (h, c), each
        (M, Hd), starting with M = N rows (c unused by the RNN); log_probs
        (M, V) float64, log P(next word | words so far, image). With
        image_input='h0' the rows are independent, so a beam search may
        reorder, repeat or drop them (M beams); with 'bias' the first step
        reads ``features`` and needs M = N. ``sample`` and ``beam_search``
        decode with it.
        """
        features = validate_features("CaptioningRNN.decoder", features, self.input_dim, self.dtype)
        p = self.params
        zeros = np.zeros((len(features), self.hidden_dim), dtype=self.dtype)
        h0 = features @ p["W_proj"] + p["b_proj"] if self.image_input == "h0" else zeros

        def step(words: np.ndarray, state: State, t: int) -> tuple[np.ndarray, State]:
            h, c = state
            x, Wx, b = p["W_embed"][words], p["Wx"], p["b"]  # x (M, W)
            if t == 0 and self.image_input == "bias":
                x, Wx, b = self._first_step_inputs(x, features)
            h, c = sample_step(self.cell_type, x, h, c, Wx, p["Wh"], b)
            return log_softmax(h @ p["W_vocab"] + p["b_vocab"]), (h, c)

        return step, (h0, zeros)

    def _banned(self) -> list[int]:
        """Words never generated: ``<NULL>`` (padding) and ``<START>``."""
        return [i for i in (self._null, self._start) if i is not None and i < self.vocab_size]

    def sample(
        self,
        features: np.ndarray,
        max_length: int = 30,
        *,
        temperature: float | None = None,
        seed: int | np.random.Generator | None = 0,
        return_logprobs: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """Caption every image word by word: greedy (CS231n's ``sample``) or by sampling.

        From ``<START>`` and the image, each step feeds the previous word and
        takes the likeliest next word (``temperature=None``), or draws it from
        ``softmax(scores / temperature)``. A caption ends at ``<END>``.

        Inputs:
        - features: (N, D) image features
        - max_length: L, the most words per caption
        - temperature: None (greedy), or > 0 (below 1 more conservative)
        - seed: int or np.random.Generator, for sampling
        - return_logprobs: also return the words' log-probabilities

        Returns:
        - captions: (N, L) int64, the words after ``<START>`` (``<END>`` included
          where generated), then ``<NULL>``
        - word_logprobs (with return_logprobs): (N, L) float64, the model's
          log P(word | words before, image) at temperature 1; 0 after the end
        """
        func = "CaptioningRNN.sample"
        features = validate_features(func, features, self.input_dim, self.dtype)
        L = validate_decoding(func, max_length, self._start, self.vocab_size)
        temperature = validate_temperature(func, temperature)
        captions, word_lp = self._generate(features, L, temperature, make_rng(seed))
        return (captions, word_lp) if return_logprobs else captions

    def _generate(
        self,
        features: np.ndarray,
        L: int,
        temperature: float | None = None,
        rng: np.random.Generator | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Greedy (temperature None) or sampled captions (N, L) and word log-probs (N, L)."""
        N = len(features)
        captions = np.full((N, L), self._null, dtype=np.int64)
        word_lp = np.zeros((N, L))
        step, state = self.decoder(features)
        words = np.full(N, self._start, dtype=np.int64)
        done = np.zeros(N, dtype=bool)
        banned = self._banned()
        for t in range(L):
            log_probs, state = step(words, state, t)  # (N, V)
            allowed = log_probs.copy()
            allowed[:, banned] = -np.inf
            if temperature is None:
                words = np.argmax(allowed, axis=1)
            else:  # softmax(scores / T) = softmax(log_probs / T), drawn by its inverse CDF
                z = allowed / temperature
                cdf = np.cumsum(np.exp(z - z.max(axis=1, keepdims=True)), axis=1)  # (N, V)
                u = rng.random(N)[:, None] * cdf[:, -1:]  # uniform in [0, total)
                words = np.argmax(cdf > u, axis=1)  # the first word whose cdf passes u
            words = np.where(done, self._null, words)
            captions[:, t] = words
            word_lp[:, t] = np.where(done, 0.0, log_probs[np.arange(N), words])
            done |= words == self._end
            if done.all():
                break
        return captions, word_lp

    def beam_search(
        self,
        features: np.ndarray,
        beam_width: int = 5,
        max_length: int = 30,
        *,
        length_normalization: float = 0.0,
        include_greedy: bool = True,
        return_logprobs: bool = False,
    ) -> tuple[np.ndarray, ...]:
        """The likeliest caption of every image by beam search (``course.models._beam_search``).

        Keeps the ``beam_width`` best partial captions of every image at every
        step, all images and beams in one batch; finished captions compete by
        ``log P / ((5 + |Y|) / 6) ** length_normalization`` (GNMT's length
        penalty, Wu et al. 2016). A caption has at least one word: ``<END>``
        is never the first (greedy decoding may end at once; a raw
        log-probability can favour that). Apart from this, ``beam_width=1`` is
        greedy decoding.

        Beam search is not monotone in its width: a wider beam can prune the
        greedy caption's prefix for others that end worse. With
        ``include_greedy`` (default) the greedy caption competes too, so the
        result never scores below a non-empty greedy caption; False gives the
        plain search.

        Inputs:
        - features: (N, D) image features
        - beam_width: k, the partial captions kept per image
        - max_length: L, the most words per caption
        - length_normalization: alpha >= 0; 0 ranks by log P (favours short
          captions), about 0.6 to 1 removes most of that bias
        - include_greedy: let the greedy caption compete (one more decoding of N rows)
        - return_logprobs: also return every word's log-probability

        Returns:
        - captions: (N, L) int64, as ``sample`` returns them
        - logprobs: (N,) float64, log P(caption | image) (not normalised)
        - word_logprobs (with return_logprobs): (N, L) float64, 0 after the end
        """
        func = "CaptioningRNN.beam_search"
        features = validate_features(func, features, self.input_dim, self.dtype)
        L = validate_decoding(func, max_length, self._start, self.vocab_size)
        k, alpha = validate_beam_options(func, beam_width, length_normalization)
        step, state = self.decoder(np.repeat(features, k, axis=0))  # (N*k, ...) rows
        captions, logprobs, word_lp = beam_search(
            step,
            state,
            num_images=len(features),
            beam_width=k,
            max_length=L,
            start_index=self._start,
            end_index=self._end if self._end is not None and self._end < self.vocab_size else None,
            null_index=self._null,
            banned=self._banned(),
            length_normalization=alpha,
            min_words=1,
        )
        if include_greedy and k > 1:
            greedy, greedy_lp = self._generate(features, L)

            def score(c: np.ndarray, lp: np.ndarray) -> np.ndarray:  # (N,) normalised
                return lp.sum(axis=1) / length_penalty((c != self._null).sum(axis=1), alpha)

            use = score(greedy, greedy_lp) > score(captions, word_lp)  # (N,)
            use &= greedy[:, 0] != self._end  # an empty greedy caption does not compete
            captions[use], word_lp[use] = greedy[use], greedy_lp[use]
            logprobs = word_lp.sum(axis=1)
        return (captions, logprobs, word_lp) if return_logprobs else (captions, logprobs)

    def captions_to_text(self, captions: np.ndarray) -> list[str]:
        """Words of every caption (N, L) up to ``<END>``, ``<NULL>`` and ``<START>`` left out."""
        skip = {self._null, self._start}
        texts = []
        for row in np.asarray(captions):
            words = []
            for index in row.tolist():
                if index == self._end:
                    break
                if index not in skip:
                    words.append(self.idx_to_word.get(index, "<UNK>"))
            texts.append(" ".join(words))
        return texts


def beam_search_one_image(
    step: Step,
    state: State,
    beam_width: int,
    max_length: int,
    start_index: int,
    end_index: int,
    null_index: int,
) -> tuple[np.ndarray, float]:
    """Beam search for ONE image, by log-probability alone: notebook 05's exercise, solved.

    The same search as ``CaptioningRNN.beam_search(..., include_greedy=False)``
    with length_normalization 0, for one image and any decoder: ``<NULL>``
    and ``<START>`` are never generated. Unlike the model's search, it lets
    ``<END>`` come first (an empty caption), as the exercise does.

    Inputs:
    - step, state: a decoder and its initial state of one row, e.g.
      ``model.decoder(features[n : n + 1])``
    - beam_width: k; max_length: L
    - start_index, end_index, null_index: ``<START>``, ``<END>``, ``<NULL>``

    Returns:
    - caption: (L,) int64, the words after ``<START>``, ``<END>`` included, then ``<NULL>``
    - logprob: float, the sum of its words' log-probabilities
    """
    captions, logprobs, _ = beam_search(
        step,
        tuple(np.repeat(s, beam_width, axis=0) for s in state),  # k copies of the start row
        num_images=1,
        beam_width=beam_width,
        max_length=max_length,
        start_index=start_index,
        end_index=end_index,
        null_index=null_index,
        banned=[null_index, start_index],
    )
    return captions[0], float(logprobs[0])
