"""Grading student submissions against the master notebook (issue 12, being built).

- ``worker``: a student's code runs in a separate, resource-limited process;
  the grader calls its functions through proxies that carry only plain data
  (JSON and ``.npy``, never pickle), so the course's checks run and decide
  in the grader's own process.
- ``gradebook``: the SQLite gradebook (safe under parallel writers,
  idempotent re-grading), its CSV export and per-student feedback.

Still to come: the engine that matches a submission to its master by cell
id, ``course grade`` and the pytest plugin, and grading on Dask.
"""
