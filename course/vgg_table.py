"""VGG-16 as data: its layer configuration and the per-layer memory/parameter table.

VGG-16 is configuration D of Simonyan & Zisserman, "Very Deep Convolutional
Networks for Large-Scale Image Recognition", ICLR 2015 (arXiv:1409.1556):
thirteen 3x3 convolutions (stride 1, pad 1, so they keep H and W) in five
blocks, each block ending in a 2x2 max pool with stride 2 (halving H and W),
then three fully connected layers of 4096, 4096 and 1000 units. ReLUs follow
every conv and the first two FC layers; they have no parameters and, computed
in place, no memory of their own, so the table leaves them out.

``vgg16_table`` walks any such configuration (a tuple of ``LayerSpec``) for
any input size and returns one row per layer: its output shape, its number of
activations ("memory", in numbers) and its number of parameters. The
well-known CS231n table, printed by ``print_vgg16_table``, reads off:

- memory: 15,237,608 numbers per image forward, input included, that is
  60,950,432 bytes ~= 61 MB at 4 bytes per number (float32); the backward pass
  keeps a gradient of the same size, about twice that. Most of it sits in the
  early conv layers at full resolution (conv1_1 and conv1_2: 3.2M numbers
  each). The CS231n notes print "TOTAL memory: 24M"; their own per-layer lines
  add up to the 15.2M computed here.
- parameters: 138,357,544 with biases (138,344,128 weights alone), most of
  them (102,764,544) in the first FC layer, fc6: [7x7x512] -> [1x1x4096].

Shapes are written (H, W, C) for a volume and (D,) for the vector after the
first FC layer, as in the paper and the CS231n table (the layers of
``course.layers`` batch their volumes NCHW instead).

This is not a model (it has no parameters and no loss; the trainable
VGG-style net is ``course.models.TinyVGG``): it is a configuration and the
arithmetic of its table. It stays one module past the ~400-line guideline
because it is one topic read top to bottom: the configuration language
(``LayerSpec``), the table, its CS231n-style printout, and (at the end) the
argument checks; about half of it is docstrings and error messages.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from course.validation import require_positive_int

__all__ = [
    "TINY_VGG",
    "VGG16",
    "LayerSpec",
    "VGGRow",
    "conv",
    "fc",
    "format_vgg16_table",
    "pool",
    "print_vgg16_table",
    "vgg16_table",
]

KINDS = ("input", "conv", "pool", "fc")


@dataclass(frozen=True)
class LayerSpec:
    """One layer of a VGG-style configuration.

    - kind: 'input' (first layer only), 'conv', 'pool' (max pool) or 'fc'
    - name: unique name, e.g. 'conv1_1'
    - filters: number of filters F of a conv (0 otherwise)
    - units: number of units of an fc layer (0 otherwise)
    - kernel: kernel size of a conv (HH = WW = kernel) or a pool window
    - stride, pad: of a conv or pool (a pool takes no padding)

    A conv maps (H, W, C) -> (H_out, W_out, F) with
    ``H_out = 1 + (H + 2*pad - kernel) // stride``; a pool maps (H, W, C) ->
    (H_out, W_out, C) with ``H_out = 1 + (H - kernel) // stride``; an fc layer
    flattens its input to D numbers and maps it to (units,).
    Use the constructors ``conv``, ``pool`` and ``fc``; a malformed spec
    raises ValueError (or TypeError for a non-integer size) naming the layer.
    """

    kind: str
    name: str
    filters: int = 0
    units: int = 0
    kernel: int = 0
    stride: int = 1
    pad: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"LayerSpec: name must be a non-empty string, got {self.name!r}")
        where = f"LayerSpec {self.name!r}"
        if self.kind not in KINDS:
            raise ValueError(f"{where}: kind must be one of {KINDS}, got {self.kind!r}")
        needs = {  # the fields each kind uses; every other size field must be 0
            "input": (),
            "conv": ("filters", "kernel"),
            "pool": ("kernel",),
            "fc": ("units",),
        }[self.kind]
        for field in ("filters", "units", "kernel"):
            value = getattr(self, field)
            if field in needs:
                require_positive_int(where, field, value)
            elif value != 0:
                raise ValueError(f"{where}: a {self.kind} layer has no {field}, got {value!r}")
        require_positive_int(where, "stride", self.stride)
        require_positive_int(where, "pad", self.pad, allow_zero=True)
        if self.kind != "conv" and self.pad != 0:
            raise ValueError(f"{where}: only a conv layer takes padding, got pad={self.pad!r}")
        if self.kind in ("input", "fc") and self.stride != 1:
            raise ValueError(f"{where}: a {self.kind} layer has no stride, got {self.stride!r}")


def conv(name: str, filters: int, kernel: int = 3, stride: int = 1, pad: int = 1) -> LayerSpec:
    """A conv layer spec; the defaults are VGG's 3x3, stride 1, pad 1 ('same' size)."""
    return LayerSpec("conv", name, filters=filters, kernel=kernel, stride=stride, pad=pad)


