"""Neural Networks Practitioner: a course that builds neural networks in numpy.

The package holds the reference implementations of every exercise (layers,
optimisers, models), the autograded checks, the datasets, and the tools that
release and grade the notebooks. See README.md for the two set-up commands.
"""

from course.allocator import keep_freed_memory

__version__ = "0.1.0"

# Training reuses large temporaries every step; keep freed memory instead of
# page-faulting it in again (see course/allocator.py for the measurements).
keep_freed_memory()
