"""cjkit: customer-journey analytics and teaching kit."""

__version__ = "0.1.0"
