"""Build hook of cjkit: the package list and one ``package_dir`` mapping (the rest is pyproject.toml).

The wheel carries the numbered notebooks and the tiny and demo datasets as data of the
package ``cjkit._bundle``, read at run time with importlib (see ``cjkit/resources.py``).
They are committed once, at the top of the repository; the mapping below puts those
folders into the wheel at build time, nothing is copied in the source tree:

    notebooks/                -> cjkit/_bundle/notebooks/       (NN_*.ipynb)
    solutions/, exercises/    -> cjkit/_bundle/solutions/, exercises/ (NN_*.ipynb: self-checks need the key)
    datasets/tiny/, demo/     -> cjkit/_bundle/datasets/tiny/, demo/

Which files go in: ``[tool.setuptools.package-data]`` in pyproject.toml. The package list
lives here because pyproject's ``packages = {find = ...}`` only lists folders of the
source tree and cannot add mapped ones. Editable installs do not use the mapping
(pypa/setuptools#4248): ``cjkit/_bundle/__init__.py`` finds the checkout's folders itself.
"""
from setuptools import find_namespace_packages, setup

#: bundled data package -> the repository folder it is built from
BUNDLE = {
    "cjkit._bundle.notebooks": "notebooks",
    "cjkit._bundle.solutions": "solutions",
    "cjkit._bundle.exercises": "exercises",
    "cjkit._bundle.datasets.tiny": "datasets/tiny",
    "cjkit._bundle.datasets.demo": "datasets/demo",
}

setup(packages=[*find_namespace_packages(include=["cjkit*"], exclude=["*.__pycache__"]), *BUNDLE],
      package_dir=BUNDLE)
