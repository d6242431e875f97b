"""Grading student submissions against the master notebook (issue 12, being built).

- ``worker``: a student's code runs in a separate, resource-limited process;
  the grader calls its functions through proxies that carry only plain data
  (JSON and ``.npy``, never pickle), so the course's checks run and decide
  in the grader's own process.
- ``engine``: ``grade_submission(master, submission)``: the master's setup
  and the submission's exercise cells (matched by id) run in a worker, the
  master's check cells run here; a cell that kills the worker costs only
  the checks of what it defines.
- ``gradebook``: the SQLite gradebook (safe under parallel writers,
  idempotent re-grading), its CSV export and per-student feedback.

Still to come: ``course grade`` and the pytest plugin, hidden cases, the
gradebook wired in, and grading on Dask.
"""
