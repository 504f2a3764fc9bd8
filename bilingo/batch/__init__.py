"""Many recordings through the pipeline: job files, per-stage state, local and Dask executors."""
