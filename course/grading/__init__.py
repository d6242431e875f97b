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

- ``batch``: ``grade_batch`` and ``course grade``: many submissions in
  parallel processes (``--workers``) or on a Dask cluster (``--scheduler``),
  recorded in the gradebook, with the CSV and the feedback files.
- ``pytest_plugin``: ``pytest --course-grade=MASTER SUBMISSIONS...``, one
  test item per student per check.
- ``answers``: written answers taken as text, exported (``answers.md``,
  ``answers.csv``) for a person to mark; marks come back through ``marks.csv``.
- ``artefact_checks``: check cells that grade a file the student saved beside
  the notebook (the best model: its accuracy on a hidden Shapes-10 test set).

A checked function that calls the course's own implementation of itself
(imported, or from a copy of the package's file) earns nothing: the worker
watches the calls (``Worker.forbid``). Still to come: hidden seeded cases
and the full red-team suite.
"""
