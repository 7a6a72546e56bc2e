"""sendbot: the platform-free core of the parent carer forum bot."""

__version__ = "0.1.0"
