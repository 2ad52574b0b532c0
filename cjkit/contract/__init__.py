"""The data contract: from a client's files to validated canonical tables.

A client YAML (:mod:`~cjkit.contract.config`, pydantic models with a JSON Schema for
editors) says where the files are and how their columns are named.
:func:`~cjkit.contract.load.load_client` reads each file (:mod:`~cjkit.contract.read`),
parses its columns (:mod:`~cjkit.contract.parse`, with :mod:`~cjkit.contract.numbers` and
:mod:`~cjkit.contract.dates` for the hard kinds, on the helpers of
:mod:`~cjkit.contract.text`), applies the table rules (:mod:`~cjkit.contract.rules`),
validates the result against the pandera schemas (:mod:`~cjkit.contract.schemas`) and tells
what it found, fixed and dropped in a :class:`~cjkit.contract.report.LoadReport`. The result
is kept in the load cache (:mod:`~cjkit.contract.cache`). :mod:`~cjkit.contract.draft`
drafts a client YAML from a client's files (``cjkit init-client``).
"""
