"""The three captioning exercises of notebook 05, written as a student writes them.

These are the solution regions of ``solutions/05_image_captioning.ipynb``:
plain loops over the course's layer functions, checked by
``course.checks.captioning`` (``tests/test_checks_captioning.py`` runs them
through the checks). Dimension letters: N images, D feature size, W word-vector
size, Hd hidden size, V vocabulary size, T time steps, L max_length, k beam width.
"""

from __future__ import annotations

import numpy as np

from course.layers import (
    affine_backward,
    affine_forward,
    lstm_backward,
    lstm_forward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_forward,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)


def captioning_loss(features, captions, params, cell_type, null_index):
    """The loss of ``captions`` given ``features``, and the gradient of every parameter.

    Inputs:
    - features: (N, D) image features
    - captions: (N, T + 1) word indices, <START> first, <NULL> after <END>
    - params: dict with W_proj (D, Hd), b_proj (Hd,), W_embed (V, W),
      Wx (W, G*Hd), Wh (Hd, G*Hd), b (G*Hd,), W_vocab (Hd, V), b_vocab (V,)
    - cell_type: 'rnn' (G = 1) or 'lstm' (G = 4)
    - null_index: the index of <NULL>

    Returns:
    - loss: float
    - grads: dict keyed like params
    """
    p = params
    captions_in = captions[:, :-1]  # (N, T) what the RNN reads
    captions_out = captions[:, 1:]  # (N, T) what it must predict
    mask = captions_out != null_index  # (N, T) padding adds nothing

    # Forward: image -> h0, words -> vectors -> hidden states -> scores -> loss.
    h0, proj_cache = affine_forward(features, p["W_proj"], p["b_proj"])  # (N, Hd)
    x, embed_cache = word_embedding_forward(captions_in, p["W_embed"])  # (N, T, W)
    if cell_type == "lstm":
        h, rnn_cache = lstm_forward(x, h0, p["Wx"], p["Wh"], p["b"])  # (N, T, Hd)
    else:
        h, rnn_cache = rnn_forward(x, h0, p["Wx"], p["Wh"], p["b"])  # (N, T, Hd)
    scores, vocab_cache = temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])  # (N, T, V)
    loss, dscores = temporal_softmax_loss(scores, captions_out, mask)

    # Backward, layer by layer in reverse.
    grads = {}
    dh, grads["W_vocab"], grads["b_vocab"] = temporal_affine_backward(dscores, vocab_cache)
    if cell_type == "lstm":
        dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = lstm_backward(dh, rnn_cache)
    else:
        dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = rnn_backward(dh, rnn_cache)
    grads["W_embed"] = word_embedding_backward(dx, embed_cache)
    _, grads["W_proj"], grads["b_proj"] = affine_backward(dh0, proj_cache)
    return loss, grads


def sample_captions(features, params, cell_type, start_index, end_index, null_index, max_length):
    """Greedy captions: from <START>, feed back the likeliest word, step by step.

    Inputs:
    - features: (N, D) image features
    - params: as for captioning_loss
    - cell_type: 'rnn' or 'lstm'
    - start_index, end_index, null_index: the indices of <START>, <END>, <NULL>
    - max_length: L, the number of words to generate

    Returns:
    - captions: (N, L) int64, the words after <START>, <END> included where
      generated, then <NULL>
    """
    p = params
    N = features.shape[0]
    h = features @ p["W_proj"] + p["b_proj"]  # (N, Hd) the image is the initial state
    c = np.zeros_like(h)  # (N, Hd) the LSTM's cell starts at zero
    words = np.full(N, start_index)  # (N,) the previous word of every caption
    captions = np.full((N, max_length), null_index, dtype=np.int64)
    done = np.zeros(N, dtype=bool)  # (N,) which captions have ended
    for t in range(max_length):
        x = p["W_embed"][words]  # (N, W)
        if cell_type == "lstm":
            h, c, _ = lstm_step_forward(x, h, c, p["Wx"], p["Wh"], p["b"])
        else:
            h, _ = rnn_step_forward(x, h, p["Wx"], p["Wh"], p["b"])
        scores = h @ p["W_vocab"] + p["b_vocab"]  # (N, V)
        scores[:, [null_index, start_index]] = -np.inf  # never generated
        words = np.argmax(scores, axis=1)  # (N,)
        captions[:, t] = np.where(done, null_index, words)
        done = done | (words == end_index)
    return captions


def beam_search(step, state, beam_width, max_length, start_index, end_index, null_index):
    """The likeliest caption of one image found by keeping the ``beam_width`` best beams.

    Inputs:
    - step: the decoder, step(words (M,), state, t) -> (log_probs (M, V), new_state)
    - state: its initial state, a tuple of (1, Hd) arrays
    - beam_width: k, the live partial captions kept
    - max_length: L, the most words per caption
    - start_index, end_index, null_index: the indices of <START>, <END>, <NULL>

    Returns:
    - caption: (L,) int64, the words after <START>, <END> included, then <NULL>
    - logprob: float, the sum of the log-probabilities of its words
    """
    beams = [[]]  # the words of every live beam (one empty beam to start)
    beam_logprobs = np.zeros(1)  # (M,) their summed log-probabilities
    words = np.array([start_index])  # (M,) the last word of every live beam
    best_caption, best_logprob = None, -np.inf
    for t in range(max_length):
        log_probs, state = step(words, state, t)  # (M, V)
        log_probs = log_probs.copy()
        log_probs[:, [null_index, start_index]] = -np.inf  # never generated
        candidates = beam_logprobs[:, None] + log_probs  # (M, V) every continuation
        V = candidates.shape[1]
        best = np.argsort(-candidates, axis=None)[:beam_width]  # flat indices, best first
        live_beams, live_logprobs, parents = [], [], []
        for index in best:
            parent, word = index // V, index % V
            caption, logprob = beams[parent] + [word], candidates[parent, word]
            if word == end_index or t == max_length - 1:  # finished: it leaves the beam
                if logprob > best_logprob:
                    best_caption, best_logprob = caption, logprob
            else:
                live_beams.append(caption)
                live_logprobs.append(logprob)
                parents.append(parent)
        # A live beam's log-probability can only fall: stop when none can win.
        if not live_beams or max(live_logprobs) <= best_logprob:
            break
        beams, beam_logprobs = live_beams, np.array(live_logprobs)
        words = np.array([beam[-1] for beam in beams])
        state = tuple(s[parents] for s in state)  # every beam continues from its parent's state
    caption = np.full(max_length, null_index, dtype=np.int64)
    caption[: len(best_caption)] = best_caption
    return caption, float(best_logprob)
