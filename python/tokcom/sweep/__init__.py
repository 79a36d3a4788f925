"""tokcom-sweep: the TokCom paper's Fig. 4 case study over an Es/N0 grid (docs/results.md).

point.py runs one (Es/N0, image chunk) through the project's GNU Radio blocks and is
torch-free; cli.py schedules the points on Dask, adds the classifier metric (torch) and
writes the CSV, the figure and image grids.
"""
