"""Shared core used by every other package: typed input errors (:mod:`core.errors`), bounded YAML
loading and path confinement (:mod:`core.yamlio`), and safe file reading and atomic writes
(:mod:`core.files`). It imports nothing from the rest of BrandForge.
"""
