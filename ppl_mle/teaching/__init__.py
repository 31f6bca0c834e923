"""For teaching.

For teaching: SymPy derivations of the closed forms and the demo on built-in data.
"""