def pool(name: str, kernel: int = 2, stride: int = 2) -> LayerSpec:
    """A max-pool layer spec; the defaults are VGG's 2x2 window with stride 2 (halves H, W)."""
    return LayerSpec("pool", name, kernel=kernel, stride=stride)


def fc(name: str, units: int) -> LayerSpec:
    """A fully connected layer spec with ``units`` outputs."""
    return LayerSpec("fc", name, units=units)


def _block(index: int, filters: int, convs: int) -> tuple[LayerSpec, ...]:
    """Block ``index``: ``convs`` 3x3 convs with ``filters`` filters, then a 2x2 pool."""
    layers = [conv(f"conv{index}_{i}", filters) for i in range(1, convs + 1)]
    return (*layers, pool(f"pool{index}"))


VGG16: tuple[LayerSpec, ...] = (
    LayerSpec("input", "input"),
    *_block(1, 64, 2),  # (224, 224, 3) -> (112, 112, 64)
    *_block(2, 128, 2),  # -> (56, 56, 128)
    *_block(3, 256, 3),  # -> (28, 28, 256)
    *_block(4, 512, 3),  # -> (14, 14, 512)
    *_block(5, 512, 3),  # -> (7, 7, 512)
    fc("fc6", 4096),  # 7*7*512 = 25,088 -> 4096
    fc("fc7", 4096),
    fc("fc8", 1000),  # the 1000 ImageNet classes
)
"""VGG-16, configuration D of Simonyan & Zisserman (2015): 13 conv + 3 fc weight layers."""

TINY_VGG: tuple[LayerSpec, ...] = (
    LayerSpec("input", "input"),
    *_block(1, 16, 2),  # (32, 32, 3) -> (16, 16, 16)
    *_block(2, 32, 2),  # -> (8, 8, 32)
    fc("fc3", 10),
)
"""A VGG-style net small enough to train on 32x32 images in numpy (10 classes)."""


class VGGRow(NamedTuple):
    """One row of the table: a layer's output shape, activations and parameters.

    - name: the layer's name ('conv1_1')
    - shape: its output, (H, W, C) for a volume or (D,) after an fc layer
    - activations: numbers in that output, prod(shape) ("memory")
    - params: its weights (+ biases, unless the table was asked without them)
    """

    name: str
    shape: tuple[int, ...]
    activations: int
    params: int


class _Step(NamedTuple):
    """A row plus what the printed table needs to explain it."""

    spec: LayerSpec
    in_shape: tuple[int, ...]
    row: VGGRow


