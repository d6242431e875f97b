"""How fast are our convolution and max pooling? Against naive loops, bare BLAS and PyTorch.

For the four shapes of the convolution issue, in float32 and float64, the
script times forward + backward (the backward with a random upstream
gradient) of:

- naive: ``conv_forward_naive`` / ``max_pool_forward_naive`` and their
  backward, the loop-based teaching layers. They take seconds, so for the
  large cases they are timed on the first ``--naive-images`` images of the
  batch and scaled to the whole batch (every image runs the same loops, so
  the time is linear in N; the column says ``~`` where it was scaled);
- fast: ``conv_forward_fast`` / ``max_pool_forward_fast`` and backward;
- matmul: only the three matrix multiplies the fast convolution does, on the
  same matrices, ``cols @ w_rows.T``, ``dout_rows.T @ cols`` and
  ``dout_rows @ w_rows`` -- the floor for an im2col convolution;
- torch: ``torch.nn.functional.conv2d`` / ``max_pool2d`` forward + backward
  (gradients of x, w and b) on the CPU, when PyTorch is installed.

By default the whole table is measured twice, with 1 and with 2 threads, each
in a fresh process (numpy's BLAS reads its thread count when it loads): numpy's
BLAS and PyTorch get that count. Our im2col/col2im/pool kernels run on
``COURSE_NUM_THREADS`` threads, 1 unless you set it (see
``course.layers.num_threads`` for why).

Usage::

    python benchmarks/conv.py                 # 1 and 2 threads (about a minute)
    python benchmarks/conv.py --threads 2     # one thread count
    python benchmarks/conv.py --quick         # fewer repeats, float32 only
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from timing import check_threads, import_torch, median_ms, set_threads

# name: (x shape, w shape, stride, pad) for convolutions; (x shape, pool) for pooling.
CONV_CASES = {
    "a": ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1),
    "b": ((64, 3, 32, 32), (32, 3, 3, 3), 1, 1),
    "c": ((64, 32, 16, 16), (64, 32, 3, 3), 1, 1),
}
POOL_CASES = {"d": ((64, 64, 16, 16), 2)}
# Images the naive layers run on: all of case (a), the goal is stated for it.
NAIVE_IMAGES = {"a": 100}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=None, help="one thread count (default: 1, then 2)"
    )
    parser.add_argument("--quick", action="store_true", help="3 repeats, float32 only")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (default 15)")
    parser.add_argument(
        "--naive-images",
        type=int,
        default=4,
        help="images the naive layers run on, scaled up (default 4)",
    )
    args = parser.parse_args()
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if args.repeats is None:
        args.repeats = 3 if args.quick else 15
    if args.repeats < 1 or args.naive_images < 1:
        parser.error("--repeats and --naive-images must be at least 1")
    return args


def conv_inputs(np, case: str, dtype, seed: int = 0):
    x_shape, w_shape, stride, pad = CONV_CASES[case]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = (0.1 * rng.standard_normal(w_shape)).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    N, _, H, W = x_shape
    H_out = 1 + (H + 2 * pad - w_shape[2]) // stride
    W_out = 1 + (W + 2 * pad - w_shape[3]) // stride
    dout = rng.standard_normal((N, w_shape[0], H_out, W_out)).astype(dtype)
    return x, w, b, {"stride": stride, "pad": pad}, dout


def time_pair(forward, backward, args_fwd: tuple, dout, repeats: int) -> float:
    def step() -> None:
        _, cache = forward(*args_fwd)
        backward(dout, cache)

    return median_ms(step, repeats)


def time_naive(forward, backward, args_fwd: tuple, dout, images: int) -> tuple[float, bool]:
    """Naive forward + backward on the first ``images`` images, scaled to the batch (one run)."""
    N = args_fwd[0].shape[0]
    images = min(images, N)
    head = (args_fwd[0][:images], *args_fwd[1:])
    ms = median_ms(lambda: backward(dout[:images], forward(*head)[1]), 1)
    return ms * N / images, images < N


def time_conv_matmuls(np, x, w, conv_param, dout, repeats: int) -> float:
    """The three multiplies of the fast convolution, on the matrices it builds."""
    from course.layers.fast_conv import im2col

    F, C, HH, WW = w.shape
    x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # (N, H, W, C)
    cols = im2col(x_nhwc, HH, WW, conv_param["pad"], conv_param["stride"])  # (N*P, K)
    w_rows = np.ascontiguousarray(w.transpose(0, 2, 3, 1)).reshape(F, -1)  # (F, K)
    dout_rows = np.ascontiguousarray(dout.transpose(0, 2, 3, 1)).reshape(-1, F)  # (N*P, F)

    def step() -> None:
        cols @ w_rows.T  # (N*P, K) @ (K, F)
        dout_rows.T @ cols  # (F, N*P) @ (N*P, K)
        dout_rows @ w_rows  # (N*P, F) @ (F, K)

    return median_ms(step, repeats)


def time_torch_conv(torch, x, w, b, conv_param, dout, repeats: int) -> float:
    xt, wt, bt = (torch.from_numpy(a).requires_grad_(True) for a in (x, w, b))
    dt = torch.from_numpy(dout)

    def step() -> None:
        for t in (xt, wt, bt):
            t.grad = None
        out = torch.nn.functional.conv2d(
            xt, wt, bt, stride=conv_param["stride"], padding=conv_param["pad"]
        )
        out.backward(dt)

    return median_ms(step, repeats)


def time_torch_pool(torch, x, size: int, dout, repeats: int) -> float:
    xt = torch.from_numpy(x).requires_grad_(True)
    dt = torch.from_numpy(dout)

    def step() -> None:
        xt.grad = None
        torch.nn.functional.max_pool2d(xt, size, size).backward(dt)

    return median_ms(step, repeats)


def measure(threads: int, args: argparse.Namespace) -> None:
    set_threads(threads)  # before numpy loads its BLAS

    import numpy as np

    from course import layers

    torch = import_torch(threads)
    check_threads(threads, torch)
    if not layers.using_compiled():
        print("WARNING: course.layers._im2col is not built; timing the numpy fallback")
    print(
        f"{threads} thread(s) for BLAS and torch, {layers.num_threads()} for our kernels; "
        f"forward + backward, median of {args.repeats} repeats; "
        f"~ = naive timed on {args.naive_images} images and scaled to the batch\n"
    )
    header = (
        f"{'case':<5}{'layer':<6}{'dtype':<9}{'naive ms':>11}{'fast ms':>9}{'matmul ms':>11}"
        f"{'fast/matmul':>13}{'naive/fast':>12}{'torch ms':>10}{'fast/torch':>12}"
    )
    print(header)
    print("-" * len(header))
    dtypes = (np.float32,) if args.quick else (np.float32, np.float64)
    for dtype in dtypes:
        for case in CONV_CASES:
            x, w, b, conv_param, dout = conv_inputs(np, case, dtype)
            fwd = (x, w, b, conv_param)
            naive, scaled = time_naive(
                layers.conv_forward_naive,
                layers.conv_backward_naive,
                fwd,
                dout,
                NAIVE_IMAGES.get(case, args.naive_images),
            )
            fast = time_pair(
                layers.conv_forward_fast,
                layers.conv_backward_fast,
                fwd,
                dout,
                args.repeats,
            )
            matmul = time_conv_matmuls(np, x, w, conv_param, dout, args.repeats)
            row = (
                f"({case})  conv  {np.dtype(dtype).name:<9}"
                f"{('~' if scaled else '') + f'{naive:.0f}':>11}{fast:>9.2f}{matmul:>11.2f}"
                f"{fast / matmul:>13.2f}{naive / fast:>11.0f}x"
            )
            if torch is not None:
                reference = time_torch_conv(torch, x, w, b, conv_param, dout, args.repeats)
                row += f"{reference:>10.2f}{fast / reference:>12.2f}"
            print(row, flush=True)
        for case, (x_shape, size) in POOL_CASES.items():
            rng = np.random.default_rng(0)
            x = rng.standard_normal(x_shape).astype(dtype)
            N, C, H, W = x_shape
            dout = rng.standard_normal((N, C, H // size, W // size)).astype(dtype)
            pool_param = {"pool_height": size, "pool_width": size, "stride": size}
            naive, scaled = time_naive(
                layers.max_pool_forward_naive,
                layers.max_pool_backward_naive,
                (x, pool_param),
                dout,
                NAIVE_IMAGES.get(case, args.naive_images),
            )
            fast = time_pair(
                layers.max_pool_forward_fast,
                layers.max_pool_backward_fast,
                (x, pool_param),
                dout,
                args.repeats,
            )
            row = (
                f"({case})  pool  {np.dtype(dtype).name:<9}"
                f"{('~' if scaled else '') + f'{naive:.0f}':>11}{fast:>9.2f}{'-':>11}"
                f"{'-':>13}{naive / fast:>11.0f}x"
            )
            if torch is not None:
                reference = time_torch_pool(torch, x, size, dout, args.repeats)
                row += f"{reference:>10.2f}{fast / reference:>12.2f}"
            print(row, flush=True)


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        measure(args.threads, args)
        return
    for threads in (1, 2):
        command = [
            sys.executable,
            __file__,
            "--threads",
            str(threads),
            "--repeats",
            str(args.repeats),
        ]
        command += ["--naive-images", str(args.naive_images)] + (["--quick"] if args.quick else [])
        subprocess.run(command, check=True)
        print()


if __name__ == "__main__":
    main()
