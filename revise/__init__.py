"""revise: put a draft plan out for public comment and turn the comments into the final plan."""

__version__ = "0.1.0"
