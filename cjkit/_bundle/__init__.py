"""Data shipped inside the wheel: the numbered notebooks and the tiny and demo datasets.

Read them through :mod:`cjkit.resources`, never by path arithmetic. The folders are
committed once, at the top of the repository (``notebooks/``, ``datasets/``), and are
sub-packages of this one:

* in a wheel, setup.py's ``package_dir`` mapping has copied them next to this file:
  ``cjkit/_bundle/notebooks/``, ``cjkit/_bundle/datasets/{tiny,demo}/``;
* in a git checkout (an editable install, or ``PYTHONPATH=.``) there is nothing next to
  this file: the lines below put the checkout's root on this package's search path, so
  the same imports find the repository's own ``notebooks/`` and ``datasets/`` folders.
  (setuptools' editable installs cannot map a data folder without ``__init__.py`` from
  outside its parent package, pypa/setuptools#4248, hence this one line of our own.)
"""
from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent
_CHECKOUT = _HERE.parents[1]
if (not (_HERE / "notebooks").is_dir() and (_CHECKOUT / "notebooks").is_dir()
        and (_CHECKOUT / "datasets").is_dir()):
    __path__.append(str(_CHECKOUT))
