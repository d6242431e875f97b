"""Build the compiled parts of the course package.

Every ``course/**/*.pyx`` file is compiled by Cython against numpy's headers
into the extension module its path names (``course/layers/_im2col.pyx`` ->
``course.layers._im2col``), with OpenMP on Linux (GCC and Clang there ship
it); elsewhere the parallel loops compile as ordinary serial loops.
The build is driven by ``pip install .`` (PEP 517); nobody runs this by hand.
"""

import sys
from pathlib import Path

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
OPENMP = ["-fopenmp"] if sys.platform.startswith("linux") else []
extensions = [
    Extension(
        ".".join(pyx.relative_to(HERE).with_suffix("").parts),  # course.layers._im2col
        [str(pyx.relative_to(HERE))],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3", *OPENMP],
        extra_link_args=OPENMP,
    )
    for pyx in sorted((HERE / "course").rglob("*.pyx"))
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": 3, "boundscheck": False, "wraparound": False},
    )
)
