"""The wire format between the grader and a worker: JSON headers and ``.npy`` payloads, no pickle.

One message is a frame::

    b"CGW1"  u32 header length  header (UTF-8 JSON)  payload 0  payload 1 ...

The header's ``"payloads"`` lists the byte length of every payload; each
payload is one array written by ``np.save(..., allow_pickle=False)``. A value
travels as a JSON tree whose leaves are JSON scalars or tagged objects:

    None, True, "text"          as themselves
    {"$": "int", "v": "12"}     an int (decimal text: no size limit of JSON numbers)
    {"$": "float", "v": "0x1.8p+1"}   a float, exactly (float.hex; also inf and nan)
    {"$": "array", "i": 0}      payload 0, a numeric or bool ndarray
    {"$": "scalar", "i": 1}     payload 1 as a numpy scalar (np.float32(2.0) keeps its dtype)
    {"$": "tuple" | "list", "v": [...]}
    {"$": "dict", "v": [[key, value], ...]}   keys: str, int, float, bool or None
    {"$": "handle", "id": 3, "type": "Cache"}  an object that stays in the worker
    {"$": "callback", "id": 0}  a function of the grader's that the worker may call
                                (a check's decoder passed to a student's beam search);
                                each call is a round trip, its arguments and result data
    {"$": "model", "class": "TinyVGG", "config": ..., "params": ..., "bn_params": ...,
     "mean_image": ...}        a course model, rebuilt from its constructor
                               arguments and arrays (the checks of notebook 03 pass one)

Decoding checks every payload's ``.npy`` header before reading it: only
numeric and bool dtypes (kinds ``b i u f c``) pass, so an object array, the
one way ``.npy`` can carry a pickle, is refused with :class:`ProtocolError`
and never loaded.
"""

from __future__ import annotations

import io
import json
import os
import select
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

MAGIC = b"CGW1"
MAX_HEADER_BYTES = 64 * 1024 * 1024  # cell sources and output tails travel in the header
MAX_DEPTH = 32  # nesting of tuples, lists and dicts
ARRAY_KINDS = "biufc"  # bool, signed and unsigned int, float, complex


class ProtocolError(Exception):
    """A frame or value that breaks the wire format (or would need pickle)."""


class Untransferable(TypeError):
    """A value that cannot cross the boundary as data."""


@dataclass(frozen=True)
class RemoteHandle:
    """An object that stayed in the worker (a cache, an instance of a student's class).

    Passing the handle as an argument of a later call gives the worker's
    function the object itself. The grader can only hold it and send it back.
    """

    id: int
    type_name: str = field(default="object", compare=False)
    owner: int = field(default=0, repr=False)

    def __repr__(self) -> str:
        return f"RemoteHandle({self.id}, {self.type_name})"


# ---------------------------------------------------------------------------
# Values <-> JSON trees plus payloads
# ---------------------------------------------------------------------------


def encode(
    value: object,
    payloads: list[bytes],
    to_handle: Callable[[object], dict] | None = None,
    depth: int = 0,
    owner: int | None = None,
    callbacks: list[Callable] | None = None,
) -> object:
    """The JSON tree of ``value``; arrays are appended to ``payloads`` as ``.npy`` bytes.

    ``to_handle`` (the worker's side) turns what cannot travel into a handle
    tree; without it (the grader's side) such a value raises :class:`Untransferable`,
    and so does a :class:`RemoteHandle` whose ``owner`` is not ``owner`` (when given).
    With ``callbacks`` (the grader's side), a function is appended to it and
    sent as a callback tree.
    """
    try:
        return _encode(value, payloads, to_handle, depth, owner, callbacks)
    except Exception:  # on the worker's side whatever fails to encode stays there
        if to_handle is None:
            raise
        return to_handle(value)


