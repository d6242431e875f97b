"""Instructor and notebook tools: release the assignments, grade progress, keep notebooks runnable.

Nothing a student imports for the exercises (``course.layers``, ``course.checks``,
``course.models``) imports this package. Its modules, one concern each:

- :mod:`course.classroom.notebook_io`: read, serialise and atomically write
  notebooks; the digest of a notebook's sources
- :mod:`course.classroom.markers`: ``### BEGIN SOLUTION`` regions and the stubs
  that replace them (:class:`~course.classroom.markers.MarkerError`)
- :mod:`course.classroom.cell_metadata`: cell ids and the ``course`` metadata
  of check cells
- :mod:`course.classroom.release`: student notebooks from the master notebooks
- :mod:`course.classroom.progress`: run a notebook headless and score its check cells
- :mod:`course.classroom.fallback`: let a demonstration cell use the reference
  while the student's function is not written yet

The ``course release`` and ``course progress`` commands are in :mod:`course.cli`.
"""
