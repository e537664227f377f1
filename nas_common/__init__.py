"""The bottom layer: what every other package may import and that imports none of them.

It owns the project's one error type for bad user input and the vocabulary shared across packages, so that
no package has to import the search space (or the application) just to raise or resolve something.
"""
