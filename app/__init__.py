"""Campus Platform: the enrolment and propagation app."""

__version__ = "0.1.0"