def _encode(value, payloads, to_handle, depth, owner=None, callbacks=None):
    if depth > MAX_DEPTH:
        raise Untransferable(f"values nested more than {MAX_DEPTH} levels deep cannot be sent")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, RemoteHandle):
        if owner is not None and value.owner != owner:
            raise Untransferable(f"{value!r} belongs to another worker")
        return {"$": "handle", "id": int(value.id)}
    if isinstance(value, np.ndarray):
        return {"$": "array", "i": _add_array(np.asarray(value).view(np.ndarray), payloads)}
    if isinstance(value, np.generic):
        return {"$": "scalar", "i": _add_array(np.asarray(value), payloads)}
    if isinstance(value, int):
        return {"$": "int", "v": str(int(value))}
    if isinstance(value, float):
        return {"$": "float", "v": float(value).hex()}
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        items = [encode(v, payloads, to_handle, depth + 1, owner, callbacks) for v in value]
        return {"$": kind, "v": items}
    if isinstance(value, dict):
        pairs = []
        for key, item in list(value.items()):
            if not (key is None or isinstance(key, (str, int, float))):
                raise Untransferable(
                    f"dict keys must be str, int, float, bool or None, got {key!r}"
                )
            pairs.append(
                [
                    _encode(key, payloads, None, depth + 1),
                    encode(item, payloads, to_handle, depth + 1, owner, callbacks),
                ]
            )
        return {"$": "dict", "v": pairs}
    if callbacks is not None and callable(value) and not isinstance(value, type):
        callbacks.append(value)
        return {"$": "callback", "id": len(callbacks) - 1}
    if is_model(value):
        fields = {
            "config": value.config(),
            "params": value.params,
            "bn_params": value.bn_params,
            "mean_image": value.mean_image,
        }
        trees = {k: _encode(v, payloads, None, depth + 1) for k, v in fields.items()}
        return {"$": "model", "class": type(value).__name__, **trees}
    raise Untransferable(
        f"a {type(value).__name__} cannot be sent to the worker: only numeric or bool numpy "
        "arrays, int, float, bool, None, str and tuples, lists and dicts of these can"
    )


def _add_array(array: np.ndarray, payloads: list[bytes]) -> int:
    if array.dtype.kind not in ARRAY_KINDS or array.dtype.fields is not None:
        raise Untransferable(
            f"an array of dtype {array.dtype} cannot be sent: only numeric and bool arrays can "
            "(an object array would need pickle, which is never used)"
        )
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    payloads.append(buffer.getvalue())
    return len(payloads) - 1


def decode(
    tree: object,
    payloads: list[bytes],
    make_handle: Callable[[dict], object],
    depth: int = 0,
) -> object:
    """The value of a JSON tree from :func:`encode`; ``make_handle`` builds handles.

    ``make_handle`` also gets the callback trees (``tree["$"] == "callback"``).
    """
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value nested more than {MAX_DEPTH} levels deep")
    if tree is None or isinstance(tree, (bool, str)):
        return tree
    if not isinstance(tree, dict) or not isinstance(tree.get("$"), str):
        raise ProtocolError(f"malformed value of JSON type {type(tree).__name__}")
    kind = tree["$"]
    try:
        if kind == "int":
            return int(tree["v"])
        if kind == "float":
            return float.fromhex(tree["v"])
        if kind in ("array", "scalar"):
            array = load_array(payloads[tree["i"]])
            return array if kind == "array" else array[()]
        if kind in ("tuple", "list"):
            items = [decode(v, payloads, make_handle, depth + 1) for v in tree["v"]]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            result = {}
            for key, item in tree["v"]:
                key = decode(key, payloads, make_handle, depth + 1)
                if not (key is None or isinstance(key, (str, int, float))):
                    raise ProtocolError(f"dict key of type {type(key).__name__}")
                result[key] = decode(item, payloads, make_handle, depth + 1)
            return result
        if kind in ("handle", "callback"):
            return make_handle(tree)
        if kind == "model":
            return _decode_model(tree, payloads, make_handle, depth)
    except ProtocolError:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise ProtocolError(f"malformed {kind!r} value: {type(error).__name__}: {error}") from None
    raise ProtocolError(f"unknown value tag {kind!r}")


def is_model(value: object) -> bool:
    """Whether ``value`` is a course model that travels as data (only ``TinyVGG``)."""
    from course.models.cnn import TinyVGG

    return type(value) is TinyVGG


def _decode_model(tree: dict, payloads: list[bytes], make_handle, depth: int) -> object:
    """Rebuild a TinyVGG from its config and arrays; ProtocolError when they do not fit."""
    from course.models.cnn import TinyVGG

    if tree.get("class") != "TinyVGG":
        raise ProtocolError(f"unknown model class {tree.get('class')!r}")
    parts = {
        key: decode(tree[key], payloads, make_handle, depth + 1)
        for key in ("config", "params", "bn_params", "mean_image")
    }
    config, params, bn_params = parts["config"], parts["params"], parts["bn_params"]
    if not (isinstance(config, dict) and isinstance(params, dict) and isinstance(bn_params, list)):
        raise ProtocolError("malformed model: config, params or bn_params of the wrong type")
    model = TinyVGG(**config)  # validates the architecture
    for name, array in model.params.items():
        given = params.get(name)
        if not isinstance(given, np.ndarray) or given.shape != array.shape:
            raise ProtocolError(f"malformed model: parameter {name!r} missing or misshapen")
    if set(params) != set(model.params) or len(bn_params) != len(model.bn_params):
        raise ProtocolError("malformed model: parameters or batchnorm states do not match")
    model.params, model.bn_params, model.mean_image = params, bn_params, parts["mean_image"]
    return model


