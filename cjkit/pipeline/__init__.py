"""Notebooks as lessons and reports: parameters, ``start()``, records, runs, HTML, the CLI.

* :mod:`~cjkit.pipeline.params` -- the typed parameters cell, read with or without a kernel;
* :mod:`~cjkit.pipeline.notebook` -- ``cjkit.notebook.start()``, run in the kernel;
* :mod:`~cjkit.pipeline.records` -- named results stored in an executed notebook;
* :mod:`~cjkit.pipeline.results` -- what a run produced (the types run and render share);
* :mod:`~cjkit.pipeline.run` -- ``cjkit run``: execute notebooks on clients;
* :mod:`~cjkit.pipeline.render` -- executed notebook -> self-contained HTML, index pages;
* :mod:`~cjkit.pipeline.cli` -- the ``cjkit`` command.

Analyses never import from here.
"""
