"""Inference methods, one per module: clustered (cluster.py), Conley spatial HAC (conley.py),
randomization inference respecting geography (ri.py)."""
