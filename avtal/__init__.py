"""Avtalsassistenten: answers staff questions about the collaboration agreements of Stockholm county."""

__version__ = "0.1.0"
