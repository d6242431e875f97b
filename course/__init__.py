"""Neural Networks Practitioner: a course that builds neural networks in numpy.

The package holds the reference implementations of every exercise (layers,
optimisers, models), the autograded checks, the datasets, and the tools that
release and grade the notebooks. See README.md for the two set-up commands.
"""

__version__ = "0.1.0"
