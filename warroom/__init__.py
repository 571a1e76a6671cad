"""warroom: a terminal war-room console for the commander of a live incident."""

__version__ = "0.1.0"
