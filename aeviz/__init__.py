"""aeviz: an interactive laboratory for autoencoders."""
__version__ = "0.1.0"
