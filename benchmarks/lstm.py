"""How fast is our numpy LSTM? Forward + backward against bare BLAS and PyTorch.

For each shape and dtype the script times, in one run:

- ours: ``course.layers.lstm_forward_fused`` followed by
  ``lstm_backward_fused`` with a random upstream gradient dh (the fast path
  that training uses);
- loop: the graded reference ``course.layers.lstm_forward`` / ``lstm_backward``,
  a Python loop over the step functions, on the same inputs;
- matmul: only the matrix multiplies those two functions must do, on
  preallocated arrays (the input projection of all steps, the T recurrent
  multiplies forward and backward, and the three big weight / input gradient
  multiplies) -- a floor that no numpy LSTM can beat;
- torch: ``torch.nn.LSTM`` (batch_first, same sizes and dtype) forward +
  backward on the CPU, when PyTorch is installed.

Every time is the median of several repeats after one warm-up call. numpy's
BLAS and PyTorch use the same number of threads (``--threads``, default 1),
set through OPENBLAS_NUM_THREADS / OMP_NUM_THREADS / MKL_NUM_THREADS before
numpy is imported, and checked afterwards.

Usage::

    python benchmarks/lstm.py               # 1 thread, T = 16 and 100
    python benchmarks/lstm.py --threads 2
    python benchmarks/lstm.py --quick       # T = 16 only, 3 repeats
"""

from __future__ import annotations

import argparse

from timing import check_threads, import_torch, median_ms, set_threads

N, D, HD = 50, 512, 512  # batch, input size, hidden size


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS and PyTorch threads (default 1)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="only T = 16, 3 repeats (a smoke test)"
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed repeats per measurement (default 5)"
    )
    args = parser.parse_args()
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    return args


def lstm_inputs(T: int, dtype, seed: int = 0) -> tuple:
    """Random LSTM inputs x, h0, Wx, Wh, b and an upstream gradient dh of dtype."""
    import numpy as np

    rng = np.random.default_rng(seed)
    scale = 1 / np.sqrt(HD)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = rng.standard_normal((N, HD)).astype(dtype)
    Wx = (scale * rng.standard_normal((D, 4 * HD))).astype(dtype)
    Wh = (scale * rng.standard_normal((HD, 4 * HD))).astype(dtype)
    b = (scale * rng.standard_normal(4 * HD)).astype(dtype)
    dh = rng.standard_normal((N, T, HD)).astype(dtype)
    return x, h0, Wx, Wh, b, dh


def time_ours(inputs: tuple, repeats: int) -> float:
    """The fused LSTM (the fast path), forward + backward."""
    from course.layers import lstm_backward_fused, lstm_forward_fused

    x, h0, Wx, Wh, b, dh = inputs

    def step() -> None:
        _, _, cache = lstm_forward_fused(x, h0, Wx, Wh, b)
        lstm_backward_fused(dh, cache)

    return median_ms(step, repeats)


def time_loop(inputs: tuple, repeats: int) -> float:
    """The readable reference, a loop over the step functions, forward + backward."""
    from course.layers import lstm_backward, lstm_forward

    x, h0, Wx, Wh, b, dh = inputs

    def step() -> None:
        _, cache = lstm_forward(x, h0, Wx, Wh, b)
        lstm_backward(dh, cache)

    return median_ms(step, repeats)


def time_matmuls(inputs: tuple, repeats: int) -> float:
    """Only the matrix multiplies of an LSTM forward + backward, into preallocated arrays."""
    import numpy as np

    x, h0, Wx, Wh, b, dh = inputs
    T = x.shape[1]
    x_flat = x.reshape(N * T, D)
    gates = np.empty((N * T, 4 * HD), dtype=x.dtype)  # also stands in for da
    h = np.empty((T, N, HD), dtype=x.dtype)
    h[:] = h0
    rec = np.empty((N, 4 * HD), dtype=x.dtype)
    dx = np.empty((N * T, D), dtype=x.dtype)
    dWx = np.empty((D, 4 * HD), dtype=x.dtype)
    dWh = np.empty((HD, 4 * HD), dtype=x.dtype)
    h_flat = h.reshape(T * N, HD)
    WhT = np.ascontiguousarray(Wh.T)  # (4Hd, Hd), as lstm_backward_fused multiplies by it

    def step() -> None:
        np.matmul(x_flat, Wx, out=gates)  # (N*T, D) @ (D, 4Hd)
        for t in range(T):
            np.matmul(h[t], Wh, out=rec)  # (N, Hd) @ (Hd, 4Hd)
        for t in range(T):
            np.matmul(gates[t * N : (t + 1) * N], WhT, out=h[t])  # (N, 4Hd) @ (4Hd, Hd)
        np.matmul(gates, Wx.T, out=dx)  # (N*T, 4Hd) @ (4Hd, D)
        np.matmul(x_flat.T, gates, out=dWx)  # (D, N*T) @ (N*T, 4Hd)
        np.matmul(h_flat.T, gates, out=dWh)  # (Hd, N*T) @ (N*T, 4Hd)

    return median_ms(step, repeats)


def time_torch(torch, inputs: tuple, repeats: int) -> float:
    x, h0, Wx, Wh, b, dh = inputs
    dtype = torch.float32 if x.dtype.itemsize == 4 else torch.float64
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(D, HD, batch_first=True, dtype=dtype)
    x_t = torch.from_numpy(x).requires_grad_(True)  # we compute dx too
    h0_t = torch.from_numpy(h0)[None]  # (1, N, Hd)
    c0_t = torch.zeros_like(h0_t)
    dh_t = torch.from_numpy(dh)

    def step() -> None:
        x_t.grad = None
        lstm.zero_grad(set_to_none=True)
        out, _ = lstm(x_t, (h0_t, c0_t))
        out.backward(dh_t)

    return median_ms(step, repeats)


def main() -> None:
    args = parse_args()
    set_threads(args.threads)  # before numpy loads its BLAS

    import numpy as np

    torch = import_torch(args.threads)
    check_threads(args.threads, torch)
    print(f"N = {N}, D = Hd = {HD}; forward + backward, median of {args.repeats} repeats\n")

    header = (
        f"{'shape (N, T, D, Hd)':<22}{'dtype':<9}{'ours ms':>9}{'matmul ms':>11}"
        f"{'ours/matmul':>13}{'loop ms':>9}{'loop/ours':>11}{'torch ms':>10}{'ours/torch':>12}"
    )
    print(header)
    print("-" * len(header))
    lengths = (16,) if args.quick else (16, 100)
    for dtype in (np.float32, np.float64):
        for T in lengths:
            inputs = lstm_inputs(T, dtype)
            ours = time_ours(inputs, args.repeats)
            matmul = time_matmuls(inputs, args.repeats)
            loop = time_loop(inputs, args.repeats)
            row = (
                f"{str((N, T, D, HD)):<22}{np.dtype(dtype).name:<9}{ours:>9.1f}"
                f"{matmul:>11.1f}{ours / matmul:>13.2f}{loop:>9.1f}{loop / ours:>11.2f}"
            )
            if torch is not None:
                reference = time_torch(torch, inputs, args.repeats)
                row += f"{reference:>10.1f}{ours / reference:>12.2f}"
            else:
                row += f"{'-':>10}{'-':>12}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