def _spatial_out(
    func: str, spec: LayerSpec, in_shape: tuple[int, ...], pad: int, tile: int
) -> list[int]:
    """H_out, W_out = 1 + (size + 2*pad - kernel) // stride, checking the window tiles.

    ``tile`` is the product of the config's pool strides, for the hint.
    """
    out = []
    for axis, size in zip(("H", "W"), in_shape[:2], strict=True):
        span = size + 2 * pad - spec.kernel
        if span < 0 or span % spec.stride:
            what = f"{spec.kernel}x{spec.kernel} {spec.kind}, stride {spec.stride}"
            if pad:
                what += f", pad {pad}"
            shape = "x".join(map(str, in_shape))
            if span < 0:
                reason = f"the window is larger than {axis}={size}"
            elif spec.kind == "conv":
                reason = (
                    f"({axis} + 2*pad - kernel) % stride = ({size} + {2 * pad} - {spec.kernel})"
                    f" % {spec.stride} = {span % spec.stride}, not 0"
                )
            else:
                reason = (
                    f"({axis} - kernel) % stride = ({size} - {spec.kernel}) % {spec.stride} = "
                    f"{span % spec.stride}, not 0"
                )
            raise ValueError(
                f"{func}: layer {spec.name!r} ({what}) does not tile its [{shape}] input: "
                f"{reason}. Choose another input size: with 'same' convs (3x3, stride 1, "
                f"pad 1), height and width divisible by {tile}, the product of the pool "
                f"strides"
            )
        out.append(1 + span // spec.stride)
    return out


def _walk(func: str, input_shape: object, config: object, biases: bool) -> Iterator[_Step]:
    """Yield each layer's step, computing shapes and counts as the volume flows through."""
    shape, config = _validate_table_args(func, input_shape, config)
    tile = math.prod(spec.stride for spec in config if spec.kind == "pool")
    yield _Step(config[0], shape, VGGRow(config[0].name, shape, math.prod(shape), 0))
    for spec in config[1:]:
        in_shape = shape
        if spec.kind == "conv":
            H_out, W_out = _spatial_out(func, spec, in_shape, spec.pad, tile)
            shape = (H_out, W_out, spec.filters)
            # each of the F filters is (kernel, kernel, C_in), plus one bias each
            params = spec.kernel * spec.kernel * in_shape[-1] * spec.filters
            params += spec.filters if biases else 0
        elif spec.kind == "pool":
            H_out, W_out = _spatial_out(func, spec, in_shape, 0, tile)
            shape = (H_out, W_out, in_shape[-1])
            params = 0
        else:  # fc: flatten (H, W, C) or (D,) to D = prod(in_shape), then (D, units) + (units,)
            shape = (spec.units,)
            params = math.prod(in_shape) * spec.units + (spec.units if biases else 0)
        yield _Step(spec, in_shape, VGGRow(spec.name, shape, math.prod(shape), params))


def vgg16_table(
    input_shape: Sequence[int] = (224, 224, 3),
    config: Sequence[LayerSpec] = VGG16,
    biases: bool = True,
) -> list[VGGRow]:
    """One ``VGGRow(name, shape, activations, params)`` per layer of ``config``.

    Inputs:
    - input_shape: (H, W, C) of one image, e.g. (224, 224, 3) or (32, 32, 3)
    - config: a sequence of ``LayerSpec``: one 'input' layer first, then convs
      and pools, then fc layers (``VGG16`` by default, ``TINY_VGG``, or yours)
    - biases: whether ``params`` counts the biases (the CS231n table does not)

    Returns a list with one row per layer, the input first. Conv rows have
    shape (H_out, W_out, F) and params ``kernel*kernel*C*F (+ F)``; pool rows
    (H_out, W_out, C) and 0 params; fc rows (units,) and ``D*units (+ units)``
    with D the number of numbers in the layer's input. Summing the columns
    gives the totals: for VGG-16 at 224x224x3, 15,237,608 activations and
    138,357,544 parameters.

    Raises ValueError naming the layer when the config is malformed or when a
    conv or pool window does not tile its input (VGG-16 needs height and width
    divisible by 32: 100x100 fails at pool3, whose input is 25x25).
    """
    return [step.row for step in _walk("vgg16_table", input_shape, config, biases)]


def _human(n: float, digits: int = 2) -> str:
    """n rounded to ``digits`` significant figures with a K/M suffix: 3211264 -> '3.2M'.

    Numbers below 10,000 are written in full (4096), as in the CS231n table.
    """
    if n < 10_000:
        return f"{n:g}"
    r = float(f"{n:.{digits}g}")
    return f"{r / 1e6:g}M" if r >= 1e6 else f"{r / 1e3:g}K"


def _dims(shape: tuple[int, ...]) -> str:
    """'224x224x64' for a volume; an fc output (D,) as the CS231n '1x1xD'."""
    return "x".join(map(str, shape if len(shape) == 3 else (1, 1, *shape)))


def _line(step: _Step, biases: bool) -> str:
    """One CS231n-style line: 'CONV3-64: [224x224x64] memory: 224*224*64=3.2M params: ...'."""
    spec, in_shape, row = step
    if spec.kind == "conv":
        label = f"CONV{spec.kernel}-{spec.filters}"
        label += f"/s{spec.stride}" if spec.stride != 1 else ""
    elif spec.kind == "pool":
        label = f"POOL{spec.kernel}"
        label += f"/s{spec.stride}" if spec.stride != spec.kernel else ""
    else:
        label = spec.kind.upper()
    if len(row.shape) == 3:
        memory = "*".join(map(str, row.shape)) + f"={_human(row.activations)}"
    else:
        memory = _human(row.activations)
        if memory != str(row.activations):
            memory = f"{row.activations}={memory}"
    if spec.kind == "conv":
        formula = f"({spec.kernel}*{spec.kernel}*{in_shape[-1]})*{spec.filters}"
        bias = f" + {spec.filters}" if biases else ""
        params = f"{formula}{bias} = {row.params:,}"
    elif spec.kind == "fc":
        formula = "*".join(map(str, (*in_shape, spec.units)))
        bias = f" + {spec.units}" if biases else ""
        params = f"{formula}{bias} = {row.params:,}"
    else:
        params = "0"
    return f"{spec.name:<8} {label}: [{_dims(row.shape)}] memory: {memory} params: {params}"


def format_vgg16_table(
    input_shape: Sequence[int] = (224, 224, 3),
    config: Sequence[LayerSpec] = VGG16,
    biases: bool = True,
    bytes_per_number: int = 4,
) -> str:
    """The CS231n-style table of ``vgg16_table`` as text, with totals and where they sit.

    One line per layer, e.g.
    ``conv1_1  CONV3-64: [224x224x64] memory: 224*224*64=3.2M params: (3*3*3)*64 + 64 = 1,792``
    (without biases: ``... params: (3*3*3)*64 = 1,728``), then the total
    memory (activations of one image, forward only, input included, in numbers
    and in MB at ``bytes_per_number`` each), the total parameters, and the
    layers that hold the most of each.
    Arguments and errors as ``vgg16_table``.
    """
    func = "format_vgg16_table"
    require_positive_int(func, "bytes_per_number", bytes_per_number)
    steps = list(_walk(func, input_shape, config, biases))
    rows = [step.row for step in steps]
    total_act = sum(row.activations for row in rows)
    total_params = sum(row.params for row in rows)
    total_bytes = total_act * bytes_per_number
    with_biases = "with biases" if biases else "weights only, no biases"
    lines = [
        f"Layer table for a [{_dims(rows[0].shape)}] input "
        f"(memory = activations per image; params {with_biases}; ReLUs not listed)",
        *(_line(step, biases) for step in steps),
        f"TOTAL memory: {total_act:,} numbers ({_human(total_act, 3)}) * {bytes_per_number} "
        f"bytes = {total_bytes:,} bytes ~= {total_bytes / 1e6:.3g} MB / image "
        f"({total_bytes / 2**20:.3g} MiB; forward only, about x2 with the backward pass)",
        f"TOTAL params: {total_params:,} ({_human(total_params, 3)}) parameters",
    ]
    biggest = max(rows, key=lambda row: row.activations)
    lines.append(
        f"Most memory: {biggest.name} [{_dims(biggest.shape)}] holds {biggest.activations:,} "
        f"numbers ({biggest.activations / total_act:.0%} of the total)"
    )
    pools = [i for i, step in enumerate(steps) if step.spec.kind == "pool"]
    if pools:  # the early layers, at full resolution, hold most of the memory
        early = sum(row.activations for row in rows[: pools[0] + 1])
        lines[-1] += f"; the layers up to {rows[pools[0]].name} hold {early / total_act:.0%}"
    heaviest = max(steps, key=lambda step: step.row.params)
    if heaviest.row.params:
        lines.append(
            f"Most params: {heaviest.row.name} [{_dims(heaviest.in_shape)}] -> "
            f"[{_dims(heaviest.row.shape)}] holds {heaviest.row.params:,} "
            f"({heaviest.row.params / total_params:.0%} of the total)"
        )
    return "\n".join(lines)


def print_vgg16_table(
    input_shape: Sequence[int] = (224, 224, 3),
    config: Sequence[LayerSpec] = VGG16,
    biases: bool = True,
    bytes_per_number: int = 4,
) -> None:
    """Print ``format_vgg16_table(input_shape, config, biases, bytes_per_number)``."""
    print(format_vgg16_table(input_shape, config, biases, bytes_per_number))


# ---------------------------------------------------------------------------
# Argument checks of the table functions
# ---------------------------------------------------------------------------


def _validate_table_args(
    func: str, input_shape: object, config: object
) -> tuple[tuple[int, int, int], tuple[LayerSpec, ...]]:
    """Return the checked (H, W, C) input shape and the config as a tuple."""
    return _validate_input_shape(func, input_shape), _validate_config(func, config)


def _validate_input_shape(func: str, input_shape: object) -> tuple[int, int, int]:
    """Return ``input_shape`` as (H, W, C), three positive integers."""
    if not isinstance(input_shape, Sequence) or len(input_shape) != 3:
        raise ValueError(
            f"{func}: input_shape must be (H, W, C), three positive integers such as "
            f"(224, 224, 3); got {input_shape!r}"
        )
    H, W, C = (require_positive_int(func, "input_shape", v) for v in input_shape)
    return H, W, C


def _validate_config(func: str, config: object) -> tuple[LayerSpec, ...]:
    """The config as a tuple after checking its order: one input, convs/pools, then fcs."""
    if not isinstance(config, Sequence) or isinstance(config, str) or not config:
        raise ValueError(f"{func}: config must be a non-empty sequence of LayerSpec")
    for i, spec in enumerate(config):
        if not isinstance(spec, LayerSpec):
            raise TypeError(
                f"{func}: config[{i}] is a {type(spec).__name__}; expected a LayerSpec "
                f"(build one with conv(...), pool(...) or fc(...))"
            )
    if config[0].kind != "input":
        raise ValueError(
            f"{func}: config must start with an input layer, LayerSpec('input', 'input'); "
            f"its first layer is {config[0].name!r}, a {config[0].kind} layer"
        )
    seen: set[str] = set()
    after_fc = None
    for i, spec in enumerate(config):
        if spec.name in seen:
            raise ValueError(f"{func}: layer name {spec.name!r} appears twice in the config")
        seen.add(spec.name)
        if spec.kind == "input" and i > 0:
            raise ValueError(
                f"{func}: layer {spec.name!r} is an input layer at position {i}; "
                f"only the first layer may be one"
            )
        if spec.kind in ("conv", "pool") and after_fc is not None:
            raise ValueError(
                f"{func}: {spec.kind} layer {spec.name!r} follows fc layer {after_fc!r}; "
                f"an fc layer flattens the volume, so the fc layers must come last"
            )
        if spec.kind == "fc":
            after_fc = spec.name
    return tuple(config)
