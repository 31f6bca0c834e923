"""Data in.

Data in: files, streaming reductions to sufficient statistics, Dask, and the checks every
input passes.

"""