def load_array(data: bytes) -> np.ndarray:
    """Read one ``.npy`` payload, refusing any dtype but numeric and bool before reading it."""
    if not isinstance(data, (bytes, bytearray)):
        raise ProtocolError("array payload is not bytes")
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ProtocolError(f".npy format version {version} is not accepted")
    except ProtocolError:
        raise
    except Exception as error:
        raise ProtocolError(f"malformed .npy payload: {error}") from None
    if dtype.kind not in ARRAY_KINDS or dtype.fields is not None or dtype.subdtype is not None:
        raise ProtocolError(
            f"refused an array payload of dtype {dtype}: only numeric and bool arrays may "
            "cross; object arrays would need pickle, which is never loaded"
        )
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - stream.tell() != expected:
        raise ProtocolError(
            f"array payload of shape {shape} and dtype {dtype} should hold {expected} bytes, "
            f"holds {len(data) - stream.tell()}"
        )
    stream.seek(0)
    try:
        array = np.load(stream, allow_pickle=False)
    except Exception as error:
        raise ProtocolError(f"unreadable .npy payload: {error}") from None
    return array if array.flags.writeable else array.copy()


# ---------------------------------------------------------------------------
# Frames over file descriptors
# ---------------------------------------------------------------------------


def pack_frame(header: dict, payloads: list[bytes]) -> bytes:
    """One frame's bytes: magic, header length, JSON header, payloads."""
    header = dict(header, payloads=[len(p) for p in payloads])
    text = json.dumps(header, ensure_ascii=True, allow_nan=False).encode("ascii")
    return b"".join([MAGIC, struct.pack("!I", len(text)), text, *payloads])


def write_frame(fd: int, header: dict, payloads: list[bytes], deadline: float | None) -> None:
    """Write one frame to ``fd``; past ``deadline`` (time.monotonic) raise TimeoutError."""
    data = memoryview(pack_frame(header, payloads))
    while data:
        if deadline is not None:
            _wait(fd, deadline, write=True)
        written = os.write(fd, data[: 1 << 20])
        data = data[written:]


def read_frame(
    fd: int, deadline: float | None, max_bytes: int, alive: Callable[[], bool] | None = None
) -> tuple[dict, list[bytes]]:
    """Read one frame from ``fd``: ``(header, payloads)``.

    Raises TimeoutError past ``deadline``, EOFError when the writer is gone
    (or ``alive()`` turns false while waiting), ProtocolError on a bad frame
    or one over ``max_bytes`` in all.
    """

    def read_exact(n: int) -> bytes:
        chunks, left = [], n
        while left:
            if deadline is not None or alive is not None:
                _wait(fd, deadline, alive=alive)
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise EOFError("the worker closed its end of the channel")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    start = read_exact(8)
    if start[:4] != MAGIC:
        raise ProtocolError(f"bad frame start {start[:4]!r}")
    (length,) = struct.unpack("!I", start[4:])
    if length > min(MAX_HEADER_BYTES, max_bytes):
        raise ProtocolError(f"frame header of {length} bytes is over the limit")
    try:
        header = json.loads(read_exact(length).decode("ascii"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ProtocolError(f"frame header is not JSON: {error}") from None
    sizes = header.get("payloads") if isinstance(header, dict) else None
    if not isinstance(sizes, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in sizes
    ):
        raise ProtocolError("frame header has no valid list of payload sizes")
    if sum(sizes) + length > max_bytes:
        raise ProtocolError(f"frame of {sum(sizes) + length} bytes is over the {max_bytes} limit")
    return header, [read_exact(size) for size in sizes]


def _wait(
    fd: int, deadline: float | None, write: bool = False, alive: Callable[[], bool] | None = None
) -> None:
    """Wait until ``fd`` is ready, polling ``alive`` each 0.2 s; TimeoutError past ``deadline``."""
    while True:
        step = 0.2 if alive is not None else None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            step = min(step, left) if step is not None else left
        ready = select.select([], [fd], [], step) if write else select.select([fd], [], [], step)
        if any(ready):
            return
        if alive is not None and not alive():
            # the process is gone; whatever it wrote before exiting is still readable
            if not any(select.select([] if write else [fd], [fd] if write else [], [], 0)):
                raise EOFError("the worker process exited")
