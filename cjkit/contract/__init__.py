"""The data contract: from a client's files to validated canonical tables.

A client YAML (:mod:`~cjkit.contract.config`) says where the files are and how their
columns are named. :func:`~cjkit.contract.load.load_client` reads each file
(:mod:`~cjkit.contract.read`), parses its columns (:mod:`~cjkit.contract.parse`), applies
the table rules (:mod:`~cjkit.contract.rules`), validates the result against the pandera
schemas (:mod:`~cjkit.contract.schemas`) and tells what it found, fixed and dropped in a
:class:`~cjkit.contract.report.LoadReport`. :mod:`~cjkit.contract.draft` drafts a client
YAML from a client's files (``cjkit init-client``).
"""
