"""ugc: user-generated content and viewing analytics for an online cinema."""

__version__ = "0.1.0"
