"""tongban (通办): a digital-society platform for a city or district government."""

__version__ = "0.1.0"
