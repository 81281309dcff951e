"""parcel-clearance: customs clearance decisions for low-value e-commerce parcels."""

__version__ = "0.1.0"
